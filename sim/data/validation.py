"""Known results the model must reduce to (DESIGN.md, Validation).

* The Bass curve (Bass 1969) and its daily-step counterpart. The model steps in days: a
  prospect adopts on a day with probability ``1 - exp(-(p + q F))``, ``F`` read at the start
  of the day, so as the population grows its adopter share converges to the discrete map
  :func:`bass_discrete`, which differs from the continuous curve :func:`bass_curve` by the
  discretisation error (small when ``p + q`` per day is small; Fibich, Golan & Schochet 2023).
* Retention: with a constant churn hazard the survival of a cohort is exponential; with
  heterogeneous hazards the retention rate of survivors rises with tenure (Fader & Hardie
  2007). :func:`cohort_survival` computes survival by tenure from the user columns.
"""

from __future__ import annotations

import numpy as np


def bass_curve(p: float, q: float, t: np.ndarray) -> np.ndarray:
    """Continuous Bass F(t) = (1 - e^-(p+q)t) / (1 + (q/p) e^-(p+q)t) (t in days, p, q per day)."""
    t = np.asarray(t, dtype=np.float64)
    e = np.exp(-(p + q) * t)
    return (1 - e) / (1 + (q / p) * e)


def bass_discrete(p: float, q: float, days: int, f0: float = 0.0) -> np.ndarray:
    """Adopter share after each of ``days`` daily steps of the model's adoption rule."""
    out = np.empty(days)
    f = f0
    for d in range(days):  # a scalar recursion over days (not users)
        f = f + (1 - f) * -np.expm1(-(p + q * f))
        out[d] = f
    return out


def cohort_survival(join_day: np.ndarray, churn_day: np.ndarray, days: int,
                    horizon: int) -> np.ndarray:
    """Share of a joined cohort still a member after each tenure 0..horizon-1 (days).

    Only users who joined early enough to be observed for the whole horizon count, so the
    curve is not biased by censoring.
    """
    ok = (join_day >= 0) & (join_day + horizon <= days)
    if not ok.any():
        return np.full(horizon, np.nan)
    life = np.where(churn_day[ok] >= 0, churn_day[ok] - join_day[ok], np.iinfo(np.int32).max)
    return np.array([(life > t).mean() for t in range(horizon)])
