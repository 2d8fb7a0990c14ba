"""The sweeper of the generated study kinds (factorial, uncertainty, optimise).

Hydra's basic sweeper runs the cartesian product of its ``params``; these studies run a
design instead (:mod:`sim.experiments.design`): every point of the design on every
combination of the study's strata and seeds (``hydra.sweeper.params`` and the command line,
expanded as the basic sweeper does). Jobs go through the configured launcher (serial,
joblib, SLURM, Ray) in batches, so the usual ``hydra/launcher=...`` choice applies.

A job's run dir is ``POINT/market=...,seed=...``: named by its point and its strata, so a
re-run of a killed study skips every finished run (sim/experiments/job.py) and the
optimiser, seeded, asks the same trials again and is told the same results: it resumes
where it stopped. Hydra only loads sweepers from the ``hydra_plugins`` package, where
``hydra_plugins/siyu_study_sweeper`` subclasses :class:`StudySweeperBase`; a study config
selects it with ``hydra.sweeper._target_``.
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from sim.experiments import design as dsn
from sim.experiments import progress
from sim.experiments.study import DECISION_KPIS, KPIS, StudySpec

log = logging.getLogger(__name__)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(float(f"{v:.10g}"))
    return str(v)


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


class PlannedSweeperBase(BasicSweeper):
    """Hydra's basic sweeper (the cartesian product of its ``params`` and the command line),
    less :meth:`validate_batch_is_legal`: Hydra composes every job's config in this process
    before launching it, to catch errors early, and the job composes it again where it runs.
    ``python -m sim`` has already composed and checked every job of the sweep before Hydra
    starts (sim/cli.py ``plan``: each job's presets composed by Hydra, its values checked
    against the schema, nothing launched or written if one fails), so the second
    composition only delays the first job, serially in the main process: README's 40-job
    study starts its first job 3.5 s after the command instead of 8 s."""

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        return None


class StudySweeperBase(BasicSweeper):
    """Runs a study's design (see the module docstring)."""

    def __init__(self, max_batch_size: int | None = None,
                 params: dict[str, str] | None = None) -> None:
        super().__init__(max_batch_size=max_batch_size, params=params)
        self.job_idx = 0

    # ----------------------------------------------------------------- plumbing

    def _spec(self) -> StudySpec:
        node = OmegaConf.select(self.config, "hydra.callbacks.study", default=None)
        if node is None:
            raise ValueError("the study sweeper needs a study declaration under "
                             "hydra.callbacks.study")
        d = OmegaConf.to_container(node, resolve=True)
        d.pop("report", None)
        return StudySpec.from_dict(d)

    def _base_jobs(self, arguments: list[str]) -> list[list[str]]:
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        parsed = parser.parse_overrides([*self._parse_config(), *arguments])
        return [[o for o in job if _key(o) != "strategy"]
                for job in self.split_arguments(parsed, None)[0]]

    def _name(self, base: list[str]) -> str:
        exclude = set(OmegaConf.select(self.config,
                                       "hydra.job.config.override_dirname.exclude_keys",
                                       default=[]) or [])
        parts = sorted(o for o in base if _key(o) not in exclude and not _key(o).startswith(
            "hydra"))
        return ",".join(parts) or "run"

    def _jobs(self, points: list[dsn.Point], base_jobs: list[list[str]],
              values=None) -> list[tuple[list[str], Path]]:
        """(overrides, run dir) of every point on every base job; ``values(point, base)``
        gives per-stratum overrides (uncertainty worlds)."""
        root = Path(str(self.config.hydra.sweep.dir))
        jobs = []
        for p in points:
            for base in base_jobs:
                ov = dict(p.overrides)
                if values is not None:
                    ov.update(values(p, base))
                name = self._name(base)
                items = [f"strategy={ov.pop('strategy')}"] if "strategy" in ov else []
                items += [f"{k}={_value(v)}" for k, v in ov.items()]
                sub = f"{p.id}/{name}"
                jobs.append(([*base, *items, f"hydra.sweep.subdir='{sub}'"], root / sub))
        return jobs

    def _launch(self, jobs: list[tuple[list[str], Path]]) -> None:
        batches = self.split_overrides_to_chunks([o for o, _ in jobs], self.max_batch_size)
        for batch in batches:
            results = self.launcher.launch(batch, initial_job_idx=self.job_idx)
            for r in results:
                _ = r.return_value  # raises if the job failed
            self.job_idx += len(batch)

    # ----------------------------------------------------------------- sweep

    def sweep(self, arguments: list[str]) -> Any:
        spec = self._spec()
        root = Path(str(self.config.hydra.sweep.dir))
        root.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, root / "multirun.yaml")
        base_jobs = self._base_jobs(arguments)
        if spec.kind == "factorial":
            points = dsn.factorial(spec)
            groups = dsn.lever_groups(spec)
            dsn.write_design(root, spec, points, factors={
                g: {k: list(v) for k, v in keys.items()} for g, keys in groups.items()})
            jobs = self._jobs(points, base_jobs)
        elif spec.kind == "uncertainty":
            points, params = dsn.worlds(spec)
            values = self._world_values(params, spec)
            jobs = self._jobs(points, base_jobs, values)
            dsn.write_design(root, spec, points, parameters=params, band=spec.band,
                             values=values.table)
        elif spec.kind == "optimise":
            return self._optimise(spec, base_jobs, root)
        else:
            raise ValueError(f"study kind {spec.kind!r} runs with Hydra's basic sweeper")
        progress.start(root, len(jobs))
        self._launch(jobs)
        return []

    # ----------------------------------------------------------------- worlds

    def _world_values(self, params: list[dict[str, Any]], spec: StudySpec):
        """values(point, base) for the worlds: each sampled key around the value the
        stratum's config has (composed once per stratum, with the baseline preset)."""
        loader = self.hydra_context.config_loader
        cache: dict[str, dict[str, float]] = {}
        table: dict[str, dict[str, dict[str, float]]] = {}

        def stratum(base: list[str]) -> str:
            return ",".join(o for o in base if _key(o) != "seed")

        def values(p: dsn.Point, base: list[str]) -> dict[str, float]:
            s = stratum(base)
            if s not in cache:
                cfg = loader.load_sweep_config(self.config,
                                               [*base, f"strategy={spec.baseline}"])
                cache[s] = {r["key"]: float(OmegaConf.select(cfg, r["key"])) for r in params}
            out = {}
            for r in params:
                v0 = cache[s][r["key"]]
                if v0 == 0.0:
                    continue
                out[r["key"]] = dsn.world_value(v0, p.info["u"][r["key"]], spec.band, r)
            table.setdefault(s or "all", {})[str(p.info["world"])] = out
            return out

        values.table = table
        return values

    # ----------------------------------------------------------------- optimise

    def _summaries(self, jobs: list[tuple[list[str], Path]]) -> list[dict[str, Any]]:
        out = []
        for _, run_dir in jobs:
            try:
                out.append(json.loads((run_dir / "summary.json").read_text()))
            except (OSError, ValueError):
                pass
        return out

    def _optimise(self, spec: StudySpec, base_jobs: list[list[str]], root: Path) -> Any:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        space = dsn.search_space(spec)
        refs = [dsn.Point("baseline", {"strategy": spec.baseline}, {"role": "baseline"}),
                dsn.Point("challenger", {"strategy": spec.challenger}, {"role": "challenger"})]
        progress.start(root, len(base_jobs) * (len(refs) + spec.trials))
        extra = {"space": {k: list(v) for k, v in space.items()}, "budget": spec.budget}
        dsn.write_design(root, spec, refs, **extra)
        jobs = self._jobs(refs, base_jobs)
        self._launch(jobs)
        summaries = self._summaries(jobs)
        objectives = list(spec.objectives or [
            next((k for k in DECISION_KPIS if summaries and k in summaries[0]), "gross_profit"),
            "monthly_churn_rate"])
        directions = ["minimize" if KPIS[k][1] < 0 else "maximize" for k in objectives]
        extra["objectives"] = objectives

        def constraints(trial) -> list[float]:
            return trial.user_attrs.get("constraint", [0.0])

        sampler = optuna.samplers.NSGAIISampler(
            population_size=max(2, spec.batch), seed=spec.design_seed,
            constraints_func=constraints if spec.budget is not None else None)
        study = optuna.create_study(directions=directions, sampler=sampler)
        points = list(refs)
        done = 0
        while done < spec.trials:
            asked = [study.ask() for _ in range(min(spec.batch, spec.trials - done))]
            batch = []
            for t in asked:
                with warnings.catch_warnings():  # float steps rarely divide the range exactly
                    warnings.simplefilter("ignore")
                    settings = {k: dsn.nice(t.suggest_float(k, lo, hi, step=step) if hi > lo
                                            else lo) for k, (lo, hi, step) in space.items()}
                batch.append(dsn.Point(dsn.trial_id(settings),
                                       {"strategy": spec.baseline, **settings},
                                       {"trial": t.number, "settings": settings}))
            points += batch
            dsn.write_design(root, spec, points, **extra)
            per_point = [self._jobs([p], base_jobs) for p in batch]
            self._launch([j for jobs in per_point for j in jobs])  # one batch: all cores
            for t, jobs in zip(asked, per_point, strict=True):
                runs = self._summaries(jobs)
                vals = [_mean([r.get(k) for r in runs]) for k in objectives]
                if spec.budget is not None:
                    t.set_user_attr("constraint", [_mean([r.get("cost") for r in runs])
                                                   - spec.budget])
                if any(not math.isfinite(v) for v in vals):
                    study.tell(t, state=optuna.trial.TrialState.FAIL)
                else:
                    study.tell(t, vals)
            done += len(asked)
        return []


def _mean(xs: Sequence[Any]) -> float:
    vals = [float(x) for x in xs if x is not None and math.isfinite(float(x))]
    return sum(vals) / len(vals) if vals else math.nan
