# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Strategy comparison on common random numbers
#
# Two strategies, run on the same seeds: on one seed both see the same population, the
# same social graph and every random draw their mechanisms do not change (common random
# numbers, `docs/model.md`), so the per-seed difference B - A is the effect of the strategy
# with little noise. This notebook runs each (strategy, seed) with `sim.run(cfg, out_dir)`,
# then works only from the files those runs wrote (`summary.json`, `series.parquet`), as
# an analysis of finished runs would.
#
# Parameters come from `SIYU_NB_*` variables so `tests/test_notebooks.py` can run it small;
# runs whose `summary.json` exists are not run again.

# %%
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

import sim

ROOT = Path(sim.__file__).resolve().parent.parent
MARKET = os.environ.get("SIYU_NB_MARKET", "phone")
N_USERS = int(os.environ.get("SIYU_NB_N_USERS", "10000"))
DAYS = int(os.environ.get("SIYU_NB_DAYS", "730"))
SEEDS = list(range(1, 1 + int(os.environ.get("SIYU_NB_SEEDS", "8"))))
OUT = Path(os.environ.get("SIYU_NB_OUT", ROOT / "outputs" / "notebooks" / "strategy_comparison"))

# the strategy presets there are (conf/strategy/*.yaml); A and B: the two to compare
available = sorted(p.stem for p in (ROOT / "conf" / "strategy").glob("*.yaml"))
default_pair = "promotion_heavy,service_led"
if not set(default_pair.split(",")) <= set(available):
    default_pair = ",".join(available[:2])
A, B = os.environ.get("SIYU_NB_PAIR", default_pair).split(",")
assert {A, B} <= set(available) and A != B, f"choose two of {available}"
print(f"strategies available: {', '.join(available)}; comparing A={A} with B={B}")
print(f"market {MARKET}, {N_USERS:,} users, {DAYS} days, seeds {SEEDS}, outputs in {OUT}")

# %% [markdown]
# ## Run
#
# One run directory per (strategy, seed). `summary.json` is written last, so its presence
# marks a finished run.

# %%
def run_dir(strategy: str, seed: int) -> Path:
    return OUT / f"{MARKET}_{N_USERS}u_{DAYS}d" / strategy / f"seed{seed}"


for strategy in (A, B):
    for seed in SEEDS:
        out = run_dir(strategy, seed)
        if (out / "summary.json").exists():
            continue
        cfg = sim.load_config([f"market={MARKET}", f"strategy={strategy}",
                               f"population.n_users={N_USERS}", f"days={DAYS}", f"seed={seed}",
                               "output.figures=false", "output.progress=false"])
        sim.run(cfg, out, echo=False)
print(sorted(str(p.relative_to(OUT)) for p in OUT.glob("*/*/*/summary.json")))

# %% [markdown]
# ## Read the outputs

# %%
summaries = []
series = {}
for strategy in (A, B):
    for seed in SEEDS:
        out = run_dir(strategy, seed)
        s = json.loads((out / "summary.json").read_text())
        assert s["strategy"] == strategy and s["seed"] == seed
        summaries.append({"strategy": strategy, "seed": seed,
                          **{k: v for k, v in s.items() if not isinstance(v, dict)}})
        series[strategy, seed] = pd.read_parquet(out / "series.parquet").set_index("day")
kpis = pd.DataFrame(summaries).set_index(["strategy", "seed"])
KPIS = [k for k in ("members_end", "monthly_churn_rate", "referral_share", "repurchase_rate",
                    "purchases", "revenue", "cost", "gross_profit", "roi", "nps")
        if k in kpis.columns]
kpis[KPIS].groupby(level="strategy").mean().transpose()

# %% [markdown]
# ## Paired differences B - A
#
# For each seed, B's KPI minus A's. The mean difference with a 95% t-interval over seeds;
# "paired sd" is the spread of the per-seed differences, "unpaired sd" the spread a
# difference of independent runs would have: the ratio shows what common random numbers buy.

# %%
a = kpis.loc[A, KPIS].astype(float)
b = kpis.loc[B, KPIS].astype(float)
diff = b - a  # indexed by seed
n = len(SEEDS)
t = stats.t.ppf(0.975, n - 1) if n > 1 else np.nan
table = pd.DataFrame({
    f"mean {A}": a.mean(), f"mean {B}": b.mean(), "mean B - A": diff.mean(),
    "ci95 low": diff.mean() - t * diff.std(ddof=1) / np.sqrt(n),
    "ci95 high": diff.mean() + t * diff.std(ddof=1) / np.sqrt(n),
    "seeds B > A": (diff > 0).sum().astype(int),
    "paired sd": diff.std(ddof=1),
    "unpaired sd": np.sqrt(a.var(ddof=1) + b.var(ddof=1)),
})
table.round(4)

# %%
fig, axes = plt.subplots(2, (len(KPIS) + 1) // 2, figsize=(3 * ((len(KPIS) + 1) // 2), 6))
for ax, k in zip(axes.flat, KPIS, strict=False):
    d = diff[k].to_numpy()
    ax.axhline(0, color="0.6", linewidth=0.8)
    ax.scatter(np.zeros(n) + np.linspace(-0.15, 0.15, n), d, s=18, color="C0", zorder=3)
    lo, hi = table.loc[k, "ci95 low"], table.loc[k, "ci95 high"]
    ax.errorbar([0.4], [d.mean()], yerr=[[d.mean() - lo], [hi - d.mean()]], fmt="o",
                color="C3", capsize=4)
    ax.set_title(k, fontsize=9)
    ax.set_xticks([])
    ax.set_xlim(-0.5, 0.8)
for ax in list(axes.flat)[len(KPIS):]:
    ax.set_visible(False)
fig.suptitle(f"{B} - {A}: per-seed differences (blue) and mean with 95% CI (red)")
fig.tight_layout()

# %% [markdown]
# ## Over time
#
# The per-seed difference in members and in cumulative revenue, day by day.

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
for col, ax in zip(("n_members", "cum_revenue"), axes, strict=True):
    d = pd.DataFrame({seed: series[B, seed][col] - series[A, seed][col] for seed in SEEDS})
    ax.plot(d.index, d.to_numpy(), color="C0", alpha=0.3, linewidth=0.8)
    ax.plot(d.index, d.mean(axis=1), color="C3", linewidth=2, label="mean over seeds")
    ax.axhline(0, color="0.6", linewidth=0.8)
    ax.set_title(f"{col}: {B} - {A}")
    ax.set_xlabel("day")
    ax.legend()
fig.tight_layout()

# %%
# the same seed gives both strategies the same population: day-0 stocks agree
for seed in SEEDS:
    assert kpis.loc[(A, seed), "members_start"] == kpis.loc[(B, seed), "members_start"]
assert len(diff) == len(SEEDS) and all(len(s) == DAYS for s in series.values())
