"""Paired comparison of arms run on the same seeds (common random numbers).

Each seed gives one paired difference d_s = KPI(arm, s) - KPI(baseline, s). Because both arms
share the population, the graph and every draw their mechanisms do not change, d_s carries
the arm's effect and little noise. The mean difference gets a Student t interval over seeds:
mean(d) +- t(0.975, n-1) * sd(d) / sqrt(n). A difference whose interval contains 0 is not
significant at the 5% level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    """Mean of ``n`` values with its two-sided ``level`` t interval [lo, hi]."""

    n: int
    mean: float
    sd: float
    lo: float
    hi: float

    @property
    def significant(self) -> bool:
        """True when the interval excludes 0 (undefined intervals are never significant)."""
        return bool(self.lo > 0 or self.hi < 0)


def t_interval(values, level: float = LEVEL) -> Interval:
    """Mean and t interval of finite ``values`` (NaN/None dropped); n < 2 gives a NaN interval."""
    x = np.asarray([v for v in values if v is not None], dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return Interval(0, math.nan, math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if n == 1:
        return Interval(1, mean, math.nan, math.nan, math.nan)
    sd = float(x.std(ddof=1))
    from scipy import stats  # here, not at import: a sweep's workers import this package

    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return Interval(n, mean, sd, mean - half, mean + half)


def paired_difference(arm: dict, baseline: dict, level: float = LEVEL) -> Interval:
    """t interval of ``arm[seed] - baseline[seed]`` over the seeds both have a value for."""
    diffs = []
    for seed in sorted(set(arm) & set(baseline)):
        a, b = arm[seed], baseline[seed]
        if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)):
            continue
        diffs.append(a - b)
    return t_interval(diffs, level)
