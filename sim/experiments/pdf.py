"""report.pdf beside report.html: the same page printed by a headless Chromium, else the
executive summary and the figures laid out by matplotlib.

Chromium (Debian's ``chromium`` package; never a downloaded browser) prints the report's own
print layout (A4, the executive summary alone on page 1, every folded section open). It
gets the CJK font as a local ``@font-face`` so Chinese text prints without system fonts.
Without Chromium the PDF holds the executive summary and the figures (pages rendered as
images, so fonts need no embedding) and its first page says what was missing.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import textwrap
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PDF = "report.pdf"


def find_browser() -> str | None:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def _print_html(doc: str) -> str:
    from sim.experiments.fonts import font_path

    doc = doc.replace("<details>", "<details open>")
    font = font_path()
    if font is not None:
        face = (f"@font-face{{font-family:'Noto Sans CJK SC';src:url('{font.as_uri()}');"
                "font-display:block}"
                "body{font-family:Helvetica,Arial,'Noto Sans CJK SC',sans-serif}")
        doc = doc.replace("</style>", face + "</style>", 1)
    return doc


def chromium_pdf(doc: str, out: Path, browser: str, timeout: float = 180) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(_print_html(doc), encoding="utf-8")
        target = Path(tmp) / PDF
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
               "--allow-file-access-from-files", f"--user-data-dir={tmp}/profile",
               "--virtual-time-budget=15000",  # let the CJK font load before printing
               f"--print-to-pdf={target}", page.as_uri()]
        try:
            subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return False
        if not target.exists() or target.stat().st_size == 0:
            return False
        shutil.move(str(target), out)
        return True


def matplotlib_pdf(built, out: Path, note: str) -> None:
    """Executive summary page(s) then one page per figure, each an A4 image."""
    import matplotlib.image as mpimg
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    from sim.experiments.fonts import figure_fonts

    a4 = (8.27, 11.69)
    lines = [note, ""]
    for para in built.summary.text().splitlines():
        width = 46 if built.lang == "zh" else 95
        lines += textwrap.wrap(para, width=width, subsequent_indent="    ") or [""]
    with figure_fonts(built.lang), PdfPages(out) as pdf:
        for start in range(0, len(lines), 60):
            fig = Figure(figsize=a4)
            fig.text(0.07, 0.95, "\n".join(lines[start:start + 60]), va="top", ha="left",
                     fontsize=9, linespacing=1.5)
            pdf.savefig(_raster(fig))
        for name, png in built.images.items():
            fig = Figure(figsize=a4)
            img = mpimg.imread(io.BytesIO(png))
            ax = fig.add_axes((0.05, 0.3, 0.9, 0.6))
            ax.imshow(img)
            ax.set_axis_off()
            caption = built.captions.get(name.split("_")[0], "")
            fig.text(0.07, 0.27, "\n".join(textwrap.wrap(caption, 46 if built.lang == "zh"
                                                         else 100)), va="top", fontsize=9)
            pdf.savefig(_raster(fig))


def _raster(fig):
    """The figure as a page holding its own PNG (no font embedding in the PDF)."""
    import matplotlib.image as mpimg
    from matplotlib.figure import Figure

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150)
    page = Figure(figsize=fig.get_size_inches())
    ax = page.add_axes((0, 0, 1, 1))
    ax.imshow(mpimg.imread(io.BytesIO(buf.getvalue())))
    ax.set_axis_off()
    return page


def write_pdf(built, browser: str | None = "auto") -> Path:
    """Write report.pdf beside report.html; return its path. Prints what was missing when
    it falls back to the summary-and-figures layout."""
    from sim.data.io import write_atomic
    from sim.experiments.analysis import T

    out = built.path.parent / PDF
    browser = find_browser() if browser == "auto" else browser
    if browser:
        try:
            return write_atomic(out, lambda p: _require(chromium_pdf(built.html, p, browser)))
        except RuntimeError:
            print(f"siyu-sim: {browser} could not print the report; falling back")
    note = T("pdf.summary_only", built.lang)
    print(f"siyu-sim: {note}")
    write_atomic(out, lambda p: matplotlib_pdf(built, p, note))
    return out


def _require(ok: bool) -> None:
    if not ok:
        raise RuntimeError("chromium did not print")
