"""Retention by cohort: who is still in the private domain m months after joining.

A cohort is the month a user joined: 0 for the initial members (day 0), k for users who
joined on days 30(k-1)+1 .. 30k. For each cohort and each tenure month m the table counts
the users observed for at least m months (``n_at_risk``: joined at least 30 m days before
the end of the run) and how many of them had not churned 30 m days after joining
(``n_retained``). Counts are additive, so cohorts can be pooled and seeds summed before
dividing; counts are in real users (x ``population.scale``) like every other output.
"""

from __future__ import annotations

import numpy as np

MONTH = 30  # days per cohort month (the same month as monthly_churn_rate)


def cohort_table(users, days: int, scale: int = 1) -> dict[str, np.ndarray]:
    """Long table (cohort, month, n_at_risk, n_retained) from the users' columns."""
    join = np.asarray(users.join_day, dtype=np.int64)
    churn = np.asarray(users.churn_day, dtype=np.int64)
    ever = join >= 0
    join, churn = join[ever], churn[ever]
    cohort = np.where(join == 0, 0, (join - 1) // MONTH + 1)
    tenure = np.where(churn >= 0, churn - join, np.iinfo(np.int64).max)  # days in the domain
    observed = days - join                                              # days observable
    n_cohorts = int(cohort.max()) + 1 if len(cohort) else 0
    rows_c, rows_m, at_risk, retained = [], [], [], []
    for c in range(n_cohorts):
        in_c = cohort == c
        if not in_c.any():
            continue
        obs_c, ten_c = observed[in_c], tenure[in_c]
        for m in range(int(obs_c.max()) // MONTH + 1):
            seen = obs_c >= m * MONTH
            n = int(seen.sum())
            if n == 0:
                break
            rows_c.append(c)
            rows_m.append(m)
            at_risk.append(n)
            retained.append(int((ten_c[seen] > m * MONTH).sum()))
    return {
        "cohort": np.asarray(rows_c, dtype=np.int32),
        "month": np.asarray(rows_m, dtype=np.int32),
        "n_at_risk": scale * np.asarray(at_risk, dtype=np.int64),
        "n_retained": scale * np.asarray(retained, dtype=np.int64),
    }
