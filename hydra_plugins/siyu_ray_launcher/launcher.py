"""A Hydra launcher that runs each job of a sweep as a Ray task.

The driver (the ``python -m sim -m ...`` process) composes each job's config, as Hydra's
joblib launcher does, and submits one ``ray.remote`` task per job; each task sets up Hydra's
globals in its worker, runs the job with ``hydra.core.utils.run_job`` and sends back its
``JobReturn``. Seeds come from the config, never from the worker, so the numbers equal a
serial run's (tests/test_ray.py).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, configure_log, filter_overrides, run_job, setup_globals
from hydra.plugins.launcher import Launcher
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf, open_dict

log = logging.getLogger(__name__)


def _execute(hydra_context: HydraContext, sweep_config: DictConfig, task_function: TaskFunction,
             singleton_state: dict[Any, Any], cwd: str | None) -> JobReturn:
    """One job, in a Ray worker."""
    if cwd and os.path.isdir(cwd):
        os.chdir(cwd)
    setup_globals()
    Singleton.set_state(singleton_state)
    HydraConfig.instance().set_config(sweep_config)
    return run_job(hydra_context=hydra_context, config=sweep_config, task_function=task_function,
                   job_dir_key="hydra.sweep.dir", job_subdir_key="hydra.sweep.subdir")


class RayLauncher(Launcher):
    def __init__(self, init: dict | None = None, remote: dict | None = None,
                 chdir_to_driver_cwd: bool = True) -> None:
        self.init = dict(init or {})
        self.remote = dict(remote or {})
        self.chdir_to_driver_cwd = chdir_to_driver_cwd
        self.config: DictConfig | None = None
        self.task_function: TaskFunction | None = None
        self.hydra_context: HydraContext | None = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction,
              config: DictConfig) -> None:
        self.config = config
        self.task_function = task_function
        self.hydra_context = hydra_context

    def launch(self, job_overrides: Sequence[Sequence[str]],
               initial_job_idx: int) -> Sequence[JobReturn]:
        assert self.config is not None and self.hydra_context is not None
        # no usage statistics sent home, unless the user asked for them
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        import ray

        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)

        init = {k: v for k, v in _plain(self.init).items() if v is not None}
        started = not ray.is_initialized()
        if started:
            ray.init(**init)
        log.info(f"Ray ({ray.__version__}, {ray.cluster_resources().get('CPU', 0):g} CPUs) is "
                 f"launching {len(job_overrides)} jobs, sweep output dir: {sweep_dir}")
        remote = ray.remote(_execute).options(**_plain(self.remote))
        singleton_state = Singleton.get_state()
        cwd = os.getcwd() if self.chdir_to_driver_cwd else None
        refs = []
        for i, overrides in enumerate(job_overrides):
            idx = initial_job_idx + i
            log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")
            sweep_config = self.hydra_context.config_loader.load_sweep_config(
                self.config, list(overrides))
            with open_dict(sweep_config):
                sweep_config.hydra.job.id = f"{sweep_config.hydra.job.name}_{idx}"
                sweep_config.hydra.job.num = idx
            refs.append(remote.remote(self.hydra_context, sweep_config, self.task_function,
                                      singleton_state, cwd))
        try:
            runs = ray.get(refs)
        finally:
            if started:
                ray.shutdown()
        assert all(isinstance(r, JobReturn) for r in runs)
        return runs


def _plain(d: Any) -> dict:
    """A DictConfig (or dict) as a plain dict of plain values."""
    if isinstance(d, DictConfig):
        return OmegaConf.to_container(d, resolve=True)  # type: ignore[return-value]
    return dict(d)
