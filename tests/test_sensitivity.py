"""Global sensitivity (sim/calibration/sensitivity.py): Morris then Sobol at tiny N, right shapes, files."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("SALib")

from sim.calibration.sensitivity import FACTORS, KPIS, Factor, analyse, write_outputs  # noqa: E402

# a churn lever among levers that hardly touch churn: screening must find it
SMALL = (
    Factor("channels.personal_wechat.monthly_churn", 0.02, 0.2, "churn base"),
    Factor("market.brand_share", 0.05, 0.3, "brand share"),
    Factor("strategy.referral.per_year", 0.1, 2.0, "referrals"),
    Factor("strategy.content.per_week", 0.0, 4.0, "content"),
    Factor("market.funnel.register_prob", 0.2, 0.8, "register"),
)


@pytest.fixture(scope="module")
def result():
    return analyse(["market=phone"], factors=SMALL, n_users=600, days=90, trajectories=3,
                   top=2, sobol_n=4)


def test_indices_have_the_right_shape(result):
    assert result.kpis == KPIS
    assert len(result.X_morris) == 3 * (len(SMALL) + 1)
    for k in KPIS:
        for m in ("mu", "mu_star", "mu_star_conf", "sigma"):
            assert result.morris[k][m].shape == (len(SMALL),)
            assert np.all(np.isfinite(result.morris[k][m]))
        assert np.all(result.morris[k]["mu_star"] >= 0)
        for m in ("S1", "S1_conf", "ST", "ST_conf"):
            assert result.sobol[k][m].shape == (2,)
            assert np.all(np.isfinite(result.sobol[k][m]))
    assert len(result.X_sobol) == 4 * (2 + 2)
    assert result.score.shape == (len(SMALL),) and result.score.max() == pytest.approx(1.0)
    assert len(result.top) == 2


def test_screening_finds_the_churn_lever(result):
    mu = result.morris["monthly_churn_rate"]["mu_star"]
    assert SMALL[int(np.argmax(mu))].name == "churn base"
    # the churn lever leads one KPI, so it has the full combined score (a Sobol candidate;
    # ties with the leaders of other KPIs are broken by rank)
    assert result.score[0] == pytest.approx(1.0)
    assert all(result.score[SMALL.index(f)] == pytest.approx(1.0) for f in result.top)


def test_outputs_are_written(result, tmp_path):
    files = write_outputs(result, tmp_path, "test")
    names = {f.name for f in files}
    assert names >= {"morris.csv", "sobol.csv", "runs_morris.csv", "runs_sobol.csv",
                     "morris.png", "morris_scatter.png", "sobol.png", "sensitivity.md"}
    for f in files:
        assert f.stat().st_size > 0
    rows = list(csv.DictReader((tmp_path / "morris.csv").open()))
    assert len(rows) == len(SMALL) * len(KPIS)
    rows = list(csv.DictReader((tmp_path / "sobol.csv").open()))
    assert len(rows) == 2 * len(KPIS)
    md = (tmp_path / "sensitivity.md").read_text()
    assert "## Morris screening" in md and "## Sobol indices" in md
    assert (tmp_path / "morris.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_default_factors_are_valid_keys_and_ranges():
    import sim
    from sim.calibration import set_values

    cfg = sim.load_config(["population.n_users=100"])
    for f in FACTORS:  # both ends of every range validate
        set_values(cfg, {f.key: f.low})
        set_values(cfg, {f.key: f.high})


def test_sobol_n_must_be_a_power_of_two():
    with pytest.raises(ValueError, match="power of 2"):
        analyse([], factors=SMALL, n_users=100, days=5, trajectories=2, sobol_n=6)


@pytest.mark.slow
def test_command_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "sim.calibration.sensitivity", "market=car", "--users", "300",
                        "--days", "30", "--trajectories", "2", "--top", "2", "--sobol-n", "4",
                        "--out", str(tmp_path / "s")], capture_output=True, text=True,
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "top factors:" in r.stdout
    assert (tmp_path / "s" / "sensitivity.md").exists()
    r = subprocess.run([sys.executable, "-m", "sim.calibration.sensitivity", "market=nope"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and "market=nope" in r.stderr


def test_a_pool_of_workers_gives_one_process_numbers(monkeypatch):
    """Design points run by two worker processes give the numbers of one process, after this
    process has run the kernels on threads (a pool forked from it would inherit a broken
    GNU OpenMP: its workers start from a fresh server process)."""
    from sim import load_config
    from sim.calibration.sensitivity import run_design
    from sim.core import jit

    monkeypatch.setattr(jit, "MODE", "numba")
    bases = [load_config(["market=phone", "population.n_users=600", "days=60", "seed=3",
                          "market.initial_member_share=0.1"])]
    X = np.array([[0.05], [0.15], [0.1], [0.2]])
    one = run_design(bases, SMALL[:1], X, jobs=1)
    two = run_design(bases, SMALL[:1], X, jobs=2)
    assert np.array_equal(one, two, equal_nan=True)
    assert np.isfinite(one).any() and not np.array_equal(one[0], one[1])
