"""Pinned fixed-seed regression baseline: the KPIs of a few runs must not move.

Any change to the model's numbers (a mechanism, a default, the order of draws) shows up
here. If the change is intended, regenerate the baseline and commit it with the change:

    python tests/test_baseline.py --update
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from pathlib import Path

import pytest

BASELINE = Path(__file__).resolve().with_name("baseline.json")
UPDATE_CMD = "python tests/test_baseline.py --update"
RTOL = 1e-9
# name -> the command-line overrides of `python -m sim` for that run
CASES = {
    "service_led_3000x365_seed7": ["strategy=service_led", "population.n_users=3000", "days=365",
                                   "seed=7"],
    "promotion_heavy_3000x365_seed7": ["strategy=promotion_heavy", "population.n_users=3000",
                                       "days=365", "seed=7"],
}
NOT_KPIS = ("timing", "code_version", "config")  # wall time, provenance, the inputs


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):  # numpy scalar
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def compute(overrides: list[str]) -> dict:
    """The KPIs of one run, as summary.json stores them."""
    import sim
    from sim.run import run

    cfg = sim.load_config([*overrides, "output.figures=false", "output.progress=false"])
    with tempfile.TemporaryDirectory() as out:
        summary = run(cfg, out, echo=None).summary
    return _jsonable({k: v for k, v in summary.items() if k not in NOT_KPIS})


def compare(expected: dict, actual: dict) -> list[str]:
    """Differences: integers and strings exactly, floats to RTOL, null only with null."""
    diffs = []
    for key in sorted(expected.keys() | actual.keys()):
        if key not in actual:
            diffs.append(f"{key}: missing from the run (baseline {expected[key]!r})")
            continue
        if key not in expected:
            diffs.append(f"{key}: new KPI {actual[key]!r} not in the baseline")
            continue
        e, a = expected[key], actual[key]
        if isinstance(e, float) and isinstance(a, (int, float)) and not isinstance(a, bool):
            ok = math.isclose(a, e, rel_tol=RTOL, abs_tol=0.0)
        else:  # int, str, bool, None, nested: exact, and the same JSON type
            ok = type(a) is type(e) and a == e
        if not ok:
            diffs.append(f"{key}: baseline {e!r}, now {a!r}")
    return diffs


def load_baseline() -> dict:
    return json.loads(BASELINE.read_text())


@pytest.mark.parametrize("name", list(CASES))
def test_kpis_match_the_pinned_baseline(name):
    baseline = load_baseline()
    assert name in baseline["runs"], (
        f"no baseline for {name!r} in {BASELINE.name}; create it with: {UPDATE_CMD}")
    entry = baseline["runs"][name]
    assert entry["overrides"] == CASES[name], (
        f"the overrides of {name!r} changed since the baseline was made; regenerate it with: "
        f"{UPDATE_CMD}")
    diffs = compare(entry["kpis"], compute(CASES[name]))
    if diffs:
        pytest.fail(
            f"KPIs of `python -m sim {' '.join(CASES[name])}` differ from tests/{BASELINE.name} "
            f"(made at git {baseline.get('code_version', {}).get('git')}):\n  "
            + "\n  ".join(diffs)
            + "\nIf this model change is intended, regenerate the baseline with\n"
            + f"    {UPDATE_CMD}\n"
            "and commit tests/baseline.json together with the change; otherwise it is a "
            "regression.",
            pytrace=False,
        )


def test_baseline_runs_are_not_degenerate():
    """A baseline of empty runs would pin nothing: each must have members, sales and cost."""
    for name, entry in load_baseline()["runs"].items():
        k = entry["kpis"]
        assert k["members_end"] > 0 and k["purchases"] > 0 and k["revenue"] > 0, name
        assert k["cost"] > 0 and k["new_customers_referral"] > 0, name


def update() -> None:
    from sim.version import code_version

    data = {
        "_comment": "Pinned KPIs of fixed-seed runs, checked by tests/test_baseline.py. "
                    f"Regenerate with `{UPDATE_CMD}` only when a model change is intended.",
        "rtol": RTOL,
        "code_version": code_version(),
        "runs": {name: {"overrides": ov, "kpis": compute(ov)} for name, ov in CASES.items()},
    }
    BASELINE.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {BASELINE}")
    for name, entry in data["runs"].items():
        print(f"  {name}: " + ", ".join(f"{k}={v}" for k, v in entry["kpis"].items()
                                        if k in ("members_end", "purchases", "revenue", "roi")))


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit(f"usage: {UPDATE_CMD}   (rewrites {BASELINE} from the current code)")
    update()
