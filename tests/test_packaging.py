"""A wheel built from the project carries its configs: installed into a fresh venv, `python -m
sim` runs from an empty folder (no checkout on the path)."""

from __future__ import annotations

import site
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_installs_and_runs_from_an_empty_folder(tmp_path):
    dist = tmp_path / "dist"
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                        "--disable-pip-version-check", "-w", str(dist), str(ROOT)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    (wheel,) = dist.glob("siyu_sim-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "sim/conf/config.yaml" in names and "sim/conf/market/phone.yaml" in names
    assert "sim/experiments/definitions/promo_vs_service.yaml" in names
    assert not any(n.startswith(("tests/", "conf/")) for n in names)

    # a fresh venv: the wheel installed without dependencies, which it borrows from this
    # environment's site-packages through a path file (that does not run this environment's
    # own .pth files, so the editable checkout stays off the path)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()"
                              "['purelib'])"], capture_output=True, text=True,
                             check=True).stdout.strip()
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    Path(purelib, "zz_deps.pth").write_text("\n".join(deps) + "\n")
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
                        "--disable-pip-version-check", "--target", purelib, str(wheel)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]

    empty = tmp_path / "empty"
    empty.mkdir()
    where = subprocess.run([str(py), "-c", "import sim, sim.paths; print(sim.__file__); "
                            "print(sim.paths.CONF_DIR)"], capture_output=True, text=True,
                           cwd=empty, check=True).stdout.split()
    assert where[0].startswith(purelib) and where[1].startswith(purelib), where
    r = subprocess.run([str(py), "-m", "sim", "population.n_users=500", "days=20",
                        "output.figures=false", "output.progress=false"],
                       capture_output=True, text=True, cwd=empty, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    runs = list((empty / "outputs").rglob("summary.json"))
    assert len(runs) == 1
