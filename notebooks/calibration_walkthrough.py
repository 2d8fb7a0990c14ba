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
# # Calibration walkthrough
#
# Fit a preset's free parameters to a figure from the cases, with the calibration API
# (`sim.calibration`, docs/calibration.md). Here: the phone preset's personal-WeChat friend
# churn should give members a monthly churn of ~5.5% under service-led groups (seed 002:
# personal WeChat friend churn 5-6%). The same seeds serve every trial (common random
# numbers), so trials differ only by their parameters; the Optuna study lives in a SQLite
# file in the output dir, so running this again resumes it instead of starting over.
#
# `tests/test_notebooks.py` runs it small through the `SIYU_NB_*` variables read below.

# %%
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import sim
from sim.calibration import Arm, Param, Problem, Target, calibrate

N_USERS = int(os.environ.get("SIYU_NB_N_USERS", "10000"))
DAYS = int(os.environ.get("SIYU_NB_DAYS", "365"))
TRIALS = int(os.environ.get("SIYU_NB_TRIALS", "12"))
OUT = Path(os.environ.get("SIYU_NB_OUT", "outputs/notebooks")) / "calibration_walkthrough"

# %% [markdown]
# ## The problem: one free parameter, one target

# %%
problem = Problem(
    name="phone_walkthrough",
    market="phone",
    title="Phone members' monthly churn under service-led groups",
    params=(Param("channels.personal_wechat.monthly_churn", 0.02, 0.15,
                  why="personal-WeChat friend churn (the channel's base rate)"),),
    arms=(Arm("service_led", ("strategy=service_led",)),),
    targets=(Target("monthly churn", "service_led", "monthly_churn_rate", 0.055, 0.005,
                    source="seed 002: personal WeChat friend churn 5-6%",
                    how="summary monthly_churn_rate of members"),),
    n_users=N_USERS, days=DAYS, seeds=(1, 2), check_seeds=(11, 12),
)

# %%
result = calibrate(problem, OUT, trials=TRIALS, echo=None)
result.start, result.best

# %% [markdown]
# ## Convergence: the best objective so far, by trial

# %%
history = pd.DataFrame(result.history)
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(history["trial"], history["objective"].cummin(), marker="o")
ax.set_xlabel("trial")
ax.set_ylabel("best objective so far")
ax.set_yscale("log")
fig

# %% [markdown]
# ## The target, before and after, on fresh seeds the fit never saw

# %%
rows = []
for name, values in result.check.get("calibrated", {}).items():
    start = result.check["start"][name]
    rows.append({"target": name, "value": problem.targets[0].value,
                 "start preset (mean)": sum(start) / len(start),
                 "calibrated (mean)": sum(values) / len(values)})
pd.DataFrame(rows)

# %% [markdown]
# ## Use the fitted value like any other override

# %%
key, value = next(iter(result.best.items()))
cfg = sim.load_config(["market=phone", "strategy=service_led", f"{key}={value}",
                       f"population.n_users={N_USERS}", f"days={DAYS}", "seed=7"])
model = sim.SiyuModel(cfg)
model.run()
print(f"{key}={value:.4f}: monthly churn {model.summary()['monthly_churn_rate']:.3f} (seed 7)")
print("files written by the calibration:", sorted(p.name for p in OUT.iterdir()))
print(json.dumps({k: round(v, 4) for k, v in result.best.items()}))
