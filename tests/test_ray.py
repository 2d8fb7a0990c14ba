"""Ray sweeps from the main environment: ``hydra/launcher=ray`` (siyu-sim's own launcher,
``hydra_plugins/siyu_ray_launcher``, on Ray's public API) on a local Ray instance gives the same
numbers as a serial sweep, number for number (seeds come from the config, never the worker)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
# 1 market x 2 arms x 2 seeds = 4 runs of 1,500 users x 90 days
SWEEP = ["experiment=promo_vs_service", "market=phone", "population.n_users=1500", "days=90",
         "seed=range(1,3)"]
TIMING = ["build_s", "run_s"]


def sweep(sweep_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MPLBACKEND="Agg", RAY_USAGE_STATS_ENABLED="0")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "-m", *SWEEP, f"hydra.sweep.dir={sweep_dir}", *extra],
        cwd=sweep_dir.parent, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"sweep failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def numbers(sweep_dir: Path) -> pd.DataFrame:
    table = pd.read_parquet(sweep_dir / "runs.parquet")
    return table.drop(columns=TIMING).sort_values("run_dir").reset_index(drop=True)


def test_launcher_is_discovered_without_importing_ray():
    code = ("import sys\nfrom hydra.core.plugins import Plugins\nfrom hydra.plugins.launcher "
            "import Launcher\nnames = [p.__name__ for p in Plugins.instance().discover(Launcher)]\n"
            "assert 'RayLauncher' in names, names\nassert 'ray' not in sys.modules\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr


def test_ray_cluster_config_joins_a_cluster():
    env = dict(os.environ, PYTHONPATH=str(REPO), RAY_ADDRESS="ray://head:10001")
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "hydra/launcher=ray_cluster", "--cfg", "hydra", "-p",
         "hydra.launcher", "--resolve"], env=env, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert "siyu_ray_launcher" in proc.stdout and "address: ray://head:10001" in proc.stdout


def test_ray_on_a_local_instance_gives_the_same_numbers_as_serial(tmp_path):
    pytest.importorskip("ray", reason="needs ray (the sweep extra: bash scripts/setup.sh)")
    sweep(tmp_path / "serial")
    proc = sweep(tmp_path / "ray", "hydra/launcher=ray", "hydra.launcher.init.num_cpus=2",
                 "hydra.launcher.init.include_dashboard=false")
    assert "Started a local Ray instance" in proc.stdout + proc.stderr
    got, want = numbers(tmp_path / "ray"), numbers(tmp_path / "serial")
    assert len(got) == 4
    pd.testing.assert_frame_equal(got, want)
    # and the daily series, file by file
    for run_dir in want["run_dir"]:
        a = pd.read_parquet(tmp_path / "serial" / run_dir / "series.parquet")
        b = pd.read_parquet(tmp_path / "ray" / run_dir / "series.parquet")
        pd.testing.assert_frame_equal(a, b)
