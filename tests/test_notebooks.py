"""The notebooks open in JupyterLab and run from top to bottom.

Each notebook is a pair kept in sync by jupytext: ``notebooks/NAME.ipynb`` (what JupyterLab
opens) and ``notebooks/NAME.py`` (a percent script: reviewable diffs, runs as a script).
The tests check every pair is in sync, that the viz extra's JupyterLab serves them as
notebooks, and execute each one (jupytext reads the script, nbclient runs it in a fresh
kernel, offline). They run small (the ``SIYU_NB_*`` variables each notebook reads); the
executed notebooks are kept in ``tests/artifacts/notebooks/`` to look at.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).absolute().parent.parent
NOTEBOOKS = ROOT / "notebooks"
ARTIFACTS = ROOT / "tests" / "artifacts" / "notebooks"
TIMEOUT_S = 120  # per cell

SMALL = {"SIYU_NB_N_USERS": "2000", "SIYU_NB_DAYS": "180", "SIYU_NB_SEEDS": "3"}


def _execute(name: str, tmp_path: Path):
    jupytext = pytest.importorskip("jupytext", reason="needs jupytext (pip install -e '.[viz]')")
    nbclient = pytest.importorskip("nbclient", reason="needs nbclient (pip install -e '.[viz]')")
    pytest.importorskip("ipykernel", reason="needs ipykernel (pip install -e '.[viz]')")
    import nbformat

    nb = jupytext.read(NOTEBOOKS / f"{name}.py")
    client = nbclient.NotebookClient(nb, timeout=TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    try:
        client.execute()
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, ARTIFACTS / f"{name}.ipynb")
    return nb


def _cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def test_every_notebook_is_a_pair_in_sync():
    jupytext = pytest.importorskip("jupytext", reason="needs jupytext (pip install -e '.[viz]')")
    scripts = sorted(NOTEBOOKS.glob("*.py"))
    assert scripts, "no notebooks"
    assert {p.stem for p in NOTEBOOKS.glob("*.ipynb")} == {p.stem for p in scripts}, \
        "every notebooks/NAME.py has its NAME.ipynb and back"
    for py in scripts:
        script, notebook = jupytext.read(py), jupytext.read(py.with_suffix(".ipynb"))
        assert script.metadata["jupytext"]["formats"] == "ipynb,py:percent", py.name
        assert _cells(script) == _cells(notebook), (
            f"{py.name} and its .ipynb differ: run `.venv/bin/jupytext --sync notebooks/{py.name}`")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_jupyterlab_opens_the_notebooks(tmp_path):
    pytest.importorskip("jupyterlab", reason="needs JupyterLab (pip install -e '.[viz]')")
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"), JUPYTERLAB_WORKSPACES_DIR=str(tmp_path))
    log = tmp_path / "lab.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
             f"--port={port}", f"--IdentityProvider.token={token}", f"--notebook-dir={ROOT}"]
            + (["--allow-root"] if os.geteuid() == 0 else []),  # CI machines run as root
            env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def get(path: str) -> tuple[int, bytes]:
        req = urllib.request.Request(base + path, headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get("/api/status")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start:\n" + log.read_text()[-3000:])
                time.sleep(0.3)
        assert get("/lab")[0] == 200
        for ipynb in sorted(NOTEBOOKS.glob("*.ipynb")):
            for name in (ipynb.name, ipynb.with_suffix(".py").name):  # jupytext: .py too
                status, body = get(f"/api/contents/notebooks/{name}?type=notebook&content=1")
                model = json.loads(body)
                assert status == 200 and model["type"] == "notebook", name
                assert len(model["content"]["cells"]) == len(json.loads(ipynb.read_text())["cells"])
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def _outputs(nb, kind: str) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if kind in o.get("data", {})]


@pytest.fixture
def small(monkeypatch, tmp_path):
    for k, v in SMALL.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("SIYU_NB_OUT", str(tmp_path / "runs"))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    return tmp_path


def test_quickstart_runs(small):
    nb = _execute("quickstart", small)
    assert len(_outputs(nb, "image/png")) >= 1, "quickstart drew no figure"
    assert _outputs(nb, "text/html"), "quickstart showed no table"


def test_strategy_comparison_runs_from_files(small):
    nb = _execute("strategy_comparison", small)
    # it ran sim.run for each (strategy, seed) and read the files back
    summaries = sorted((small / "runs").glob("*/*/seed*/summary.json"))
    assert len(summaries) == 2 * int(SMALL["SIYU_NB_SEEDS"])
    assert all((p.parent / "series.parquet").is_file() for p in summaries)
    assert len(_outputs(nb, "image/png")) >= 2, "expected the differences and the time plots"
    text = "".join(str(o["data"]["text/html"]) for o in _outputs(nb, "text/html"))
    assert "mean B - A" in text and "paired sd" in text


@pytest.mark.slow
def test_calibration_walkthrough_fits_and_resumes(small, monkeypatch):
    pytest.importorskip("optuna", reason="needs optuna (pip install -e '.[calibrate]')")
    monkeypatch.setenv("SIYU_NB_TRIALS", "4")
    nb = _execute("calibration_walkthrough", small)
    assert _outputs(nb, "image/png"), "the convergence plot is drawn"
    out = small / "runs" / "calibration_walkthrough"
    assert any(p.suffix == ".sqlite3" for p in out.iterdir()), "the study is stored for resuming"
    text = "".join("".join(o.get("text", "")) for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []) if o.get("output_type") == "stream")
    assert "channels.personal_wechat.monthly_churn=" in text
