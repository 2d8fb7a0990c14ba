"""End-to-end tests of ``python -m sim``: a good run writes whole, valid files; bad input
exits 2 with one line on stderr, no traceback, and creates nothing on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

REPO = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FIGURES = {"members.png", "flows.png", "satisfaction.png", "money.png"}
REQUIRED_KEYS = (
    "n_users", "days", "seed", "members_end", "customers_end", "monthly_churn_rate",
    "churned_share", "repurchase_rate", "referral_share", "purchases", "revenue", "cost", "roi",
    "nps", "top20_revenue_share", "code_version", "config",
)
EXIT_CONFIG = 2

# The good run every test in the first half of this file inspects.
N_USERS, DAYS, SEED, DEPTH = 1500, 60, 11, 0.2
GOOD_OVERRIDES = [
    "strategy=promotion_heavy",
    f"population.n_users={N_USERS}",
    f"days={DAYS}",
    f"seed={SEED}",
    f"strategy.promotion.depth={DEPTH}",
    "output.progress=false",
    "report.lang=en",
]


def run_sim(cwd: Path, *overrides: str) -> subprocess.CompletedProcess:
    """``python -m sim OVERRIDES`` in ``cwd``, importing this checkout's ``sim``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["MPLBACKEND"] = "Agg"
    return subprocess.run([sys.executable, "-m", "sim", *overrides], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def tree(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``root`` (relative path -> (bytes, mtime_ns)), and every directory."""
    out: dict[str, tuple[bytes, int]] = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        if p.is_dir():
            out[rel + "/"] = (b"", 0)
        else:
            out[rel] = (p.read_bytes(), p.stat().st_mtime_ns)
    return out


def strict_json(text: str) -> dict:
    """Parse JSON refusing NaN/Infinity (not JSON: other readers reject them)."""
    def no_constant(name):
        raise ValueError(f"non-standard JSON constant {name} in summary.json")
    return json.loads(text, parse_constant=no_constant)


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli")
    run_dir = base / "run"
    proc = run_sim(base, *GOOD_OVERRIDES, f"hydra.run.dir={run_dir}")
    assert proc.returncode == 0, f"python -m sim failed:\n{proc.stderr}"
    return base, run_dir, proc


# ------------------------------------------------------------------ a good run


def test_run_exits_zero_and_writes_summary_series_and_figures(good_run):
    _, run_dir, proc = good_run
    assert proc.returncode == 0
    assert "Traceback" not in proc.stderr
    assert (run_dir / "summary.json").is_file()
    assert (run_dir / "series.parquet").is_file()
    assert {p.name for p in (run_dir / "figures").glob("*.png")} == FIGURES


def test_summary_json_has_every_kpi_and_echoes_the_overrides(good_run):
    import sim

    _, run_dir, _ = good_run
    s = strict_json((run_dir / "summary.json").read_text())
    missing = [k for k in REQUIRED_KEYS if k not in s]
    assert not missing, f"summary.json lacks {missing}"
    assert (s["n_users"], s["days"], s["seed"]) == (N_USERS, DAYS, SEED)
    assert s["strategy"] == "promotion_heavy" and s["market"] == "phone"
    cfg = s["config"]
    assert cfg["population"]["n_users"] == N_USERS
    assert cfg["days"] == DAYS and cfg["seed"] == SEED
    assert cfg["strategy"]["name"] == "promotion_heavy"
    assert cfg["strategy"]["promotion"]["depth"] == DEPTH  # the command-line override
    # from conf/strategy/promotion_heavy.yaml
    assert cfg["strategy"]["promotion"]["per_week"] == 4.0
    assert s["code_version"]["package"] == sim.__version__
    # counts are integers, rates are shares
    for key in ("members_end", "customers_end", "purchases"):
        assert isinstance(s[key], int) and not isinstance(s[key], bool), key
    assert 0 <= s["customers_end"] <= s["members_end"] <= N_USERS
    for key in ("monthly_churn_rate", "churned_share", "repurchase_rate", "referral_share",
                "top20_revenue_share"):
        assert s[key] is None or 0.0 <= s[key] <= 1.0, (key, s[key])
    assert -100.0 <= s["nps"] <= 100.0
    assert s["revenue"] >= 0 and s["cost"] > 0
    assert s["roi"] == pytest.approx(s["gross_profit"] / s["cost"], rel=1e-12)


def test_series_parquet_has_one_row_per_day_consistent_with_summary(good_run):
    _, run_dir, _ = good_run
    table = pq.read_table(run_dir / "series.parquet")
    assert table.num_rows == DAYS
    col = {name: table.column(name).to_numpy() for name in table.column_names}
    assert np.array_equal(col["day"], np.arange(1, DAYS + 1))
    s = strict_json((run_dir / "summary.json").read_text())
    assert int(col["n_members"][-1]) == s["members_end"]
    assert int(col["cum_purchases"][-1]) == s["purchases"]
    assert float(col["cum_revenue"][-1]) == pytest.approx(s["revenue"], rel=1e-9)
    assert float(col["cum_cost"][-1]) == pytest.approx(s["cost"], rel=1e-9)


def test_figures_are_complete_png_files(good_run):
    _, run_dir, _ = good_run
    for png in sorted((run_dir / "figures").glob("*.png")):
        data = png.read_bytes()
        assert data[:8] == PNG_MAGIC, f"{png.name} is not a PNG"
        assert data[12:16] == b"IHDR", f"{png.name}: first chunk is not IHDR"
        assert data[-8:-4] == b"IEND", f"{png.name} is truncated (no IEND chunk)"


def test_stdout_has_the_human_summary_and_the_output_path(good_run):
    _, run_dir, proc = good_run
    out = proc.stdout
    assert (f"siyu-sim: market=phone strategy=promotion_heavy n_users={N_USERS:,} days={DAYS} "
            f"seed={SEED}") in out
    for word in ("members", "churn", "repurchase", "revenue", "ROI", "NPS"):
        assert word in out, word
    assert f"files: {run_dir}/summary.json" in out


def test_no_temporary_files_left_in_the_run_dir(good_run):
    _, run_dir, _ = good_run
    leftovers = [p for p in run_dir.rglob("*")
                 if p.name.startswith(".") and p.name.endswith(".tmp")]
    assert leftovers == []


# ------------------------------------------------------------------ bad input


def _edge_file(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text)
    return path


def _malformed(tmp: Path) -> list[str]:
    path = _edge_file(tmp, "edges_bad.txt", "0 1\n1 2\n2 x\n3 4\n")
    return ["graph=edge_list", f"graph.path={path}", "population.n_users=100"]


def _out_of_range(tmp: Path) -> list[str]:
    path = _edge_file(tmp, "edges_oor.txt", "0 1\n1 2\n2 5000\n")
    return ["graph=edge_list", f"graph.path={path}", "population.n_users=100"]


def _missing(tmp: Path) -> list[str]:
    return ["graph=edge_list", f"graph.path={tmp / 'no_such_edges.txt'}", "population.n_users=100"]


# (id, overrides or a function of tmp_path giving them, fragments the one stderr line must
# contain, case-insensitive: the key, the value and what is allowed)
BAD_INPUT = [
    ("negative_users", ["population.n_users=-5"],
     ["population.n_users", "-5", "allowed", "10 <= value"]),
    ("probability_above_one", ["strategy.service.resolve_prob=1.5"],
     ["strategy.service.resolve_prob", "1.5", "allowed", "0 <= value <= 1"]),
    ("unknown_strategy", ["strategy=nope"],
     ["strategy", "nope", "allowed", "promotion_heavy", "service_led"]),
    ("unknown_top_level_key", ["foo=1"], ["foo", "unknown key", "allowed", "days", "seed"]),
    ("unknown_nested_key", ["strategy.promotion.dept=1"],
     ["strategy.promotion.dept", "unknown key", "allowed", "depth"]),
    ("wrong_type", ["days=abc"], ["days", "abc", "integer"]),
    ("segments_not_summing_to_one", ["market.segments.fan.share=0.5"],
     ["market.segments", "allowed", "sum to 1"]),
    ("odd_k_small_world", ["graph=small_world", "graph.k=3"], ["graph.k", "3", "allowed", "even"]),
    ("malformed_edge_list", _malformed, ["graph.path", "edges_bad.txt", "line 3", "2 x"]),
    ("edge_id_out_of_range", _out_of_range,
     ["graph.path", "edges_oor.txt", "line 3", "5000", "0..99"]),
    ("missing_edge_list", _missing, ["graph.path", "no_such_edges.txt", "not found"]),
]


@pytest.mark.parametrize("overrides, fragments", [c[1:] for c in BAD_INPUT],
                         ids=[c[0] for c in BAD_INPUT])
def test_bad_input_exits_2_with_one_line_and_creates_no_run_dir(tmp_path, overrides, fragments):
    if callable(overrides):
        overrides = overrides(tmp_path)
    run_dir = tmp_path / "run"
    before = tree(tmp_path)
    proc = run_sim(tmp_path, *overrides, "days=5", f"hydra.run.dir={run_dir}")
    assert proc.returncode == EXIT_CONFIG, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{proc.stderr}"
    line = lines[0].lower()
    missing = [f for f in fragments if f.lower() not in line]
    assert not missing, f"stderr line {lines[0]!r} does not mention {missing}"
    assert not run_dir.exists(), "a run directory was created for a bad invocation"
    assert tree(tmp_path) == before, "a bad invocation created or changed files in the cwd"


@pytest.mark.parametrize("sweep, fragments", [
    (["population.n_users=1500,-5"], ["population.n_users", "-5", "allowed", "sweep job 1 of 2"]),
    (["market=phone,nope"], ["market", "nope", "allowed", "car"]),
    (["seed=1,2", "strategy=service_led,promotion_heavy", "strategy.promotion.depth=0.2,1.5"],
     ["strategy.promotion.depth", "1.5", "allowed"]),
])
def test_a_sweep_with_one_bad_job_exits_2_before_any_job_runs(tmp_path, sweep, fragments):
    """Hydra's launch does not compose the jobs again (PlannedSweeper): the check before it
    refuses a sweep whose any job is bad, with one line, and nothing is written."""
    sweep_dir = tmp_path / "sweep"
    before = tree(tmp_path)
    proc = run_sim(tmp_path, "-m", *sweep, "days=5", f"hydra.sweep.dir={sweep_dir}")
    assert proc.returncode == EXIT_CONFIG, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    missing = [f for f in fragments if f.lower() not in lines[0].lower()]
    assert not missing, f"stderr line {lines[0]!r} does not mention {missing}"
    assert not sweep_dir.exists() and tree(tmp_path) == before


def test_bad_input_with_the_default_run_dir_creates_no_outputs_dir(tmp_path):
    proc = run_sim(tmp_path, "population.n_users=-5")
    assert proc.returncode == EXIT_CONFIG
    assert len(proc.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == [], "Hydra created outputs/ for a rejected run"


def test_failing_invocation_leaves_an_earlier_run_untouched(good_run, tmp_path):
    base, run_dir, _ = good_run
    before = tree(base)
    assert f"{run_dir.name}/summary.json" in before
    bad = _edge_file(tmp_path, "edges.txt", "0 1\n1 2\n2 x\n")
    new_dir = base / "run_new"
    for overrides in (
        ["graph=edge_list", f"graph.path={bad}", "population.n_users=100"],
        ["population.n_users=-5"],
    ):
        proc = run_sim(base, *overrides, f"hydra.run.dir={new_dir}")
        assert proc.returncode == EXIT_CONFIG, proc.stderr
        assert not new_dir.exists()
    assert tree(base) == before, "the earlier run's files changed"
