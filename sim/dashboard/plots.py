"""KPI plots and the KPI table of the dashboard, from a :class:`DashboardModel` snapshot.

Series come from :meth:`sim.SiyuModel.series` (named as in docs/metrics.md) and headline
numbers from :meth:`sim.SiyuModel.summary`; nothing here recomputes model logic. Each plot
shows, per scenario, the mean over seeds and the range over seeds as a band. The images carry
numbers only: titles, units and legends are HTML around them (``sim.i18n``), so Chinese text
needs no font in matplotlib.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.dashboard.model import mean_band
from sim.data.io import png_bytes
from sim.experiments.stats import paired_difference, t_interval
from sim.i18n import TEXT, money, tr

Series = dict[str, np.ndarray]

# name -> (i18n key of the title, unit kind, series -> values); cumulative flows are cumulated
# from `new_` columns
KPI_PLOTS: dict[str, tuple[str, str, Callable[[Series], np.ndarray]]] = {
    "members": ("dash.plot.members", "users", lambda s: s["n_members"]),
    "churn": ("dash.plot.churn", "users", lambda s: s["n_churned"]),
    "referrals": ("dash.plot.referrals", "users",
                  lambda s: np.cumsum(s["new_customers_referral"])),
    "repurchase": ("dash.plot.repurchase", "purchases",
                   lambda s: np.cumsum(s["new_repeat_purchases"])),
    "revenue": ("dash.plot.revenue", "money", lambda s: s["cum_revenue"]),
    "satisfaction": ("dash.plot.satisfaction", "score", lambda s: s["mean_satisfaction"]),
}
CUMULATIVE = ("churn", "referrals", "repurchase", "revenue")

COLORS = {"baseline": "#5b6b7f", "arm": "#e8590c"}
STYLES = {"baseline": "-", "arm": "-"}

# money scales: (divisor, i18n key of the unit)
MONEY_SCALES = {"zh": ((1e8, "dash.unit.yi_yuan"), (1e4, "dash.unit.wan_yuan"),
                       (1.0, "dash.unit.yuan")),
                "en": ((1e9, "dash.unit.b_yuan"), (1e6, "dash.unit.m_yuan"),
                       (1e3, "dash.unit.k_yuan"), (1.0, "dash.unit.yuan"))}


def t(key: str, lang: str, **fmt) -> str:
    return tr(key, lang, **fmt)


def label(key: str, lang: str) -> str:
    """A KPI's name: the shared ``kpi.*`` text, else the dashboard's own ``dash.kpi.*``."""
    return tr(f"kpi.{key}" if f"kpi.{key}" in TEXT else f"dash.kpi.{key}", lang)


def preset_label(group: str, name: str, lang: str) -> str:
    """A preset's display name (``dash.preset.<group>.<name>``), else its file name."""
    key = f"dash.preset.{group}.{name}"
    return tr(key, lang) if key in TEXT else name


def scenario_label(dash, scenario: str, lang: str) -> str:
    """``Baseline: promotion_heavy`` / ``Arm: service_led + levers``, in ``lang``."""
    text = t(f"dash.{scenario}", lang) + ": " + preset_label(
        "strategy", dash.strategy_of(scenario), lang)
    if scenario == "arm" and dash.lever_changes:
        text += " + " + t("dash.levers_moved", lang)
    return text


def money_scale(top: float, lang: str) -> tuple[float, str]:
    for div, key in MONEY_SCALES[lang]:
        if top >= 10 * div or div == 1.0:
            return div, t(key, lang)
    return 1.0, t("dash.unit.yuan", lang)


def unit_text(name: str, lang: str, snap: dict) -> str:
    """The y unit of a plot (money: scaled to the values shown)."""
    kind = KPI_PLOTS[name][1]
    if kind == "money":
        return money_scale(_top(snap, name), lang)[1]
    return t(f"dash.unit.{kind}", lang)


def _top(snap: dict, name: str) -> float:
    fn = KPI_PLOTS[name][2]
    tops = [float(np.nanmax(fn(s))) for runs in snap["series"].values() for s in runs if s]
    return max(tops, default=0.0)


