"""Fit a problem's free parameters with Optuna; the study lives in a SQLite file in the run dir.

Every trial runs each arm on the same seeds (common random numbers: the difference between
two trials is the effect of their parameters, not of luck) and scores
``sum_i w_i ((mean over seeds of measure_i - target_i) / tolerance_i)^2``. The study is an
Optuna RDB study in ``OUT/study.sqlite3``: running the same command again resumes it (a
trial cut off by an interruption is failed after its heartbeat goes stale and queued
again), and ``trials`` is the number of *complete* trials the study should end with.
"""

from __future__ import annotations

import copy
import dataclasses
import fcntl
import json
import logging
import math
import time
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.calibration.problems import CalibrationError, Param, Problem, measure
from sim.config import Config, ConfigError, validate
from sim.config.keys import get_key, parent_of

NAN_PENALTY = 1e3        # objective added per target whose measure is undefined (no events)
STUDY_FILE = "study.sqlite3"


# --------------------------------------------------------------------------- configs


def get_value(cfg: Config, key: str) -> Any:
    return get_key(cfg, key)


def set_values(cfg: Config, values: dict[str, float]) -> Config:
    """A validated copy of ``cfg`` with dotted ``values`` set (cast to each field's type).

    Gives the same Config as appending ``key=value`` Hydra overrides to ``load_config``
    (tests/test_calibration.py checks it) without composing again (~0.2 s a run).
    """
    cfg = copy.deepcopy(cfg)
    for key, value in values.items():
        obj, name = parent_of(cfg, key)
        if name not in {f.name for f in dataclasses.fields(obj)}:
            raise CalibrationError(f"{key}: unknown key")
        old = getattr(obj, name)
        if isinstance(old, bool):
            raise CalibrationError(f"{key}: a switch cannot be calibrated")
        setattr(obj, name, int(round(value)) if isinstance(old, int) else float(value))
    validate(cfg)
    return cfg


def hydra_overrides(values: dict[str, float]) -> list[str]:
    """The same values as Hydra command-line overrides."""
    return [f"{k}={v!r}" for k, v in values.items()]


def round_value(p: Param, v: float, digits: int = 4) -> float:
    """``v`` to ``digits`` significant digits, kept inside the bounds."""
    r = float(f"{v:.{digits}g}")
    return min(max(r, p.low), p.high)


# --------------------------------------------------------------------------- evaluation


class Evaluator:
    """Runs a problem's arms on given seeds for given parameter values.

    The composed config of each (arm, seed) is cached; trial values are set on a copy.
    """

    def __init__(self, problem: Problem):
        self.problem = problem
        self._base: dict[tuple[str, int], Config] = {}
        self.runs = 0
        self.seconds = 0.0

    def base(self, arm: str, seed: int) -> Config:
        key = (arm, seed)
        if key not in self._base:
            from sim.cli import load_config

            self._base[key] = load_config(self.problem.overrides(self.problem.arm(arm), seed))
        return self._base[key]

    def start_values(self) -> dict[str, float]:
        """The preset's own values of the free parameters (first arm, first seed)."""
        cfg = self.base(self.problem.arms[0].name, self.problem.seeds[0])
        return {p.key: float(get_value(cfg, p.key)) for p in self.problem.params}

    def run(self, values: dict[str, float], seeds: tuple[int, ...] | list[int]
            ) -> dict[str, np.ndarray]:
        """Each target's measure on each seed: ``{target name: array over seeds}``."""
        from sim.core.model import SiyuModel

        logging.getLogger("MESA").setLevel(logging.WARNING)
        out = {t.name: np.full(len(seeds), np.nan) for t in self.problem.targets}
        arms = list(dict.fromkeys(t.arm for t in self.problem.targets))
        for arm in arms:
            targets = [t for t in self.problem.targets if t.arm == arm]
            for i, seed in enumerate(seeds):
                cfg = set_values(self.base(arm, seed), values)
                t0 = time.perf_counter()
                model = SiyuModel(cfg)
                model.run()
                summary, series = model.summary(), model.series()
                self.seconds += time.perf_counter() - t0
                self.runs += 1
                for t in targets:
                    out[t.name][i] = measure(t.measure, summary, series)
        return out


