"""Speed and memory of siyu-sim on this machine.

    .venv/bin/python benchmarks/bench.py            # 100k x 365, 1M x 1095, kernel comparison
    .venv/bin/python benchmarks/bench.py --full     # also 10M x 365 (needs ~several GiB, minutes)
    .venv/bin/python benchmarks/bench.py --sizes 20000x730 --no-kernel

Each workload runs in its own subprocess, so its peak RSS is its own. For each it prints
build time, time per simulated day, user-days per second, peak RSS and the per-phase split
of the step; then the model reduced by config to buy / refer / churn is timed against the
hand-written numpy kernel of the same process (benchmarks/kernel.py). Results are written
to benchmarks/results.json; docs/benchmarks.md records a run with its machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXTRA = [a for a in os.environ.get("BENCH_EXTRA", "").split() if a]
DEFAULT_SIZES = ["100000x365", "1000000x1095"]
FULL_SIZES = DEFAULT_SIZES + ["10000000x365"]
REDUCED = [f"mechanisms.{m}=false" for m in
           ("koc", "messaging", "groups", "events", "service", "membership", "acquisition")]
REDUCED += EXTRA


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def one(n: int, days: int, overrides: list[str]) -> dict:
    """Build and run one model in this process (the subprocess side)."""
    from sim import SiyuModel, load_config

    cfg = load_config([f"population.n_users={n}", f"days={days}", "market=phone",
                       "strategy=promotion_heavy", "output.progress=false", *overrides])
    t0 = time.perf_counter()
    model = SiyuModel(cfg)
    build = time.perf_counter() - t0
    t1 = time.perf_counter()
    model.run(days)
    run = time.perf_counter() - t1
    s = model.summary()
    return {"n_users": n, "days": days, "build_s": build, "run_s": run,
            "ms_per_day": 1000 * run / days, "user_days_per_s": n * days / run,
            "peak_rss_mib": peak_rss_mib(), "phases_s": model.timer.seconds,
            "members_end": s["members_end"], "purchases": s["purchases"]}


def kernel_compare(n: int, days: int) -> dict:
    """Reduced model vs the hand-written kernel on the same population and graph."""
    sys.path.insert(0, str(HERE))
    from kernel import run_kernel

    from sim import SiyuModel, load_config

    cfg = load_config([f"population.n_users={n}", f"days={days}", "market=phone",
                       "strategy=service_led", "output.progress=false", *REDUCED])
    model = SiyuModel(cfg)
    ref = SiyuModel(cfg)  # a pristine copy of the initial state for the kernel
    t0 = time.perf_counter()
    model.run(days)
    model_s = time.perf_counter() - t0
    k = run_kernel(ref, days)
    s = model.summary()
    return {"n_users": n, "days": days, "model_s": model_s, "kernel_s": k["run_s"],
            "ratio": model_s / k["run_s"], "model_members_end": s["members_end"],
            "kernel_members_end": k["members_end"], "model_purchases": s["purchases"],
            "kernel_purchases": k["purchases"]}


def spawn(args: list[str]) -> dict:
    env = dict(os.environ)
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                         env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f"benchmark child failed: {' '.join(args)}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine() -> dict:
    import numpy

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem, 1),
            "python": platform.python_version(), "numpy": numpy.__version__}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="add the 10M-user workload")
    ap.add_argument("--sizes", nargs="*", help="workloads as USERSxDAYS")
    ap.add_argument("--no-kernel", action="store_true", help="skip the kernel comparison")
    ap.add_argument("--kernel-size", default="1000000x365")
    ap.add_argument("--child", nargs=2, metavar=("KIND", "SIZE"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        n, days = map(int, a.child[1].split("x"))
        res = one(n, days, []) if a.child[0] == "one" else kernel_compare(n, days)
        print(json.dumps(res))
        return

    sizes = a.sizes or (FULL_SIZES if a.full else DEFAULT_SIZES)
    results = {"machine": machine(), "workloads": [], "kernel": None}
    print(f"machine: {results['machine']}")
    print(f"{'users':>11} {'days':>5} {'build s':>8} {'ms/day':>8} {'run s':>7} "
          f"{'user-days/s':>12} {'peak RSS MiB':>13}  phases (s)")
    for size in sizes:
        r = spawn(["--child", "one", size])
        results["workloads"].append(r)
        phases = ", ".join(f"{k} {v:.2f}" for k, v in r["phases_s"].items())
        print(f"{r['n_users']:>11,} {r['days']:>5} {r['build_s']:>8.2f} {r['ms_per_day']:>8.2f} "
              f"{r['run_s']:>7.2f} {r['user_days_per_s']:>12.3g} {r['peak_rss_mib']:>13.0f}  {phases}",
              flush=True)
    if not a.no_kernel:
        k = spawn(["--child", "kernel", a.kernel_size])
        results["kernel"] = k
        print(f"buy/refer/churn at {k['n_users']:,} users x {k['days']} days: model "
              f"{k['model_s']:.2f} s, hand-written kernel {k['kernel_s']:.2f} s, ratio "
              f"{k['ratio']:.2f} (members at end: model {k['model_members_end']:,}, kernel "
              f"{k['kernel_members_end']:,})")
    out = HERE / "results.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