def kpi_png(snap: dict, name: str, lang: str = "zh", dpi: int = 80) -> bytes | None:
    """PNG of one KPI over the days: per scenario the mean over seeds and the seed range.

    ``None`` at day 0 (nothing to draw: the page shows a note instead of empty axes).
    """
    if not snap["day"]:
        return None
    fn = KPI_PLOTS[name][2]
    div = money_scale(_top(snap, name), lang)[0] if KPI_PLOTS[name][1] == "money" else 1.0
    fig = Figure(figsize=(5.0, 3.1), dpi=dpi)
    ax = fig.subplots()
    for scenario, runs in snap["series"].items():
        day = runs[0]["day"]
        mean, lo, hi = mean_band([fn(s) / div for s in runs])
        color = COLORS[scenario]
        if len(runs) > 1:
            ax.fill_between(day, lo, hi, color=color, alpha=0.22, linewidth=0)
        ax.plot(day, mean, color=color, linestyle=STYLES[scenario], linewidth=1.6)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
    if name in CUMULATIVE:
        ax.set_ylim(bottom=0)
    if KPI_PLOTS[name][1] in ("users", "purchases"):
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.ticklabel_format(axis="y", style="plain", useOffset=False)
    # fixed margins: tight_layout would double the cost of a redraw
    fig.subplots_adjust(left=0.13, right=0.97, top=0.96, bottom=0.1)
    return png_bytes(fig)


# ------------------------------------------------------------------------------- KPI table

# (summary key, format, direction that is better for the brand: +1 higher, -1 lower, 0 neither)
TABLE_ROWS = (
    ("members_end", "int", +1),
    ("customers_end", "int", +1),
    ("n_churned", "int", -1),
    ("monthly_churn_rate", "pct", -1),
    ("new_customers_referral", "int", +1),
    ("referral_share", "pct", +1),
    ("repurchase_rate", "pct", +1),
    ("purchases", "int", +1),
    ("revenue", "money", +1),
    ("cost", "money", -1),
    ("gross_profit", "money", +1),
    ("roi", "ratio", +1),
    ("nps", "score", +1),
)


