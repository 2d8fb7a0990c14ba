"""Sweep scaling: the same Hydra sweep on 1 worker and on 2 (the joblib launcher), timed,
and their results compared number for number.

    .venv/bin/python benchmarks/sweep.py              # 4 runs of 1M users x 1,095 days (~3 min)
    .venv/bin/python benchmarks/sweep.py --users 400000 --days 730 --seeds 1 2 3 4

First the same sweep of 5-day runs of 2,000 users, on 1 worker and on 2: what a sweep costs
besides its runs (Hydra, checking every job, starting the workers and importing the simulator
in them, which a 1-worker sweep does not do: joblib runs it in the main process).

The sweep is ``strategy=promotion_heavy,service_led`` x ``seed`` (phone market, every
mechanism on) through ``python -m sim -m ... hydra/launcher=joblib hydra.launcher.n_jobs=N``,
each into its own sweep dir under ``--root``. The 1-worker sweep runs twice: on numba's
threads (its runs' member passes use every core, sim/core/jit.py) and on one thread
(``NUMBA_NUM_THREADS=1``: what the processes alone scale from); a 2-worker sweep's workers
run one thread each on 2 cores (joblib sets ``NUMBA_NUM_THREADS`` to cores // workers).
The wall time of each sweep is the whole
command (start-up, the workers' imports, every run, writing outputs). Each run's
``summary.json`` must agree between the two sweeps in every number but the timings, which
is what common random numbers promise: a run's numbers do not depend on where, beside
what or on how many threads it ran. Results go to ``--out`` (JSON); docs/benchmarks.md records a run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VOLATILE = {"timing", "version", "code_version", "run_dir", "created", "host"}


def sweep(n_jobs: int, args, sweep_dir: Path, threads: int | None = None) -> float:
    if sweep_dir.exists():
        shutil.rmtree(sweep_dir)
    cmd = [sys.executable, "-m", "sim", "-m", "strategy=promotion_heavy,service_led",
           f"seed={','.join(map(str, args.seeds))}", f"population.n_users={args.users}",
           f"days={args.days}", "market=phone", "output.figures=false", "output.progress=false",
           "hydra/launcher=joblib", f"hydra.launcher.n_jobs={n_jobs}",
           f"hydra.sweep.dir={sweep_dir}", *args.set]
    env = dict(os.environ)
    if threads:
        env["NUMBA_NUM_THREADS"] = str(threads)
    print(f"{n_jobs} worker(s){f' on {threads} thread(s)' if threads else ''}: "
          f"{' '.join(cmd[1:])}", flush=True)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False, env=env)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"sweep failed ({n_jobs} workers):\n{out.stderr[-4000:]}")
    return wall


def summaries(sweep_dir: Path) -> dict[str, dict]:
    found = {}
    for p in sorted(sweep_dir.rglob("summary.json")):
        s = json.loads(p.read_text())
        key = p.parent.relative_to(sweep_dir).as_posix()
        found[key] = s
    return found


def numbers(obj, prefix: str = "") -> dict[str, object]:
    """Every leaf of a summary, by dotted key, less the volatile ones (timings, paths)."""
    out = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in VOLATILE:
                continue
            out.update(numbers(v, f"{prefix}{k}."))
    else:
        out[prefix.rstrip(".")] = obj
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=1095)
    ap.add_argument("--seeds", nargs="*", type=int, default=[1, 2])
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE")
    ap.add_argument("--root", default=str(ROOT / "multirun" / "bench_sweep"))
    ap.add_argument("--out", default=str(ROOT / "multirun" / "bench_sweep" / "sweep.json"))
    ap.add_argument("--no-probe", action="store_true",
                    help="skip the fixed-cost probe (the same sweep of 5-day runs of 2,000 users)")
    a = ap.parse_args()
    root = Path(a.root)
    fixed = {}
    if not a.no_probe:  # what each sweep costs besides its runs: start-up, workers, teardown
        tiny = argparse.Namespace(**{**vars(a), "users": 2000, "days": 5})
        for n_jobs in (1, 2):
            fixed[n_jobs] = sweep(n_jobs, tiny, root / f"probe{n_jobs}")
        print(f"  fixed cost of the sweep (its runs of 2,000 users x 5 days): 1 worker "
              f"{fixed[1]:.1f} s, 2 workers {fixed[2]:.1f} s", flush=True)
    walls, found = {}, {}
    for key, n_jobs, threads in (("1", 1, None), ("1x1", 1, 1), ("2", 2, None)):
        d = root / f"{key}workers"
        walls[key] = sweep(n_jobs, a, d, threads)
        found[key] = summaries(d)
        print(f"  {len(found[key])} runs in {walls[key]:.1f} s", flush=True)
    runs = sorted(found["1"])
    if any(runs != sorted(found[k]) for k in found) or not runs:
        raise SystemExit(f"the sweeps made different runs: { {k: sorted(v) for k, v in found.items()} }")
    differ = []
    for r in runs:
        for k in ("1x1", "2"):
            a1, a2 = numbers(found["1"][r]), numbers(found[k][r])
            bad = sorted(x for x in set(a1) | set(a2)
                         if a1.get(x) != a2.get(x) and not (a1.get(x) != a1.get(x)
                                                            and a2.get(x) != a2.get(x)))  # nan
            if bad:
                differ.append((r, k, bad[:5]))
    speedup = walls["1x1"] / walls["2"]
    speedup_threads = walls["1"] / walls["2"]
    compute = {k: sum(found[k][r].get("timing", {}).get("run_s", 0.0) for r in runs)
               for k in found}
    print(f"{len(runs)} runs of {a.users:,} users x {a.days} days: 1 worker on 1 thread "
          f"{walls['1x1']:.1f} s, 1 worker on numba's threads {walls['1']:.1f} s, 2 workers "
          f"{walls['2']:.1f} s; speedup {speedup:.2f}x over 1 worker on 1 thread (target >= "
          f"1.8x on 2 cores), {speedup_threads:.2f}x over 1 worker on its threads; "
          + ("every number the same" if not differ else f"DIFFERENT numbers: {differ}")
          + "; the runs' own time summed: "
          + ", ".join(f"{k} {v:.1f} s" for k, v in compute.items()))
    result = {"users": a.users, "days": a.days, "seeds": a.seeds, "runs": len(runs),
              "wall_s": walls, "speedup": speedup, "speedup_over_threads": speedup_threads,
              "runs_s": compute,
              "fixed_s": {str(k): v for k, v in fixed.items()},
              "same_numbers": not differ, "differences": differ, "cores": os.cpu_count(),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {a.out}")
    if differ:
        sys.exit(1)


if __name__ == "__main__":
    main()
