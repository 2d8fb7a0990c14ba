"""Studies end to end: a Hydra sweep of promo_vs_service at small size, its row-per-run table,
the paired CI math, the HTML report, resuming an interrupted sweep, and launchers that give
identical numbers (seeds come from the config, never from the worker)."""

from __future__ import annotations

import base64
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.data.io import read_parquet
from sim.experiments import paired_difference, t_interval
from sim.experiments.aggregate import load_sweep
from sim.experiments.job import finished_summary, run_job

REPO = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# 2 markets x 2 arms x 2 seeds = 8 runs of 1,500 users x 90 days
SWEEP = ["experiment=promo_vs_service", "market=phone,car", "population.n_users=1500",
         "days=90", "seed=range(1,3)", "report.lang=en"]
N_RUNS = 8
KPIS = ["monthly_churn_rate", "repurchase_rate", "referral_share", "purchases", "revenue",
        "cost", "roi", "nps", "members_end", "customers_end"]
TIMING = ["build_s", "run_s"]


def sweep(sweep_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    """``python -m sim -m SWEEP... hydra.sweep.dir=sweep_dir EXTRA...`` importing this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["MPLBACKEND"] = "Agg"
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "-m", *SWEEP, f"hydra.sweep.dir={sweep_dir}", *extra],
        cwd=sweep_dir.parent, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"sweep failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def numbers(table: pd.DataFrame) -> pd.DataFrame:
    """The table without what may differ between launchers (timings)."""
    return table.drop(columns=TIMING).sort_values("run_dir").reset_index(drop=True)


@pytest.fixture(scope="module")
def serial(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    root = tmp_path_factory.mktemp("serial") / "sweep"
    return root, sweep(root)


# --------------------------------------------------------------------------- paired CI math


def test_t_interval_matches_a_hand_computed_example():
    # d = 1, 2, 3, 4: mean 2.5, sd sqrt(5/3) = 1.290994, t(0.975, 3) = 3.182446
    ci = t_interval([1.0, 2.0, 3.0, 4.0])
    half = 3.182446305 * math.sqrt(5 / 3) / 2
    assert ci.n == 4 and ci.mean == pytest.approx(2.5)
    assert ci.sd == pytest.approx(1.2909944)
    assert (ci.lo, ci.hi) == pytest.approx((2.5 - half, 2.5 + half), abs=1e-6)
    assert (ci.lo, ci.hi) == pytest.approx((0.445745, 4.554255), abs=1e-5)
    assert ci.significant, "an interval that excludes 0 is significant"


def test_paired_difference_pairs_by_seed_and_skips_unpaired_or_undefined_values():
    arm = {1: 11.0, 2: 13.0, 3: 16.0, 4: 18.0, 5: 99.0, 7: None}
    base = {1: 10.0, 2: 11.0, 3: 13.0, 4: 14.0, 6: 0.0, 7: 3.0}
    d = paired_difference(arm, base)  # seeds 1-4 only: differences 1, 2, 3, 4
    assert d.n == 4 and d.mean == pytest.approx(2.5)
    assert (d.lo, d.hi) == pytest.approx((0.445745, 4.554255), abs=1e-5)


def test_an_interval_containing_zero_is_not_significant_and_n_below_2_has_no_interval():
    ci = t_interval([-1.0, 1.0, 0.5])
    assert ci.lo < 0 < ci.hi and not ci.significant
    one = t_interval([3.0])
    assert one.n == 1 and math.isnan(one.lo) and not one.significant
    assert t_interval([]).n == 0


# --------------------------------------------------------------------------- the study


def test_sweep_writes_one_run_dir_per_arm_market_seed_and_a_report(serial):
    root, proc = serial
    runs = sorted(p.name for p in root.iterdir() if (p / ".hydra").is_dir())
    assert runs == sorted(f"market={m},seed={s},strategy={a}" for m in ("car", "phone")
                          for s in (1, 2) for a in ("promotion_heavy", "service_led"))
    for name in runs:  # every run finished: summary.json last, the series and cohorts with it
        for f in ("summary.json", "series.parquet", "cohorts.parquet"):
            assert (root / name / f).is_file(), f"{name}/{f} missing"
    assert f"report {(root / 'report.html').resolve()}" in proc.stdout, \
        "the sweep prints the report's path when it ends"
    assert "Recommendation:" in proc.stdout, "and its executive summary"
    assert f"[{N_RUNS}/{N_RUNS}] 100%" in proc.stderr and "left" in proc.stderr, \
        "progress: a count and the time left"


def test_runs_table_has_a_row_per_run_with_its_parameters_and_kpis(serial):
    root, _ = serial
    table = pd.read_parquet(root / "runs.parquet")
    assert len(table) == N_RUNS
    assert set(table["study"]) == {"promo_vs_service"}
    assert set(table["arm"]) == {"promotion_heavy", "service_led"}
    assert set(table["stratum"]) == {"market=car", "market=phone"}, "markets are strata"
    assert sorted(table["seed"].unique()) == [1, 2]
    assert set(table["n_users"]) == {1500} and set(table["days"]) == {90}
    assert table.groupby(["stratum", "arm"]).size().eq(2).all(), "every arm runs every seed"
    for _, row in table.iterrows():
        summary = json.loads((root / row["run_dir"] / "summary.json").read_text())
        assert row["market"] == summary["market"] and row["strategy"] == row["arm"]
        assert row["seed"] == summary["seed"] == summary["config"]["seed"]
        assert f"seed={row['seed']}" in row["overrides"]
        for k in KPIS:
            want = summary[k]
            assert (row[k] == want) or (want is None and pd.isna(row[k])), f"{k} of {row.run_dir}"


def test_run_files_are_read_as_omegaconf_reads_them(serial, tmp_path):
    """The aggregation's fast YAML reader gives OmegaConf's containers: for every file of
    every run of the sweep, and for the scalars where plain YAML and OmegaConf differ."""
    from omegaconf import OmegaConf

    from sim.experiments.aggregate import _load_yaml, _lookup

    root, _ = serial
    files = sorted(root.glob("*/.hydra/*.yaml"))
    assert len(files) == 3 * N_RUNS
    for path in files:
        assert _load_yaml(path) == OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    tricky = tmp_path / "tricky.yaml"
    tricky.write_text("day: 2024-01-01\nrate: 1e-05\nbig: 1_000\nup: .inf\nno: null\n"
                      "flag: true\nref: ${day}\nmissing: '???'\nlist: [1, 2.5, x]\n")
    want = OmegaConf.to_container(OmegaConf.load(tricky), resolve=False)
    got = _load_yaml(tricky)
    assert got == want and got["day"] == "2024-01-01" and got["rate"] == 1e-05
    node = OmegaConf.load(tricky)
    for key in ("day", "rate", "ref", "missing", "list.1", "nope", "day.x"):
        assert _lookup(key, {}, {}, got) == OmegaConf.select(
            node, key, default=None, throw_on_missing=False), key


def test_a_sweep_run_equals_the_same_config_run_directly(serial):
    """Seeds come from the config: a sweep job gives what sim.SiyuModel gives for its config."""
    root, _ = serial
    table = pd.read_parquet(root / "runs.parquet")
    row = table[(table["market"] == "car") & (table["arm"] == "service_led")
                & (table["seed"] == 2)].iloc[0]
    cfg = sim.load_config(["market=car", "strategy=service_led", "seed=2",
                           "population.n_users=1500", "days=90", "output.progress=false"])
    model = sim.SiyuModel(cfg)
    model.run()
    direct = model.summary()
    for k in KPIS:
        assert row[k] == pytest.approx(direct[k], rel=0, abs=0, nan_ok=True), k


def test_report_is_self_contained_and_embeds_its_figures(serial):
    root, _ = serial
    html = (root / "report.html").read_text(encoding="utf-8")
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    # horizon + forest + per market: time series, retention, funnel
    assert len(images) == 2 + 3 * 2, f"expected 8 embedded figures, found {len(images)}"
    for b64 in images:
        assert base64.b64decode(b64)[:8] == PNG_MAGIC
    assert not re.search(r'src="(?!data:)', html), "no external files referenced"
    for text in ("Does a service-led private domain", "95% CI", "not significant",
                 "paired seeds", "Setup", "seeds</th><td>2: 1, 2", "code version",
                 "Executive summary", "Recommendation", "When: KPIs at horizons"):
        assert text in html, f"report lacks {text!r}"
    comparison = pd.read_csv(root / "comparison.csv")
    assert set(comparison["stratum"]) == {"market=car", "market=phone"}
    assert (comparison["arm"] == "service_led").all()
    assert (comparison["baseline"] == "promotion_heavy").all()


def test_comparison_is_the_paired_difference_of_the_runs_table(serial):
    root, _ = serial
    table = pd.read_parquet(root / "runs.parquet")
    comparison = pd.read_csv(root / "comparison.csv")
    row = comparison[(comparison["stratum"] == "market=phone")
                     & (comparison["kpi"] == "cost")].iloc[0]
    phone = table[table["stratum"] == "market=phone"].set_index(["arm", "seed"])["cost"]
    d = [phone["service_led", s] - phone["promotion_heavy", s] for s in (1, 2)]
    half = 12.706204736 * np.std(d, ddof=1) / math.sqrt(2)  # t(0.975, 1)
    assert row["diff"] == pytest.approx(np.mean(d))
    assert (row["diff_lo"], row["diff_hi"]) == pytest.approx((np.mean(d) - half,
                                                              np.mean(d) + half))
    assert bool(row["significant"]) == (row["diff_lo"] > 0 or row["diff_hi"] < 0)
    assert (row["verdict"] == "n.s.") == (not row["significant"])


def test_report_is_rebuilt_from_saved_files_alone(serial, tmp_path):
    from sim.experiments.__main__ import main

    root, _ = serial
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    for f in ("report.html", "runs.parquet", "comparison.csv"):
        (copy / f).unlink()
    shutil.rmtree(copy / "figures")
    assert main(["report", str(copy)]) == 0
    assert (copy / "report.html").is_file() and (copy / "runs.parquet").is_file()
    pd.testing.assert_frame_equal(numbers(pd.read_parquet(copy / "runs.parquet")),
                                  numbers(pd.read_parquet(root / "runs.parquet")))


# --------------------------------------------------------------------------- resuming


def test_interrupted_sweep_is_ignored_by_aggregation_and_resumes(serial, tmp_path):
    root, _ = serial
    resumed = tmp_path / "sweep"
    shutil.copytree(root, resumed)
    killed = resumed / "market=phone,seed=2,strategy=service_led"
    (killed / "summary.json").unlink()                       # killed before summary.json
    (killed / "series.parquet").write_bytes(b"half-written")  # and mid-way through a file
    kept = {p.parent.name: p.stat().st_mtime_ns for p in resumed.glob("*/summary.json")}
    assert len(kept) == N_RUNS - 1

    partial = load_sweep(resumed)
    assert len(partial.runs) == N_RUNS - 1, "a run without summary.json is not a result"
    assert [d for d, _ in partial.ignored] == [killed.name]
    assert "no summary.json" in partial.ignored[0][1]

    proc = sweep(resumed)
    assert proc.stdout.count("report ") == 1
    log = proc.stdout + proc.stderr
    assert log.count("skipped") == N_RUNS - 1 and f"done {killed.name}" in log
    after = {p.parent.name: p.stat().st_mtime_ns for p in resumed.glob("*/summary.json")}
    assert {k: after[k] for k in kept} == kept, "finished runs were not run again"
    assert killed.name in after
    pd.testing.assert_frame_equal(numbers(pd.read_parquet(resumed / "runs.parquet")).drop(
        columns=["run_dir"]), numbers(pd.read_parquet(root / "runs.parquet")).drop(
        columns=["run_dir"]))


def test_a_summary_of_another_config_is_not_taken_as_finished(tmp_path):
    cfg = sim.load_config(["population.n_users=300", "days=20", "output.figures=false",
                           "output.progress=false"])
    first = run_job(cfg, tmp_path)
    assert first.files and finished_summary(tmp_path, cfg) is not None
    assert not run_job(cfg, tmp_path).files, "the same config is skipped"
    other = sim.load_config(["population.n_users=300", "days=20", "seed=9",
                             "output.figures=false", "output.progress=false"])
    assert finished_summary(tmp_path, other) is None
    assert run_job(other, tmp_path).summary["seed"] == 9


def test_job_writes_the_same_summary_and_series_as_sim_run(tmp_path):
    """sim.experiments.job mirrors sim.run (it keeps the model for the cohort table)."""
    cfg = sim.load_config(["population.n_users=800", "days=40", "output.figures=false",
                           "output.progress=false", "export.transactions=true"])
    sim.run(cfg, tmp_path / "run", echo=False)
    run_job(cfg, tmp_path / "job")
    a = json.loads((tmp_path / "run" / "summary.json").read_text())
    b = json.loads((tmp_path / "job" / "summary.json").read_text())
    assert a.keys() == b.keys(), "summary keys differ: update sim/experiments/job.py"
    a.pop("timing"), b.pop("timing")
    assert b.pop("files") == [*a.pop("files"), "cohorts.parquet"]
    assert a == b, "the job's summary must equal sim.run's: update sim/experiments/job.py"
    for name in ("series.parquet", "transactions.parquet"):
        sa, sb = (read_parquet(tmp_path / d / name) for d in ("run", "job"))
        assert sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k], equal_nan=True)
                                              for k in sa), name
    cohorts = read_parquet(tmp_path / "job" / "cohorts.parquet")
    initial = cohorts["cohort"] == 0
    assert cohorts["n_at_risk"][initial & (cohorts["month"] == 0)][0] == a["members_start"]
    assert np.all(np.diff(cohorts["n_retained"][initial]) <= 0), "retention never rises"


# --------------------------------------------------------------------------- launchers


def test_joblib_with_2_workers_gives_the_same_numbers_as_serial(serial, tmp_path):
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher",
                        reason="needs hydra-joblib-launcher: pip install 'siyu-sim[sweep]'")
    root, _ = serial
    sweep(tmp_path / "sweep", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    pd.testing.assert_frame_equal(numbers(pd.read_parquet(tmp_path / "sweep" / "runs.parquet")),
                                  numbers(pd.read_parquet(root / "runs.parquet")))
    for run_dir in pd.read_parquet(root / "runs.parquet")["run_dir"]:
        a = read_parquet(root / run_dir / "series.parquet")
        b = read_parquet(tmp_path / "sweep" / run_dir / "series.parquet")
        assert all(np.array_equal(a[k], b[k], equal_nan=True) for k in a), run_dir


@pytest.mark.slow
def test_submitit_local_gives_the_same_numbers_as_serial(serial, tmp_path):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher",
                        reason="needs hydra-submitit-launcher: pip install 'siyu-sim[sweep]'")
    root, _ = serial
    sweep(tmp_path / "sweep", "hydra/launcher=submitit_local", "market=phone", "seed=1")
    got = numbers(pd.read_parquet(tmp_path / "sweep" / "runs.parquet"))
    want = numbers(pd.read_parquet(root / "runs.parquet"))
    want = want[want["run_dir"].isin(got["run_dir"])].reset_index(drop=True)
    assert len(got) == 2
    pd.testing.assert_frame_equal(got.drop(columns=["stratum"]), want.drop(columns=["stratum"]))


def test_slurm_launcher_config_composes():
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher",
                        reason="needs hydra-submitit-launcher: pip install 'siyu-sim[sweep]'")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "experiment=promo_vs_service", "hydra/launcher=slurm",
         "hydra.launcher.partition=cpu", "--cfg", "hydra", "-p", "hydra.launcher"],
        env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "SlurmLauncher" in proc.stdout and "partition: cpu" in proc.stdout
    assert "cpus_per_task: 1" in proc.stdout
