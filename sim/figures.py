"""PNG figures of one run, drawn from its saved series (reports read files, not models)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.data.io import write_atomic


def subplots(*args, figsize=(7, 4), **kwargs):
    """A figure and its axes without pyplot: no global state, no backend switch (so a
    notebook's inline plots keep working after a report is drawn). PNGs save as usual."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*args, **kwargs)


def _weekly(x: np.ndarray) -> np.ndarray:
    n = len(x) // 7 * 7
    return x[:n].reshape(-1, 7).sum(axis=1) if n else x


def draw_figures(series: dict[str, np.ndarray], out_dir: Path, title: str) -> list[Path]:


    out_dir.mkdir(parents=True, exist_ok=True)
    day = series["day"]
    paths = []

    def save(fig, name):
        fig.suptitle(title, fontsize=9)
        fig.tight_layout()
        paths.append(write_atomic(out_dir / name, lambda p: fig.savefig(p, format="png", dpi=110)))

    fig, ax = subplots(figsize=(7, 4))
    ax.plot(day, series["n_members"], label="members (active)")
    ax.plot(day, series["n_customers"], label="customers among members")
    ax.plot(day, series["n_churned"], label="churned (cumulative)")
    ax.set_xlabel("day")
    ax.set_ylabel("users")
    ax.legend()
    save(fig, "members.png")

    fig, ax = subplots(figsize=(7, 4))
    weeks = np.arange(len(_weekly(series["new_customers_store"])))
    bottom = np.zeros(len(weeks))
    for source in ("store", "referral", "event"):
        counts = _weekly(series[f"new_customers_{source}"])
        ax.bar(weeks, counts, bottom=bottom, label=f"new customers: {source}", width=1)
        bottom = bottom + counts
    ax.plot(weeks, _weekly(series["new_churned"]), color="k", label="churned")
    ax.set_xlabel("week")
    ax.set_ylabel("users per week")
    ax.legend()
    save(fig, "flows.png")

    fig, axes = subplots(1, 2, figsize=(9, 3.6))
    axes[0].plot(day, series["mean_satisfaction"], label="mean satisfaction")
    axes[0].plot(day, series["mean_fatigue"], label="mean promotion fatigue")
    axes[0].set_xlabel("day")
    axes[0].legend()
    axes[1].plot(day, series["nps"])
    axes[1].set_xlabel("day")
    axes[1].set_ylabel("NPS (members)")
    save(fig, "satisfaction.png")

    fig, ax = subplots(figsize=(7, 4))
    ax.plot(day, series["cum_revenue"], label="revenue (net of discounts)")
    ax.plot(day, series["cum_cost"], label="cost")
    ax.set_xlabel("day")
    ax.set_ylabel("yuan (cumulative)")
    ax.legend()
    save(fig, "money.png")
    return paths