def objective(problem: Problem, measured: dict[str, np.ndarray]) -> float:
    """``sum w ((mean - target) / tolerance)^2``; an undefined mean costs NAN_PENALTY."""
    total = 0.0
    for t in problem.targets:
        v = measured[t.name]
        m = float(np.nanmean(v)) if np.isfinite(v).any() else math.nan
        total += t.weight * (NAN_PENALTY if not math.isfinite(m)
                             else ((m - t.value) / t.tolerance) ** 2)
    return total


# --------------------------------------------------------------------------- the study


@dataclass
class CalibrationResult:
    problem: Problem
    out_dir: Path
    start: dict[str, float]
    best: dict[str, float]                     # rounded as written to the preset
    best_trial: int
    best_objective: float                      # of the rounded values on the fitting seeds
    fit: dict[str, list[float]]                # rounded best, fitting seeds, per target
    check: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # start/calibrated
    history: list[dict[str, Any]] = field(default_factory=list)  # one row per trial
    seconds: float = 0.0
    runs: int = 0
    files: list[Path] = field(default_factory=list)


@contextmanager
def _exclusive(out_dir: Path):
    """One calibration per run dir at a time (the study file is not shared)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / ".lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CalibrationError(f"{out_dir}: another calibration is running in this "
                                   "directory") from None
        yield


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy address of the sqlite file ``path``, escaped: a path holding ``?``,
    ``#`` or ``%`` names that file, never a query string or options."""
    from sqlalchemy.engine import URL, make_url

    path = Path(path).resolve()
    url = URL.create("sqlite", database=str(path)).render_as_string(hide_password=False)
    if make_url(url).database != str(path):  # an SQLAlchemy without escaping: refuse
        raise CalibrationError(f"--out={path.parent}: this path cannot be written as an sqlite "
                               "address; allowed: a path without '?', '#' or '%'")
    return url


