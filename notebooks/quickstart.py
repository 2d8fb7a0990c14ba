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
# # Quickstart: one scenario
#
# Run one scenario of siyu-sim (a market, a strategy, a population, a seed), then look at
# what it produced: the users (numpy columns), the social graph, the daily series and the
# headline KPIs. Definitions of every series column and KPI: `docs/metrics.md`; the
# mechanisms: `docs/model.md`.
#
# Open `quickstart.ipynb` in JupyterLab (`.venv/bin/jupyter lab notebooks/`, installed by
# setup with the viz extra), or run `quickstart.py` as a plain script: the two are one
# notebook, paired by jupytext, which saves both when you save in JupyterLab (after editing
# one outside it: `.venv/bin/jupytext --sync notebooks/*.ipynb`). `tests/test_notebooks.py`
# runs it with a small population, through the `SIYU_NB_*` variables read below, and checks
# the pair is in sync.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import sim
from sim.core.columns import SEGMENT_NAMES, SOURCE_NAMES, STATE_NAMES  # names of the codes

MARKET = os.environ.get("SIYU_NB_MARKET", "phone")
STRATEGY = os.environ.get("SIYU_NB_STRATEGY", "service_led")
N_USERS = int(os.environ.get("SIYU_NB_N_USERS", "20000"))
DAYS = int(os.environ.get("SIYU_NB_DAYS", "730"))
SEED = 1

# %% [markdown]
# ## Configure
#
# `sim.load_config` composes the Hydra config exactly as `python -m sim OVERRIDES...` would,
# and validates it (an unknown key or a value out of range stops here, with one line
# naming it).

# %%
cfg = sim.load_config([f"market={MARKET}", f"strategy={STRATEGY}",
                       f"population.n_users={N_USERS}", f"days={DAYS}", f"seed={SEED}"])
print(f"market {cfg.market.name}, strategy {cfg.strategy.name}, "
      f"{cfg.population.n_users:,} users, {cfg.days} days, seed {cfg.seed}")
print(f"promotions/week {cfg.strategy.promotion.per_week}, "
      f"discount depth {cfg.strategy.promotion.depth}, "
      f"service resolve prob. {cfg.strategy.service.resolve_prob}")

# %% [markdown]
# ## Build and run
#
# `sim.SiyuModel` is a `mesa.Model`; `step()` advances one day and `run()` runs `cfg.days`.

# %%
model = sim.SiyuModel(cfg)
state0 = pd.Series(model.users.state).map(STATE_NAMES).value_counts()
model.run()
print(f"ran {model.day} days")
pd.DataFrame({"day 0": state0,
              f"day {model.day}": pd.Series(model.users.state).map(STATE_NAMES).value_counts()
              }).fillna(0).astype(int)

# %% [markdown]
# ## Users
#
# One row per simulated user; `model.users` holds the columns. State: prospect, member (in
# the private domain) or churned; segment: Honor's four need tiers; source: how the user
# came into the private domain.

# %%
users = pd.DataFrame({
    "state": pd.Categorical.from_codes(model.users.state, list(STATE_NAMES.values())),
    "segment": pd.Categorical.from_codes(model.users.segment, list(SEGMENT_NAMES)),
    "source": pd.Categorical.from_codes(model.users.source, list(SOURCE_NAMES)),
    "satisfaction": model.users.satisfaction,
})
users.head()

# %%
pd.crosstab(users["segment"], users["state"], margins=True)

# %%
# members' satisfaction by segment, and where today's members came from
members = users[users["state"] == "member"]
print(members.groupby("segment", observed=False)["satisfaction"].describe()[["count", "mean", "std"]])
members["source"].value_counts()

# %% [markdown]
# ## Social graph
#
# CSR arrays: user `i`'s contacts are `indices[indptr[i]:indptr[i+1]]`. Referrals only
# travel along these edges.

# %%
g = model.graph
if g.indptr is None:
    print(f"{g.kind} graph: implicit (everyone knows everyone)")
else:
    degree = np.diff(g.indptr)
    print(f"{g.kind} graph: {len(g.indices) // 2:,} edges, mean degree {degree.mean():.1f}, "
          f"max {degree.max()}")
    print(pd.Series(degree).groupby(users["state"].to_numpy()).mean().rename("mean degree"))

# %% [markdown]
# ## Daily series
#
# `model.series()` returns the DataCollector's columns (one row per day): `n_` stocks,
# `new_` daily flows, `cum_` running totals.

# %%
series = pd.DataFrame(model.series()).set_index("day")
series[["n_members", "n_customers", "n_churned", "new_customers_referral"]].tail()

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.5))
series[["n_members", "n_customers", "n_churned"]].plot(ax=axes[0], title="users")
weekly = series[["new_customers_store", "new_customers_referral"]].groupby(
    (series.index - 1) // 7).sum()
weekly.index = weekly.index * 7 + 1
weekly.plot(ax=axes[1], title="new customers per week by source")
series["cum_revenue"].plot(ax=axes[2], title="cumulative revenue (yuan)")
for ax in axes:
    ax.set_xlabel("day")
fig.tight_layout()

# %% [markdown]
# ## Headline KPIs
#
# `model.summary()`: the KPIs `python -m sim` writes to `summary.json` (`docs/metrics.md`).

# %%
kpis = pd.Series(model.summary())
kpis[["members_start", "members_end", "monthly_churn_rate", "referral_share",
      "repurchase_rate", "purchases", "revenue", "cost", "roi", "nps"]]

# %%
assert len(series) == DAYS and kpis["members_end"] == series["n_members"].iloc[-1]
