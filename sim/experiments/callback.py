"""The Hydra callback a study config installs: progress while the sweep runs, the report and
its executive summary when it ends.

Its arguments are the study's declaration (:class:`~sim.experiments.study.StudySpec`), so
Hydra records them in every run's ``.hydra/hydra.yaml``, where reports read them back.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from sim.experiments import progress
from sim.experiments.study import StudySpec

log = logging.getLogger(__name__)


def _plain(v: Any) -> Any:
    return OmegaConf.to_container(v, resolve=True) if OmegaConf.is_config(v) else v


class StudyCallback(Callback):
    def __init__(self, name: str, report: bool = True, **spec: Any) -> None:
        spec = {k: _plain(v) for k, v in spec.items()}
        self.spec = StudySpec.from_dict({"name": name, **spec})  # checked before any run
        self.report = report

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        log.warning("experiment %s is a sweep: run it with -m (python -m sim -m "
                    "experiment=%s); this single run is not a study",
                    self.spec.name, self.spec.name)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        target = str(OmegaConf.select(config, "hydra.sweeper._target_", default=""))
        # the basic expansion (Hydra's sweeper or ours without its re-check); the study
        # sweeper records its own size
        if target.endswith(("BasicSweeper", "PlannedSweeper")):
            try:
                progress.start(config.hydra.sweep.dir, progress.basic_sweep_size(config))
            except Exception as err:  # noqa: BLE001 - progress is informative only
                log.debug("no progress record: %s", err)

    def on_job_end(self, config: DictConfig, job_return: Any = None, **kwargs: Any) -> None:
        try:
            progress.report(config.hydra.sweep.dir)
        except Exception:  # noqa: BLE001 - progress is informative only
            pass

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if not self.report:
            return
        from sim.experiments.report import build_report

        sweep_dir = Path(str(config.hydra.sweep.dir))
        try:
            lang = OmegaConf.select(config, "report.lang", default=None)
            path, summary = build_report(sweep_dir, with_summary=True, lang=lang)
        except (ImportError, ValueError) as err:
            print(f"siyu-sim: no report for {sweep_dir}: {err}")
            return
        if summary:
            print(summary)
        print(f"siyu-sim: report {path.resolve()}")
