"""Every comparison study in experiments/ runs end to end at small size and writes its report
(the generated kinds, factorial, uncertainty and optimise: tests/test_study_kinds.py)."""

import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from sim.data.io import read_parquet

ROOT = Path(__file__).resolve().parent.parent


def _kind(path: Path) -> str:
    return OmegaConf.select(OmegaConf.load(path), "hydra.callbacks.study.kind",
                            default="compare")


STUDIES = sorted(p.stem for p in (ROOT / "experiments").glob("*.yaml")
                 if p.stem not in ("bass_validation", "promo_vs_service")  # tested elsewhere
                 and _kind(p) == "compare")


@pytest.mark.slow
@pytest.mark.parametrize("study", STUDIES)
def test_study_runs_end_to_end(study, tmp_path):
    out = tmp_path / study
    r = subprocess.run([sys.executable, "-m", "sim", "-m", f"experiment={study}",
                        "population.n_users=800", "days=45", "seed=range(1,3)",
                        "counterfactual=false",  # tested in test_study_kinds.py
                        f"hydra.sweep.dir={out}"], capture_output=True, text=True, cwd=ROOT,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"report {out}/report.html" in r.stdout + r.stderr
    runs = read_parquet(out / "runs.parquet")
    arms = set(runs["arm"].tolist())
    assert len(arms) >= 2, f"{study}: a study compares at least two arms, got {arms}"
    assert set(runs["seed"].tolist()) == {1, 2}, "every arm runs on the same seeds"
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html, "figures are embedded"
    assert (out / "comparison.csv").stat().st_size > 0