def open_study(problem: Problem, out_dir: Path, sampler_seed: int = 0):
    """Create or load the problem's study in ``out_dir/study.sqlite3``."""
    import optuna
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = RDBStorage(
            sqlite_url(out_dir / STUDY_FILE),
            # a trial cut off by an interruption goes stale and is queued again on resume
            heartbeat_interval=5, grace_period=15,
            heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=1),
        )
    study = optuna.create_study(study_name=f"calibrate-{problem.name}", storage=storage,
                                direction="minimize", load_if_exists=True)
    fp = problem.fingerprint()
    have = study.user_attrs.get("fingerprint")
    if have is None:
        study.set_user_attr("fingerprint", fp)
        study.set_user_attr("problem", json.loads(json.dumps(problem.to_dict())))
    elif have != fp:
        raise CalibrationError(
            f"{out_dir / STUDY_FILE} holds a study of a different problem (parameters, bounds, "
            "targets, arms, size or seeds changed); use another --out or delete the file")
    n_before = len(study.trials)
    # a resumed study gets a sampler seed it has not used, so it explores new points
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.sampler = optuna.samplers.TPESampler(
            seed=sampler_seed + n_before, multivariate=True,
            n_startup_trials=min(10, max(3, problem.trials // 4)))
    return study


def _complete(study) -> list:
    from optuna.trial import TrialState

    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def run_study(problem: Problem, out_dir: Path, evaluator: Evaluator, *, trials: int,
              sampler_seed: int = 0, echo: Callable[[str], None] | None = print):
    """Run trials until the study has ``trials`` complete ones; return the study."""
    import optuna
    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    study = open_study(problem, out_dir, sampler_seed)
    params = problem.params
    if not study.trials:
        start = {p.key: min(max(v, p.low), p.high) for p, v in
                 zip(params, evaluator.start_values().values(), strict=True)}
        study.enqueue_trial(start, user_attrs={"start": True})
    done = len(_complete(study))
    if echo and done:
        echo(f"resuming {out_dir / STUDY_FILE}: {done} complete trials")

    def fn(trial) -> float:
        values = {}
        for p in params:
            if isinstance(get_value(evaluator.base(problem.arms[0].name, problem.seeds[0]),
                                    p.key), int):
                values[p.key] = trial.suggest_int(p.key, int(p.low), int(p.high), log=p.log)
            else:
                values[p.key] = trial.suggest_float(p.key, p.low, p.high, log=p.log)
        t0 = time.perf_counter()
        measured = evaluator.run(values, problem.seeds)
        j = objective(problem, measured)
        trial.set_user_attr("measured", {k: [float(x) for x in v] for k, v in measured.items()})
        trial.set_user_attr("seconds", time.perf_counter() - t0)
        return j

    def report(study, trial) -> None:
        if echo and trial.state == TrialState.COMPLETE:
            n = len(_complete(study))
            echo(f"  trial {trial.number:3d} ({n}/{trials} complete): objective "
                 f"{trial.value:9.3f}, best {study.best_value:9.3f} "
                 f"({trial.user_attrs.get('seconds', 0):.1f} s)")

    attempts = 0
    while len(_complete(study)) < trials and attempts < 3:
        attempts += 1
        left = trials - len(_complete(study))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.optimize(fn, n_trials=left, catch=(ConfigError, CalibrationError),
                           callbacks=[MaxTrialsCallback(trials, states=(TrialState.COMPLETE,)),
                                      report])
    return study


def calibrate(problem: Problem, out_dir: str | Path, *, trials: int | None = None,
              sampler_seed: int = 0, check: bool = True, command: str | None = None,
              echo: Callable[[str], None] | None = print) -> CalibrationResult:
    """Fit ``problem`` (resuming the study in ``out_dir``), check it on fresh seeds, write
    the calibrated preset, the report and its figures into ``out_dir``."""
    from sim.calibration.report import write_outputs

    out_dir = Path(out_dir)
    trials = problem.trials if trials is None else int(trials)
    if trials < 1:
        raise CalibrationError("trials must be >= 1")
    problem = problem.replace(trials=trials)
    t0 = time.perf_counter()
    evaluator = Evaluator(problem)
    with _exclusive(out_dir):
        study = run_study(problem, out_dir, evaluator, trials=trials, sampler_seed=sampler_seed,
                          echo=echo)
        complete = _complete(study)
        if not complete:
            raise CalibrationError("no trial completed; see the errors above")
        best_trial = min(complete, key=lambda t: t.value)
        start = evaluator.start_values()
        best = {p.key: round_value(p, best_trial.params[p.key]) for p in problem.params}
        # the preset holds rounded values: score those, on the fitting seeds
        fit = evaluator.run(best, problem.seeds)
        history = [{"trial": t.number, "objective": t.value, "params": t.params,
                    "measured": t.user_attrs.get("measured", {}),
                    "start": bool(t.user_attrs.get("start"))} for t in complete]
        history.sort(key=lambda r: r["trial"])
        result = CalibrationResult(
            problem=problem, out_dir=out_dir, start=start, best=best,
            best_trial=best_trial.number, best_objective=objective(problem, fit),
            fit={k: [float(x) for x in v] for k, v in fit.items()}, history=history)
        if check and problem.check_seeds:
            if echo:
                echo(f"checking start and calibrated values on seeds "
                     f"{' '.join(map(str, problem.check_seeds))}")
            for label, values in (("start", start), ("calibrated", best)):
                res = evaluator.run(values, problem.check_seeds)
                result.check[label] = {k: [float(x) for x in v] for k, v in res.items()}
        result.seconds = time.perf_counter() - t0
        result.runs = evaluator.runs
        result.files = write_outputs(result, command=command)
    return result
