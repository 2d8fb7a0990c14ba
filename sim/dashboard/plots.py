"""KPI plots and the KPI table of the dashboard, read from each scenario's public outputs.

Series come from :meth:`sim.SiyuModel.series` (the DataCollector's columns, named as in
docs/metrics.md) and headline numbers from :meth:`sim.SiyuModel.summary`; nothing here
recomputes model logic.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

Series = dict[str, np.ndarray]

# name -> (title, y label, series -> values); cumulative flows are cumulated from `new_` columns
# (counts: integer y ticks; cumulative: y from 0)
KPI_PLOTS: dict[str, tuple[str, str, Callable[[Series], np.ndarray]]] = {
    "members": ("Members in the private domain", "users", lambda s: s["n_members"]),
    "churn": ("Churned members (cumulative)", "users", lambda s: s["n_churned"]),
    "referrals": ("New customers by referral (cumulative)", "users",
                  lambda s: np.cumsum(s["new_customers_referral"])),
    "repurchase": ("Repeat purchases (cumulative)", "purchases",
                   lambda s: np.cumsum(s["new_repeat_purchases"])),
    "revenue": ("Revenue (cumulative)", "yuan", lambda s: s["cum_revenue"]),
    "satisfaction": ("Mean member satisfaction", "0-1", lambda s: s["mean_satisfaction"]),
}

CUMULATIVE = ("churn", "referrals", "repurchase", "revenue")
COUNTS = ("members", "churn", "referrals", "repurchase")

STYLES = ({"color": "#1f77b4", "linestyle": "-"}, {"color": "#ff7f0e", "linestyle": "--"})


def series(model) -> Series:
    """A scenario's daily series; empty columns before the first step."""
    if model.day == 0:
        return {}
    return model.series()


def kpi_png(scenarios: dict, name: str, dpi: int = 80) -> bytes:
    """PNG of one KPI over the days, one line per scenario."""
    title, ylabel, fn = KPI_PLOTS[name]
    fig = Figure(figsize=(5.2, 4.0), dpi=dpi)
    ax = fig.subplots()
    empty = True
    for style, (label, model) in zip(STYLES, scenarios.items(), strict=False):
        s = series(model)
        if s:
            ax.plot(s["day"], fn(s), label=label, linewidth=1.4, **style)
            empty = False
        else:
            ax.plot([], [], label=label, **style)
    if empty:
        ax.text(0.5, 0.5, "day 0: press Step or Play", ha="center", va="center",
                transform=ax.transAxes, color="#777")
        ax.set_xlim(0, 1)
        ax.set_yticks([])
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("day", fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    if not empty and name in CUMULATIVE:
        top = max(float(np.nanmax(fn(series(m)))) for m in scenarios.values())
        top = max(1.0, 1.05 * top)
        ax.set_ylim(-0.02 * top, top)
    if name in COUNTS:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if name == "revenue":
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 5))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _num(x, kind: str) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    x = float(x)
    if kind in ("pct", "pp"):  # pp: a difference of two rates, in percentage points
        v = round(100 * x, 1) + 0.0  # + 0.0: no "-0.0"
        return f"{v:.1f}%" if kind == "pct" else f"{v:.1f} pp"
    if kind == "ratio":
        return f"{round(x, 2) + 0.0:.2f}"
    return f"{round(x) + 0:,}"


# table rows: (label, summary key or series column, kind)
TABLE_ROWS = (
    ("Members", "members_end", "int"),
    ("Customers (members)", "customers_end", "int"),
    ("Churned members", "n_churned", "int"),
    ("Monthly churn rate", "monthly_churn_rate", "pct"),
    ("Customers by referral", "new_customers_referral", "int"),
    ("Referral share", "referral_share", "pct"),
    ("Repurchase rate", "repurchase_rate", "pct"),
    ("Purchases", "purchases", "int"),
    ("Revenue (yuan)", "revenue", "money"),
    ("Cost (yuan)", "cost", "money"),
    ("ROI", "roi", "ratio"),
    ("NPS", "nps", "score"),
)


def kpis(model) -> dict:
    """Headline KPIs of a scenario so far: ``summary()`` plus the churned stock."""
    if model.day == 0:
        return {}
    out = dict(model.summary())
    out["n_churned"] = float(model.series()["n_churned"][-1])
    return out


def kpi_table(dash) -> tuple[list[str], list[str], list[list[str]]]:
    """(caption lines, header, rows) of a :class:`~sim.dashboard.model.DashboardModel`'s KPIs.

    With two scenarios a last column gives B - A (rates in percentage points).
    """
    from sim.dashboard.model import LEVERS

    labels = dash.labels
    values = [kpis(m) for m in dash.scenarios.values()]
    header = ["KPI", *labels] + (["B - A"] if len(labels) == 2 else [])
    caption = [f"Day {dash.day} of {dash.days} · market {dash.market} · graph "
               f"{dash.graph_kind} · {dash.n_users:,} users · seed {dash.seed}"]
    caption.append("A's levers: " + ", ".join(
        f"{LEVERS[k].short} "
        + (f"{dash.lever_changes[k][0]:g} → {v:g}" if k in dash.lever_changes else f"{v:g}")
        for k, v in dash.lever_values.items()))
    rows = []
    for label, key, kind in TABLE_ROWS:
        row = [label] + [_num(v.get(key), kind) for v in values]
        if len(values) == 2:
            a, b = values[0].get(key), values[1].get(key)
            ok = all(isinstance(v, (int, float)) and math.isfinite(v) for v in (a, b))
            diff = (b - a) if ok else None
            shown = _num(diff, "pp" if kind == "pct" else kind)
            row.append(("+" if ok and diff > 0 and shown.strip("0.,% p") else "") + shown)
        rows.append(row)
    return caption, header, rows



def kpi_table_html(dash) -> str:
    from html import escape

    caption, header, rows = kpi_table(dash)
    cap = "".join(f'<div class="siyu-caption">{escape(c)}</div>' for c in caption)
    th = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return (f'{cap}<table class="siyu-kpis"><thead><tr>{th}</tr></thead>'
            f"<tbody>{body}</tbody></table>")
