"""KPIs at horizons (30, 90, 180, 365, 730 days, capped at the run's length) and the day two
arms cross, read from each run's daily series (series.parquet).

Money KPIs are cumulative from day 1 to the horizon; ``members`` is the stock on that day;
``churn_30d`` the churn of the 30 days before it (% of members, as in the report's
figures). Differences are paired by seed within a stratum, like every comparison here.
"""

from __future__ import annotations

import math

import numpy as np

from sim.data.io import read_parquet
from sim.experiments.stats import paired_difference

# (name, format, better): the horizon KPIs
HORIZON_KPIS = [("cum_incremental_gross_profit", "money", +1),
                ("cum_gross_profit", "money", +1), ("cum_revenue", "money", +1),
                ("cum_cost", "money", -1), ("members", "count", +1), ("churn_30d", "pct", -1)]


def _rolling_sum(x: np.ndarray, window: int) -> np.ndarray:
    c = np.cumsum(x)
    out = c.copy()
    out[window:] = c[window:] - c[:-window]
    return out


def _gross_profit(margin: float, revenue, discount, fees, cost):
    """The summary's gross profit formula (sim/core), applied to cumulative curves."""
    try:
        from sim.core.counterfactual import gross_profit
    except ImportError:  # a model without discounts out of margin
        return margin * revenue + fees - cost
    return gross_profit(margin, revenue, discount, fees, cost)


def _cum(f: dict[str, np.ndarray], name: str, like: np.ndarray) -> np.ndarray:
    return np.cumsum(f[name]) if name in f else np.zeros_like(like)


def series_kpis(series: dict[str, np.ndarray], margin: float,
                counterfactual: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Daily curves of the horizon KPIs from one run's series (and, for a run with
    ``counterfactual=true``, its counterfactual's series: incremental gross profit, brand-wide,
    as in the summary)."""
    f = {k: np.asarray(v, dtype=float) for k, v in series.items()
         if np.issubdtype(np.asarray(v).dtype, np.number)}
    rev = np.cumsum(f["new_revenue"])
    args = (_cum(f, "new_discount", rev), _cum(f, "new_fee_revenue", rev),
            np.cumsum(f["new_cost"]))
    members = f["n_members"]
    churn = 30 * _rolling_sum(f["new_churned"], 30) / np.maximum(_rolling_sum(members, 30), 1)
    out = {"cum_gross_profit": _gross_profit(margin, rev, *args), "cum_revenue": rev,
           "cum_cost": args[2], "members": members, "churn_30d": churn}
    if counterfactual is not None and "new_public_revenue" in f:
        c = {k: np.asarray(v, dtype=float) for k, v in counterfactual.items()
             if np.issubdtype(np.asarray(v).dtype, np.number)}
        brand = rev + np.cumsum(f["new_public_revenue"])
        c_rev = np.cumsum(c["new_revenue"]) + _cum(c, "new_public_revenue", brand)
        n = min(len(brand), len(c_rev))
        c_args = (_cum(c, "new_discount", c_rev), _cum(c, "new_fee_revenue", c_rev),
                  np.cumsum(c["new_cost"]))
        out["cum_incremental_gross_profit"] = (
            _gross_profit(margin, brand, *args)[:n] - _gross_profit(margin, c_rev, *c_args)[:n])
    return out


class Curves:
    """Cached horizon curves per run dir of a sweep."""

    def __init__(self, sweep) -> None:
        self.sweep, self.cache = sweep, {}

    def __call__(self, run_dir: str) -> dict[str, np.ndarray]:
        if run_dir not in self.cache:
            import json

            root = self.sweep.root / run_dir
            cfg = json.loads((root / "summary.json").read_text()).get("config", {})
            margin = float(cfg.get("market", {}).get("gross_margin", 0.0))
            cf = root / "counterfactual.parquet"
            self.cache[run_dir] = series_kpis(read_parquet(root / "series.parquet"), margin,
                                              read_parquet(cf) if cf.exists() else None)
        return self.cache[run_dir]


def horizon_days(horizons: list[int], days: int) -> list[int]:
    return [h for h in horizons if h < days] + [days]


def _pairs(runs, base: str, arm: str) -> list[tuple[int, str, str]]:
    a = runs[runs["arm"] == arm].set_index("seed")["run_dir"]
    b = runs[runs["arm"] == base].set_index("seed")["run_dir"]
    return [(int(s), a[s], b[s]) for s in sorted(set(a.index) & set(b.index))]


def horizon_table(sweep, base: str, arm: str, horizons: list[int], curves: Curves | None = None):
    """Per stratum, horizon KPI and day: both arms' means and the paired difference (arm -
    base) with its 95% CI over seeds."""
    import pandas as pd

    curves = curves or Curves(sweep)
    rows = []
    for stratum, df in sweep.runs.groupby("stratum", sort=False):
        pairs = _pairs(df, base, arm)
        if not pairs:
            continue
        days = int(df["days"].iloc[0])
        present = curves(pairs[0][1])
        for name, fmt, better in [k for k in HORIZON_KPIS if k[0] in present]:
            for h in horizon_days(horizons, days):
                va = {s: float(curves(a)[name][h - 1]) for s, a, _ in pairs}
                vb = {s: float(curves(b)[name][h - 1]) for s, _, b in pairs}
                d = paired_difference(va, vb)
                rows.append({"stratum": stratum, "arm": arm, "baseline": base, "kpi": name,
                             "format": fmt, "better": better, "day": h,
                             "base_mean": float(np.mean(list(vb.values()))),
                             "arm_mean": float(np.mean(list(va.values()))), "n_pairs": d.n,
                             "diff": d.mean, "diff_lo": d.lo, "diff_hi": d.hi,
                             "significant": d.significant})
    return pd.DataFrame(rows)


def crossing(sweep, base: str, arm: str, kpi: str = "cum_gross_profit",
             curves: Curves | None = None) -> dict[str, dict]:
    """Per stratum: the mean paired difference curve (arm - base) of ``kpi`` and the day
    from which its sign no longer changes (None if it never changes sign), with the range
    of the same day over seeds."""
    curves = curves or Curves(sweep)
    out = {}
    for stratum, df in sweep.runs.groupby("stratum", sort=False):
        pairs = _pairs(df, base, arm)
        if not pairs:
            continue
        diffs = [curves(a)[kpi] - curves(b)[kpi] for _, a, b in pairs]
        n = min(len(d) for d in diffs)
        m = np.vstack([d[:n] for d in diffs])
        mean = m.mean(axis=0)
        per_seed = [_cross_day(row) for row in m]
        seen = [d for d in per_seed if d is not None]
        out[stratum] = {"day": _cross_day(mean), "mean": mean, "matrix": m,
                        "seed_days": per_seed,
                        "seed_range": (min(seen), max(seen)) if seen else None,
                        "end_sign": int(np.sign(mean[-1])) if math.isfinite(mean[-1]) else 0}
    return out


def _cross_day(d: np.ndarray) -> int | None:
    """First day (1-based) from which the sign of ``d`` stays that of its last day; None
    when it has that sign throughout (no crossing) or ends at 0."""
    s = np.sign(d)
    end = s[-1]
    if end == 0:
        return None
    other = np.nonzero(s == -end)[0]  # days at 0 (nothing happened yet) do not count
    if len(other) == 0:
        return None
    return int(other[-1]) + 2  # the day after the last day with the other sign
