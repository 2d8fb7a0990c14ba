"""The notebooks run from top to bottom: jupytext turns each percent script into a notebook
and nbclient executes it in a fresh kernel (offline; no notebook server needed).

They run small (the ``SIYU_NB_*`` variables each notebook reads); the executed notebooks
are kept in ``tests/artifacts/notebooks/`` to look at.
"""

from __future__ import annotations

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
