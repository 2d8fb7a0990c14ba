"""PNG figures of one run, drawn from its saved series (reports read files, not models)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.io import write_atomic


def _weekly(x: np.ndarray) -> np.ndarray:
    n = len(x) // 7 * 7
    return x[:n].reshape(-1, 7).sum(axis=1) if n else x


def draw_figures(series: dict[str, np.ndarray], out_dir: Path, title: str) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    day = series["day"]
    paths = []

    def save(fig, name):
        fig.suptitle(title, fontsize=9)
        fig.tight_layout()
        paths.append(write_atomic(out_dir / name, lambda p: fig.savefig(p, format="png", dpi=110)))
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(day, series["n_members"], label="members (active)")
    ax.plot(day, series["n_customers"], label="customers among members")
    ax.plot(day, series["n_churned"], label="churned (cumulative)")
    ax.set_xlabel("day")
    ax.set_ylabel("users")
    ax.legend()
    save(fig, "members.png")

    fig, ax = plt.subplots(figsize=(7, 4))
    weeks = np.arange(len(_weekly(series["new_customers_store"])))
    ax.bar(weeks, _weekly(series["new_customers_store"]), label="new customers: store", width=1)
    ax.bar(weeks, _weekly(series["new_customers_referral"]),
           bottom=_weekly(series["new_customers_store"]), label="new customers: referral", width=1)
    ax.plot(weeks, _weekly(series["new_churned"]), color="k", label="churned")
    ax.set_xlabel("week")
    ax.set_ylabel("users per week")
    ax.legend()
    save(fig, "flows.png")

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    axes[0].plot(day, series["mean_satisfaction"], label="mean satisfaction")
    axes[0].plot(day, series["mean_fatigue"], label="mean promotion fatigue")
    axes[0].set_xlabel("day")
    axes[0].legend()
    axes[1].plot(day, series["nps"])
    axes[1].set_xlabel("day")
    axes[1].set_ylabel("NPS (members)")
    save(fig, "satisfaction.png")

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(day, series["cum_revenue"], label="revenue (net of discounts)")
    ax.plot(day, series["cum_cost"], label="cost")
    ax.set_xlabel("day")
    ax.set_ylabel("yuan (cumulative)")
    ax.legend()
    save(fig, "money.png")
    return paths
