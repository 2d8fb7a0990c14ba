"""A CJK font for the reports' figures, registered with matplotlib when a report is drawn.

matplotlib ships no Chinese glyphs: without a CJK font every 汉字 is drawn as an empty box
("tofu"). The ``sweep`` extra installs ``mplfonts``, a PyPI package that ships Noto Sans CJK
SC (SIL Open Font License) as an .otf; we register that file by path (matplotlib's
``fontManager.addfont``), without running mplfonts' own installer. A system Noto/Source Han
CJK font (e.g. Debian's fonts-noto-cjk) is used when the package is absent.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
from pathlib import Path

from matplotlib import font_manager, rc_context

PACKAGE_FONT = "NotoSansCJKsc-Regular.otf"  # in mplfonts/fonts/
SYSTEM_GLOBS = ["/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                "/usr/share/fonts/**/NotoSansCJK*Regular*", "/usr/share/fonts/**/SourceHanSans*",
                "/usr/share/fonts/**/wqy-*.tt?"]
FALLBACK = "DejaVu Sans"  # matplotlib's own font, for Latin text and digits

_family: str | None = None
_searched = False


def font_path() -> Path | None:
    """The CJK font file to use, or None if none is installed."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is not None and spec.origin:
        p = Path(spec.origin).parent / "fonts" / PACKAGE_FONT
        if p.exists():
            return p
    for pattern in SYSTEM_GLOBS:
        hits = sorted(glob.glob(pattern, recursive=True))
        if hits:
            return Path(hits[0])
    return None


def cjk_family() -> str | None:
    """Register the CJK font with matplotlib (once) and return its family name."""
    global _family, _searched
    if not _searched:
        _searched = True
        path = font_path()
        if path is not None:
            font_manager.fontManager.addfont(str(path))
            _family = font_manager.FontProperties(fname=str(path)).get_name()
    return _family


def missing_hint() -> str:
    return ("no CJK font: pip install 'siyu-sim[sweep]' (mplfonts ships Noto Sans CJK SC) "
            "or apt-get install fonts-noto-cjk")


@contextlib.contextmanager
def figure_fonts(lang: str):
    """rc settings under which figures are drawn: Latin text in DejaVu Sans, CJK glyphs
    from the CJK font (matplotlib falls back per glyph along the family list)."""
    family = cjk_family()
    fams = [FALLBACK, family] if family else [FALLBACK]
    if lang == "zh" and family is None:
        import warnings

        warnings.warn(f"Chinese figure labels will show as boxes: {missing_hint()}",
                      stacklevel=2)
    # a list of families (not "sans-serif"): matplotlib falls back glyph by glyph only
    # along font.family itself
    with rc_context({"font.family": fams, "axes.unicode_minus": False}):
        yield


def missing_glyphs(fig) -> list[str]:
    """Characters of the figure's texts that none of their fonts has (drawn as boxes)."""
    from matplotlib.ft2font import FT2Font
    from matplotlib.text import Text

    missing = []
    cache: dict[str, FT2Font] = {}
    for t in fig.findobj(Text):
        s = t.get_text()
        if not s or not t.get_visible():
            continue
        paths = font_manager.fontManager._find_fonts_by_props(t.get_fontproperties())
        fonts = [cache.setdefault(str(p), FT2Font(str(p))) for p in paths]
        for ch in s:
            if ch.isspace() or ch == "$":
                continue
            if not any(f.get_char_index(ord(ch)) for f in fonts):
                missing.append(ch)
    return sorted(set(missing))