def fmt(x, kind: str, lang: str, signed: bool = False) -> str:
    """A number as the table shows it (``kind``: int, pct, pp, money, ratio, score)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return t("dash.na", lang)
    x = float(x)
    sign = "+" if signed and x > 0 else ""
    if kind in ("pct", "pp"):
        v = round(100 * x, 1) + 0.0  # + 0.0: no "-0.0"
        sign = "+" if signed and v > 0 else ""
        return f"{sign}{v:.1f}%" if kind == "pct" else f"{sign}{v:.1f} {t('dash.pp', lang)}"
    if kind == "money":
        return sign + money(x, lang)
    if kind in ("ratio", "score"):
        v = round(x, 2) + 0.0
        return f"{'+' if signed and v > 0 else ''}{v:.2f}" if kind == "ratio" else \
            f"{'+' if signed and round(x, 1) > 0 else ''}{round(x, 1) + 0.0:.1f}"
    v = round(x) + 0
    return f"{'+' if signed and v > 0 else ''}{v:,}"


def differences(dash) -> dict[str, object]:
    """Paired ``arm - baseline`` intervals over seeds, per table KPI (empty without an arm)."""
    snap = dash.snapshot()
    if "arm" not in snap["summary"] or not snap["day"]:
        return {}
    out = {}
    for key, _, _ in TABLE_ROWS:
        arm = {s: r.get(key) for s, r in zip(dash.seeds, snap["summary"]["arm"], strict=True)}
        base = {s: r.get(key) for s, r in zip(dash.seeds, snap["summary"]["baseline"],
                                              strict=True)}
        out[key] = paired_difference(arm, base)
    return out


def verdict(ci, better: int) -> str:
    """``better`` / ``worse`` / ``higher`` / ``lower`` when the interval excludes 0, else
    ``ns`` (not significant) or ``one_seed`` (no interval)."""
    if ci.n < 2 or not math.isfinite(ci.lo):
        return "one_seed"
    if not ci.significant:
        return "ns"
    up = ci.mean > 0
    if better == 0:
        return "higher" if up else "lower"
    return "better" if up == (better > 0) else "worse"


def kpi_table(dash, lang: str = "zh") -> tuple[list[str], list[str], list[list[str]], list[str]]:
    """(caption lines, header, rows, row classes) of the KPIs so far.

    Columns: KPI, baseline (mean over seeds), and when comparing: arm, ``arm - baseline`` with
    its paired 95% interval over seeds, and the verdict.
    """

    snap = dash.snapshot()
    names = list(snap["summary"])
    header = [t("dash.col.kpi", lang)] + [scenario_label(dash, n, lang) for n in names]
    if "arm" in names:
        header += [t("dash.col.diff", lang), t("dash.col.verdict", lang)]
    seeds = (f"{dash.seeds[0]}" if len(dash.seeds) == 1
             else f"{dash.seeds[0]}–{dash.seeds[-1]}")
    caption = [t("dash.caption", lang, day=dash.day, days=dash.days,
                 market=preset_label("market", dash.market, lang),
                 graph=preset_label("graph", dash.graph_kind, lang), n_users=f"{dash.n_users:,}",
                 n_seeds=len(dash.seeds), seeds=seeds)]
    if "arm" in names and dash.lever_values:
        parts = []
        for k, v in dash.lever_values.items():
            name = t(f"dash.lever.{k}", lang)
            parts.append(f"{name} {dash.lever_changes[k][0]:g} → {v:g}" if k in dash.lever_changes
                         else f"{name} {v:g}")
        caption.append(t("dash.arm_levers", lang) + ": " + ", ".join(parts))
    if "arm" in names:
        caption.append(t("dash.diff_note", lang, n=len(dash.seeds)))
    diffs = differences(dash)
    rows, classes = [], []
    for key, kind, better in TABLE_ROWS:
        row = [label(key, lang)]
        for n in names:
            vals = [r.get(key) for r in snap["summary"][n]]
            row.append(fmt(t_interval(vals).mean, kind, lang) if snap["day"] else
                       t("dash.na", lang))
        cls = ""
        if "arm" in names:
            ci = diffs.get(key)
            if ci is None or ci.n == 0:
                row += [t("dash.na", lang), ""]
            else:
                dkind = "pp" if kind == "pct" else kind
                text = fmt(ci.mean, dkind, lang, signed=True)
                if ci.n >= 2 and math.isfinite(ci.lo):
                    text += f" [{fmt(ci.lo, dkind, lang, signed=True)}, " \
                            f"{fmt(ci.hi, dkind, lang, signed=True)}]"
                cls = verdict(ci, better)
                row += [text, t(f"dash.verdict.{cls}", lang)]
        rows.append(row)
        classes.append(cls)
    return caption, header, rows, classes


def kpi_table_html(dash, lang: str = "zh") -> str:
    caption, header, rows, classes = kpi_table(dash, lang)
    cap = "".join(f'<div class="siyu-caption">{escape(c)}</div>' for c in caption)
    th = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        f'<tr class="siyu-{cls or "plain"}">' + "".join(f"<td>{escape(c)}</td>" for c in r)
        + "</tr>" for r, cls in zip(rows, classes, strict=True))
    return (f'{cap}<table class="siyu-kpis"><thead><tr>{th}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def legend_html(dash, lang: str = "zh") -> str:
    """Scenario colours and what the band means, for the plot grid."""
    items = "".join(
        f'<span class="siyu-key"><span class="siyu-swatch" style="background:{COLORS[n]}">'
        f"</span>{escape(scenario_label(dash, n, lang))}</span>" for n in dash.names)
    band = t("dash.band", lang, n=len(dash.seeds)) if len(dash.seeds) > 1 else \
        t("dash.one_seed_line", lang)
    return f'<div class="siyu-legend">{items}<span class="siyu-band">{escape(band)}</span></div>'
