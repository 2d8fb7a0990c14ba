"""The Hydra callback a study config installs: it builds the study's report when its sweep ends.

Its arguments are the study's declaration (:class:`~sim.experiments.study.StudySpec`), so
Hydra records them in every run's ``.hydra/hydra.yaml``, where reports read them back.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from sim.experiments.study import StudySpec

log = logging.getLogger(__name__)


class StudyCallback(Callback):
    def __init__(self, name: str, question: str = "", arm: Any = "strategy",
                 baseline: str | None = None, kpis: Any = None, report: bool = True) -> None:
        spec = {"name": name, "question": question, "arm": arm, "baseline": baseline}
        if kpis is not None:
            spec["kpis"] = list(kpis)
        self.spec = StudySpec.from_dict(spec)  # checks the declaration before any run
        self.report = report

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        log.warning("experiment %s is a sweep over arms and seeds: run it with -m "
                    "(python -m sim -m experiment=%s); this single run is not a study",
                    self.spec.name, self.spec.name)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if not self.report:
            return
        from sim.experiments.report import build_report

        sweep_dir = Path(str(config.hydra.sweep.dir))
        try:
            path = build_report(sweep_dir)
        except (ImportError, ValueError) as err:
            print(f"siyu-sim: no report for {sweep_dir}: {err}")
            return
        print(f"siyu-sim: report {path.resolve()}")
