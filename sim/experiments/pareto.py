"""What to do: the optimiser's trials, their Pareto front and a runnable preset per point.

Every trial (a setting of the levers) ran on the same strata and seeds as the two presets,
so its differences from the baseline are paired by (stratum, seed) and get 95% CIs. A point
is on the front when no other feasible point (within the cost budget, if any) is at least
as good on both objectives and better on one. The recommended point is, of the front, the
one best on the first objective among those not worse than the baseline on the second
(else the best on the first): a rule stated in the report, not a view of which bundle wins.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

from sim.experiments.stats import paired_difference
from sim.experiments.study import KPIS


def trial_table(sweep, objectives: list[str]):
    """One row per point: role, settings, mean objectives and cost, paired differences from
    the baseline with CIs, feasibility, Pareto membership."""
    import pandas as pd

    d = sweep.design
    runs = sweep.runs
    budget = d.get("budget")
    key = runs["stratum"].astype(str) + "|" + runs["seed"].astype(str)
    base = runs[runs["arm"] == "baseline"]
    base_by = {obj: dict(zip(key[base.index], base[obj].astype(float), strict=True))
               for obj in [*objectives, "cost"]}
    rows = []
    for p in d["points"]:
        g = runs[runs["arm"] == p["id"]]
        if g.empty:
            continue
        row = {"point": p["id"], "role": p["info"].get("role", "trial"),
               "trial": p["info"].get("trial"), "settings": p["info"].get("settings", {}),
               "n": len(g), "cost": float(g["cost"].mean())}
        for obj in objectives:
            row[obj] = float(g[obj].mean())
            ci = paired_difference(dict(zip(key[g.index], g[obj].astype(float), strict=True)),
                                   base_by[obj])
            row.update({f"{obj}:diff": ci.mean, f"{obj}:lo": ci.lo, f"{obj}:hi": ci.hi})
        row["feasible"] = budget is None or row["cost"] <= float(budget)
        rows.append(row)
    t = pd.DataFrame(rows).drop_duplicates("point")
    t["pareto"] = _front(t, objectives)
    return t


def _front(t, objectives: list[str]) -> list[bool]:
    sign = np.array([KPIS[o][1] or 1 for o in objectives], float)
    v = t[objectives].to_numpy(float) * sign  # larger is better on every column
    ok = t["feasible"].to_numpy(bool) & np.all(np.isfinite(v), axis=1)
    out = []
    for i in range(len(t)):
        if not ok[i]:
            out.append(False)
            continue
        dominated = any(ok[j] and np.all(v[j] >= v[i]) and np.any(v[j] > v[i])
                        for j in range(len(t)) if j != i)
        out.append(not dominated)
    return out


def recommend(t, objectives: list[str]):
    """The front's point best on objective 1 among those not worse than the baseline on
    objective 2; None if the front is empty."""
    front = t[t["pareto"]]
    if front.empty:
        return None
    o1, o2 = objectives
    s1, s2 = KPIS[o1][1] or 1, KPIS[o2][1] or 1
    base = t[t["role"] == "baseline"]
    ok = front
    if not base.empty and math.isfinite(float(base[o2].iloc[0])):
        ok = front[s2 * front[o2] >= s2 * float(base[o2].iloc[0])]
        if ok.empty:
            ok = front
    return ok.loc[(s1 * ok[o1]).idxmax()]


def preset_yaml(baseline: str, point: str, settings: dict[str, float]) -> str:
    """A strategy preset (conf/strategy/ format): the baseline's file with the settings."""
    from sim.paths import group_dir

    node = OmegaConf.load(group_dir("strategy") / f"{baseline}.yaml")
    node.name = point
    for k, v in settings.items():
        OmegaConf.update(node, k.removeprefix("strategy."), v, force_add=True)
    return (f"# Optimiser trial {point}: the {baseline} preset with the levers below changed.\n"
            f"# Copy to conf/strategy/{point}.yaml and run: python -m sim strategy={point}\n"
            + OmegaConf.to_yaml(node))


def command(baseline: str, settings: dict[str, float]) -> str:
    return "python -m sim strategy=" + baseline + "".join(
        f" {k}={v:g}" for k, v in settings.items())


def write_presets(root: Path, baseline: str, t) -> list[Path]:
    from sim.data.io import write_atomic

    out = []
    for _, r in t[t["pareto"] & (t["role"] == "trial")].iterrows():
        text = preset_yaml(baseline, r["point"], r["settings"])
        out.append(write_atomic(root / "presets" / f"{r['point']}.yaml",
                                lambda p, text=text: p.write_text(text)))
    return out
