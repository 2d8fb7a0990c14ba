"""Speed and memory of siyu-sim on this machine.

    .venv/bin/python benchmarks/bench.py                      # default + member-heavy + kernel
    .venv/bin/python benchmarks/bench.py --workloads default  # one named workload
    .venv/bin/python benchmarks/bench.py --sizes 20000x730 --no-kernel
    .venv/bin/python benchmarks/bench.py --workloads member-heavy --set strategy=promotion_heavy
    SIYU_KERNELS=numpy .venv/bin/python benchmarks/bench.py --workloads member-heavy  # numpy path

Named workloads (phone market, the default strategy service_led, every mechanism on):

* ``small``: 100,000 users x 365 days (a quick check);
* ``default``: 1,000,000 users x 1,095 days, the default scenario (2% of users in the
  private domain at day 0), the workload README's speed claim names;
* ``member-heavy``: the whole brand: 10,000,000 users x 1,095 days with 1,000,000 members
  at day 0 (``market.initial_member_share=0.1``; DOMAIN.md: Honor's ~1M in groups).

Each workload runs in its own subprocess, so its peak RSS is its own. For each it prints
build time, run time, members at the start and the end, member-days and user-days per
second, peak RSS and the per-phase split of the step. Then the model reduced by config to
buy / refer / churn (every mechanism but purchase, funnel, referral and churn off) is timed
against the hand-written numpy kernel of the same process (benchmarks/kernel.py) on the
same population and graph, by default at the member-heavy size. Results go to
benchmarks/results.json; docs/benchmarks.md records runs with their machine.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MEMBER_HEAVY = ["market.initial_member_share=0.1"]
WORKLOADS = {  # name: (users, days, overrides)
    "small": (100_000, 365, []),
    "default": (1_000_000, 1095, []),
    "member-heavy": (10_000_000, 1095, MEMBER_HEAVY),
}
DEFAULT_WORKLOADS = ["default", "member-heavy"]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def config(n: int, days: int, overrides: list[str]):
    from sim import load_config

    return load_config([f"population.n_users={n}", f"days={days}", "market=phone",
                        "output.progress=false", *overrides])


def one(n: int, days: int, overrides: list[str]) -> dict:
    """Build and run one model in this process (the subprocess side)."""
    from sim import SiyuModel

    cfg = config(n, days, overrides)
    t0 = time.perf_counter()
    model = SiyuModel(cfg)
    build = time.perf_counter() - t0
    members_start = len(model.members())
    t1 = time.perf_counter()
    model.run(days)
    run = time.perf_counter() - t1
    s = model.summary()
    member_days = float(model.series()["n_members"].sum()) / cfg.population.scale
    return {"n_users": n, "days": days, "overrides": overrides, "strategy": cfg.strategy.name,
            "build_s": build, "run_s": run, "ms_per_day": 1000 * run / days,
            "members_start": members_start, "members_end": len(model.members()),
            "members_mean": member_days / days, "member_days_per_s": member_days / run,
            "user_days_per_s": n * days / run, "peak_rss_mib": peak_rss_mib(),
            "phases_s": dict(sorted(model.timer.seconds.items(), key=lambda kv: -kv[1])),
            "purchases": s["purchases"], "public_purchases": s["public_purchases"]}


def kernel_compare(n: int, days: int, overrides: list[str]) -> dict:
    """Reduced model vs the hand-written kernel on the same population and graph."""
    sys.path.insert(0, str(HERE))
    from kernel import reduced_overrides, run_kernel

    from sim import SiyuModel

    base = config(n, days, overrides)
    cfg = config(n, days, [*overrides, *reduced_overrides(base.mechanisms)])
    model = SiyuModel(cfg)
    t0 = time.perf_counter()
    model.run(days)
    model_s = time.perf_counter() - t0
    s = model.summary()
    result = {"n_users": n, "days": days, "overrides": overrides, "model_s": model_s,
              "model_phases_s": dict(model.timer.seconds),
              "model_members_end": len(model.members()), "model_purchases": s["purchases"],
              "model_public_purchases": s["public_purchases"],
              "model_member_days": float(model.series()["n_members"].sum())}
    del model, s
    gc.collect()  # free the run (mechanisms and model refer to each other) before the copy
    k = run_kernel(SiyuModel(cfg), days)  # a pristine copy of the initial state
    result.update({"kernel_s": k["run_s"], "ratio": model_s / k["run_s"],
                   "kernel_members_end": k["members_end"], "kernel_purchases": k["purchases"],
                   "kernel_public_purchases": k["public_purchases"],
                   "kernel_member_days": k["member_days"], "peak_rss_mib": peak_rss_mib()})
    return result


def spawn(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                         env=dict(os.environ), check=False)
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
    from sim.core import jit

    try:
        import numba
        numba_version = numba.__version__
    except ImportError:
        numba_version = None
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem, 1),
            "python": platform.python_version(), "numpy": numpy.__version__,
            "numba": numba_version, "kernels": jit.MODE,  # SIYU_KERNELS
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def print_workload(name: str, r: dict) -> None:
    phases = ", ".join(f"{k} {v:.1f}" for k, v in r["phases_s"].items() if v >= 0.05)
    print(f"{name:>13} {r['n_users']:>11,} {r['days']:>5} {r['build_s']:>7.1f} {r['run_s']:>7.1f} "
          f"{r['members_start']:>10,} {r['members_end']:>10,} {r['member_days_per_s']:>10.3g} "
          f"{r['user_days_per_s']:>10.3g} {r['peak_rss_mib'] / 1024:>6.2f}  {phases}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", nargs="*", choices=sorted(WORKLOADS),
                    help=f"named workloads (default: {' '.join(DEFAULT_WORKLOADS)})")
    ap.add_argument("--sizes", nargs="*", default=[], help="more workloads as USERSxDAYS")
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                    help="config overrides for every workload, e.g. strategy=promotion_heavy")
    ap.add_argument("--no-kernel", action="store_true", help="skip the kernel comparison")
    ap.add_argument("--kernel-size", default="member-heavy",
                    help="a workload name or USERSxDAYS (member-heavy: 10M x 1095, 1M members)")
    ap.add_argument("--out", default=str(HERE / "results.json"))
    ap.add_argument("--child", nargs=3, metavar=("KIND", "SIZE", "OVERRIDES"),
                    help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        n, days = map(int, a.child[1].split("x"))
        ov = json.loads(a.child[2])
        res = one(n, days, ov) if a.child[0] == "one" else kernel_compare(n, days, ov)
        print(json.dumps(res))
        return

    names = a.workloads if a.workloads is not None else ([] if a.sizes else DEFAULT_WORKLOADS)
    plan = [(w, *WORKLOADS[w]) for w in names] + [
        (s, *map(int, s.split("x")), []) for s in a.sizes]
    results = {"machine": machine(), "overrides": a.set, "workloads": {}, "kernel": None}
    print(f"machine: {results['machine']}")
    print(f"{'workload':>13} {'users':>11} {'days':>5} {'build s':>7} {'run s':>7} "
          f"{'members@0':>10} {'members@end':>10} {'mbr-days/s':>10} {'usr-days/s':>10} "
          f"{'RSS GiB':>6}  phases (s)")
    for name, n, days, ov in plan:
        r = spawn(["--child", "one", f"{n}x{days}", json.dumps([*ov, *a.set])])
        results["workloads"][name] = r
        print_workload(name, r)
    if not a.no_kernel:
        if a.kernel_size in WORKLOADS:
            n, days, ov = WORKLOADS[a.kernel_size]
        else:
            (n, days), ov = map(int, a.kernel_size.split("x")), []
        k = spawn(["--child", "kernel", f"{n}x{days}", json.dumps([*ov, *a.set])])
        results["kernel"] = k
        print(f"buy/refer/churn at {k['n_users']:,} users x {k['days']} days: model "
              f"{k['model_s']:.1f} s, hand-written kernel {k['kernel_s']:.1f} s, ratio "
              f"{k['ratio']:.2f} (members at the end: model {k['model_members_end']:,}, kernel "
              f"{k['kernel_members_end']:,}; private purchases {k['model_purchases']:,} vs "
              f"{k['kernel_purchases']:,}; public {k['model_public_purchases']:,} vs "
              f"{k['kernel_public_purchases']:,}; peak RSS {k['peak_rss_mib'] / 1024:.2f} GiB)")
    out = Path(a.out)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
