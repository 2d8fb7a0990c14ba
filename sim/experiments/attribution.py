"""Why two bundles differ: a 2^k factorial over lever groups, on common random numbers.

Each seed runs every cell, so each seed gives its own estimate of every effect; effects get
t intervals over seeds, like every paired difference here. Three readings of one design:

- **Shapley shares**: the total difference (challenger cell 1...1 minus baseline cell
  0...0) split among the factors, each factor's marginal effect averaged over the orders in
  which the factors can be switched; they add up exactly to the total, so "of the +1.2M,
  service +0.9M" is well defined even with interactions.
- **main effects**: the average effect of switching one factor, over all settings of the
  others (classic 2^k factorial, -1/+1 coding);
- **two-way interactions**: half the difference between a factor's effect with the other
  factor on and off. An interaction "matters" when its CI excludes 0 or it is at least 10%
  of the total.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from sim.experiments.stats import t_interval

MATTERS = 0.10  # share of the total above which an interaction is shown even if n.s.


def _shapley_weights(k: int) -> dict[int, float]:
    return {s: math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k)
            for s in range(k)}


def effects_of(y: dict[tuple[int, ...], float], k: int) -> dict[tuple[str, tuple[int, ...]],
                                                                  float]:
    """All effects of one complete factorial ``y`` {cell bits: value}: ('total', ()),
    ('shapley', (j,)), ('main', (j,)), ('interaction', (j, l))."""
    cells = list(itertools.product((0, 1), repeat=k))
    out = {("total", ()): y[(1,) * k] - y[(0,) * k]}
    w = _shapley_weights(k)
    for j in range(k):
        phi = 0.0
        for c in cells:
            if c[j] == 0:
                on = list(c)
                on[j] = 1
                phi += w[sum(c)] * (y[tuple(on)] - y[c])
        out[("shapley", (j,))] = phi
    scale = 1 / 2 ** (k - 1)
    for j in range(k):
        out[("main", (j,))] = scale * sum(y[c] * (1 if c[j] else -1) for c in cells)
    for j, m in itertools.combinations(range(k), 2):
        out[("interaction", (j, m))] = scale * sum(
            y[c] * (1 if c[j] else -1) * (1 if c[m] else -1) for c in cells)
    return out


def factorial_effects(sweep, kpi: str, lang: str | None = None):
    """Per stratum and effect: mean over seeds with its 95% CI, share of the total."""
    import pandas as pd

    design = sweep.design or {}
    factors = list(design.get("factors", {}))
    if lang is not None:
        from sim.experiments.analysis import factor_label

        factors = [factor_label(f, lang) for f in factors]
    k = len(factors)
    cell_of = {p["id"]: tuple(int(b) for b in p["info"]["cell"]) for p in design["points"]}
    rows = []
    for stratum, df in sweep.runs.groupby("stratum", sort=False):
        per_seed: dict[tuple, list[float]] = {}
        n_complete = 0
        for _, g in df.groupby("seed"):
            y = {cell_of[a]: float(v) for a, v in zip(g["arm"], g[kpi], strict=True)
                 if a in cell_of and v is not None and math.isfinite(float(v))}
            if len(y) < 2 ** k:
                continue
            n_complete += 1
            for key, v in effects_of(y, k).items():
                per_seed.setdefault(key, []).append(v)
        if not per_seed:
            continue
        total = float(np.mean(per_seed[("total", ())]))
        for (kind, idx), vals in per_seed.items():
            ci = t_interval(vals)
            rows.append({"stratum": stratum, "kind": kind,
                         "term": " x ".join(factors[i] for i in idx) or "total",
                         "factors": [factors[i] for i in idx], "n": ci.n, "mean": ci.mean,
                         "lo": ci.lo, "hi": ci.hi, "significant": ci.significant,
                         "share": ci.mean / total if total else math.nan,
                         "matters": kind != "interaction" or ci.significant
                         or (total != 0 and abs(ci.mean) >= MATTERS * abs(total))})
    return pd.DataFrame(rows)
