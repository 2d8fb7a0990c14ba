"""``python -m sim.calibration``: fit a preset to its target figures (docs/calibration.md).

    python -m sim.calibration --preset car --trials 40              # -> outputs/calibration/car/
    python -m sim.calibration --preset car --trials 60              # resume and extend to 60
    python -m sim.calibration --preset phone --install              # also copy the preset to conf/
    python -m sim.calibration --spec my_problem.yaml --out runs/mine

The study is ``OUT/study.sqlite3``: the same command resumes an interrupted calibration;
``--trials`` is the number of complete trials the study should end with. Writes
``OUT/calibration.md`` (targets vs simulated with their spread over fresh seeds, fitted
values, best trials), ``convergence.png``, ``targets.png``, ``calibration.json`` and the
calibrated preset under ``OUT/preset/`` (``--install`` copies it into ``conf/``, after which
``python -m sim market=<preset>_calibrated`` runs it).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

EXIT_ERROR = 2


def parser() -> argparse.ArgumentParser:
    from sim.calibration.problems import PROBLEMS

    ap = argparse.ArgumentParser(prog="python -m sim.calibration", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--preset", choices=sorted(PROBLEMS), help="a shipped calibration problem")
    src.add_argument("--spec", type=Path, help="a calibration problem in YAML (docs/calibration.md)")
    ap.add_argument("--out", type=Path, help="run dir holding the study (default: "
                    "outputs/calibration/<name>)")
    ap.add_argument("--trials", type=int, help="complete trials the study should have "
                    "(default: the problem's)")
    ap.add_argument("--seeds", type=int, nargs="+", help="fitting seeds (common to every trial)")
    ap.add_argument("--check-seeds", type=int, nargs="*", help="fresh seeds for the final check "
                    "(none: skip it)")
    ap.add_argument("--users", type=int, help="population.n_users (default: the problem's)")
    ap.add_argument("--days", type=int, help="days (default: the problem's)")
    ap.add_argument("--sampler-seed", type=int, default=0, help="seed of the TPE sampler")
    ap.add_argument("--install", action="store_true", help="copy the calibrated preset into conf/")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    a = parser().parse_args(argv)
    from sim.calibration.core import calibrate
    from sim.calibration.problems import CalibrationError, Problem, get_problem
    from sim.calibration.report import install_presets
    from sim.config import ConfigError

    try:
        problem = get_problem(a.preset) if a.preset else Problem.from_yaml(a.spec)
        changes = {}
        if a.seeds:
            changes["seeds"] = tuple(a.seeds)
        if a.check_seeds is not None:
            changes["check_seeds"] = tuple(a.check_seeds)
        if a.users:
            changes["n_users"] = a.users
        if a.days:
            changes["days"] = a.days
        if changes:
            problem = problem.replace(**changes)
        out = a.out or Path("outputs") / "calibration" / problem.name
        echo = None if a.quiet else (lambda s: print(s, flush=True))
        if echo:
            echo(f"calibrating {problem.name}: {len(problem.params)} parameters, "
                 f"{len(problem.targets)} targets, {problem.n_users:,} users x {problem.days} days, "
                 f"seeds {' '.join(map(str, problem.seeds))}; study {out / 'study.sqlite3'}")
        command = "python -m sim.calibration " + shlex.join(argv)
        result = calibrate(problem, out, trials=a.trials, sampler_seed=a.sampler_seed,
                           command=command, echo=echo)
        if a.install:
            for f in install_presets(out):
                print(f"installed {f}")
    except (CalibrationError, ConfigError, OSError) as err:
        print(f"siyu-sim calibrate: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    name = f"{problem.name}_calibrated"
    print(f"best (trial {result.best_trial}, objective {result.best_objective:.3g}): "
          + ", ".join(f"{k}={v:.4g}" for k, v in result.best.items()))
    print(f"wrote {out}/calibration.md, convergence.png, targets.png, calibration.json, "
          f"preset/market/{name}.yaml" + ("" if a.install else
                                          "  (add --install to copy the preset into conf/)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
