"""What the dashboard's download buttons give: the daily series and the summary.

* ``series.csv``: one row per scenario, seed and day, every column of
  :meth:`sim.SiyuModel.series` (named as in docs/metrics.md), after ``scenario``,
  ``strategy`` and ``seed``.
* ``summary.json``: the settings (market, presets, levers, users, seeds, days run), each
  scenario's :meth:`sim.SiyuModel.summary` per seed and its mean over seeds, and, when
  comparing, the paired ``arm - baseline`` differences with their 95% intervals over seeds.
"""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np

import sim
from sim.dashboard.plots import differences


def series_csv(dash) -> bytes:
    snap = dash.snapshot()
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    header_written = False
    for scenario, runs in snap["series"].items():
        for seed, s in zip(dash.seeds, runs, strict=True):
            if not s:
                continue
            cols = list(s)
            if not header_written:
                w.writerow(["scenario", "strategy", "seed", *cols])
                header_written = True
            strategy = dash.strategy_of(scenario)
            for i in range(len(s[cols[0]])):
                w.writerow([scenario, strategy, seed, *(_cell(s[c][i]) for c in cols)])
    if not header_written:
        w.writerow(["scenario", "strategy", "seed", "day"])
    return out.getvalue().encode("utf-8")


def summary_dict(dash) -> dict:
    snap = dash.snapshot()
    scenarios = {}
    for scenario, runs in snap["summary"].items():
        keys = sorted({k for r in runs for k in r if _is_number(r[k])})
        mean = {k: _clean(float(np.mean([r[k] for r in runs if _is_number(r.get(k))])))
                for k in keys}
        scenarios[scenario] = {
            "strategy": dash.strategy_of(scenario),
            "levers": dash.lever_values if scenario == "arm" else {},
            "levers_moved": {k: {"preset": a, "arm": b} for k, (a, b) in
                             dash.lever_changes.items()} if scenario == "arm" else {},
            "per_seed": {str(s): {k: _clean(v) for k, v in r.items()}
                         for s, r in zip(dash.seeds, runs, strict=True)},
            "mean": mean,
        }
    out = {
        "siyu_sim_version": sim.__version__,
        "day": dash.day, "days": dash.days, "market": dash.market, "dealer": dash.dealer,
        "channel": dash.channel, "graph": dash.graph_kind, "n_users": dash.n_users,
        "seeds": dash.seeds, "scenarios": scenarios,
    }
    diffs = differences(dash)
    if diffs:
        out["arm_minus_baseline"] = {
            k: {"mean": _clean(ci.mean), "ci95": [_clean(ci.lo), _clean(ci.hi)], "n": ci.n,
                "significant": ci.significant} for k, ci in diffs.items()}
    return out


def summary_json(dash) -> bytes:
    return json.dumps(summary_dict(dash), indent=2, ensure_ascii=False).encode("utf-8")


def _is_number(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def _clean(x):
    """JSON-safe: numpy scalars to Python, NaN/inf to None."""
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    return x


def _cell(x):
    x = _clean(x.item() if hasattr(x, "item") else x)
    return "" if x is None else x
