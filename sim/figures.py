"""PNG figures of one run, drawn from its saved series (reports read files, not models).

Text comes from the translation table (:mod:`sim.i18n`) in the run's ``report.lang``; money
and counts are written as strategists write them (``1,234万`` / ``1.2亿`` in Chinese, ``12.3M``
in English: :func:`sim.i18n.money`), never with matplotlib's ``1e6`` offset. Chinese needs a
CJK font: :func:`cjk_font` picks the first one matplotlib knows; without one, figures fall
back to English labels (a box for every character is worse than English).
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import numpy as np

from sim.data.io import write_png
from sim.i18n import DEFAULT_LANG, money, tr

log = logging.getLogger(__name__)

# CJK font families, best first; any other family with "CJK" in its name also serves.
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
             "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Sarasa Gothic SC", "Microsoft YaHei",
             "PingFang SC", "Heiti SC", "SimHei", "Droid Sans Fallback", "AR PL UMing CN")


@functools.cache
def cjk_font() -> str | None:
    """The font family figures use for Chinese text, else None. This is the one place the
    font is chosen: the CJK font study reports register (``sim.experiments.fonts``, from the
    ``mplfonts`` package or a system Noto/Source Han font), else the first of
    :data:`CJK_FONTS` (or any "CJK" family) matplotlib knows."""
    from matplotlib import font_manager

    try:  # the package font the study reports register (mplfonts' Noto Sans CJK SC)
        from sim.experiments.fonts import cjk_family

        family = cjk_family()
        if family:
            return family
    except ImportError:
        pass
    names = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in names:
            return name
    return next((n for n in sorted(names) if "CJK" in n), None)


def figure_lang(lang: str) -> str:
    """The language figures are drawn in: ``lang``, or English when Chinese has no font."""
    if lang == "zh" and cjk_font() is None:
        log.debug("no CJK font for matplotlib: figures drawn with English labels")
        return "en"
    return lang


def subplots(*args, figsize=(7, 4), lang: str = "en", **kwargs):
    """A figure and its axes without pyplot: no global state, no backend switch (so a
    notebook's inline plots keep working after a report is drawn). PNGs save as usual.
    With ``lang="zh"`` text uses :func:`cjk_font`."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    axes = fig.subplots(*args, **kwargs)
    if lang == "zh" and cjk_font():
        fig._siyu_font = cjk_font()  # applied to every text item when saved (see _apply_font)
    return fig, axes


def _apply_font(fig) -> None:
    family = getattr(fig, "_siyu_font", None)
    if family is None:
        return
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        text.set_fontfamily(["DejaVu Sans", family])  # Latin in DejaVu, 汉字 by fallback


def money_axis(ax, lang: str, which: str = "y") -> None:
    """Tick labels as amounts (万/亿 or k/M/B), no offset or scientific notation."""
    from matplotlib.ticker import FuncFormatter

    axis = ax.yaxis if which == "y" else ax.xaxis
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: money(v, lang)))


def count_axis(ax, lang: str, which: str = "y") -> None:
    """Tick labels as counts written like money (10万 / 100k), no offset."""
    money_axis(ax, lang, which)


def _weekly(x: np.ndarray) -> np.ndarray:
    n = len(x) // 7 * 7
    return x[:n].reshape(-1, 7).sum(axis=1) if n else x


def draw_figures(series: dict[str, np.ndarray], out_dir: Path, title: str,
                 lang: str = DEFAULT_LANG) -> list[Path]:
    """members.png, flows.png, satisfaction.png, money.png into ``out_dir``."""
    lang = figure_lang(lang)
    t = functools.partial(tr, lang=lang)
    if out_dir.is_symlink():
        raise OSError(f"{out_dir} is a symlink; figures are not written through links")
    out_dir.mkdir(parents=True, exist_ok=True)
    day = series["day"]
    paths = []

    def save(fig, name):
        fig.suptitle(title, fontsize=9)
        _apply_font(fig)
        fig.tight_layout()
        paths.append(write_png(out_dir / name, fig))

    fig, ax = subplots(figsize=(7, 4), lang=lang)
    ax.plot(day, series["n_members"], label=t("fig.members_active"))
    ax.plot(day, series["n_customers"], label=t("fig.customers_among"))
    ax.plot(day, series["n_churned"], label=t("fig.churned_cum"))
    ax.set_xlabel(t("fig.day"))
    ax.set_ylabel(t("fig.users"))
    count_axis(ax, lang)
    ax.legend()
    save(fig, "members.png")

    fig, ax = subplots(figsize=(7, 4), lang=lang)
    weeks = np.arange(len(_weekly(series["new_customers_store"])))
    bottom = np.zeros(len(weeks))
    for source in ("store", "referral", "event"):
        counts = _weekly(series[f"new_customers_{source}"])
        ax.bar(weeks, counts, bottom=bottom, width=1,
               label=t("fig.new_customers", source=t(f"fig.source.{source}")))
        bottom = bottom + counts
    ax.plot(weeks, _weekly(series["new_churned"]), color="k", label=t("fig.churned"))
    ax.set_xlabel(t("fig.week"))
    ax.set_ylabel(t("fig.users_per_week"))
    count_axis(ax, lang)
    ax.legend()
    save(fig, "flows.png")

    fig, axes = subplots(1, 2, figsize=(9, 3.6), lang=lang)
    axes[0].plot(day, series["mean_satisfaction"], label=t("fig.mean_satisfaction"))
    axes[0].plot(day, series["mean_fatigue"], label=t("fig.mean_fatigue"))
    axes[0].set_xlabel(t("fig.day"))
    axes[0].legend()
    axes[1].plot(day, series["nps"])
    axes[1].set_xlabel(t("fig.day"))
    axes[1].set_ylabel(t("fig.nps_members"))
    save(fig, "satisfaction.png")

    fig, ax = subplots(figsize=(7, 4), lang=lang)
    ax.plot(day, series["cum_revenue"], label=t("fig.revenue_net"))
    ax.plot(day, series["cum_cost"], label=t("fig.cost"))
    ax.set_xlabel(t("fig.day"))
    ax.set_ylabel(t("fig.money_axis"))
    money_axis(ax, lang)
    ax.legend()
    save(fig, "money.png")
    return paths
