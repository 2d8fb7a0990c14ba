"""Population scaling error: headline KPIs of a scaled run vs a run with more simulated users.

    .venv/bin/python benchmarks/scaling.py                       # 10M real users, 3 seeds
    .venv/bin/python benchmarks/scaling.py --pairs 10000000x1:1000000x10 10000000x10:1000000x100
    .venv/bin/python benchmarks/scaling.py --days 365 --seeds 1 2 3 --jobs 2

A pair ``A:B`` (each ``USERSxSCALE``) compares B, the scaled run, with A, the reference,
on the same real population (users x scale must agree): ``10000000x1:1000000x10`` is a
10M-user market simulated user by user vs with one simulated user standing for 10;
``10000000x10:1000000x100`` is a 100M-user market at scale 10 vs 100. Each run is a
subprocess (phone market, default strategy, every mechanism on, plus ``--set`` overrides).
For each KPI the table gives the seed means, the relative error of B against A, and the
seed-to-seed standard error of that difference (paired by seed: the same seed gives user i
the same traits at every size), so an error can be told from noise. Results go to
``--out`` (JSON); docs/scaling.md records a run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
KPIS = ("members_end", "members_ever", "customers_end", "monthly_churn_rate", "repurchase_rate",
        "referral_share", "referral_share_brand", "lead_conversion", "purchases",
        "public_purchases", "revenue", "brand_revenue", "cost", "gross_profit", "roi", "clv",
        "nps", "mean_satisfaction", "k_factor", "new_customers_store",
        "new_customers_referral", "incidents")


def child(users: int, scale: int, days: int, seed: int, overrides: list[str]) -> dict:
    from sim import SiyuModel, load_config

    cfg = load_config([f"population.n_users={users}", f"population.scale={scale}",
                       f"days={days}", f"seed={seed}", "market=phone",
                       "output.progress=false", *overrides])
    t0 = time.perf_counter()
    model = SiyuModel(cfg)
    model.run()
    s = model.summary()
    return {"users": users, "scale": scale, "days": days, "seed": seed,
            "wall_s": time.perf_counter() - t0,
            "kpis": {k: s[k] for k in KPIS if k in s},
            "costs": {k: s[k] for k in sorted(s) if k.startswith("cost_")}}


def spawn(users: int, scale: int, days: int, seed: int, overrides: list[str]) -> dict:
    args = [sys.executable, __file__, "--child", json.dumps([users, scale, days, seed, overrides])]
    out = subprocess.run(args, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"run failed: {users}x{scale} seed {seed}\n{out.stderr}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"  {users:>11,} users x scale {scale:>3}, seed {seed}: {r['wall_s']:.0f} s", flush=True)
    return r


def compare(ref: list[dict], scaled: list[dict]) -> list[dict]:
    """Per KPI: seed means, relative error of the scaled mean, standard error of it."""
    rows = []
    by_seed = {r["seed"]: r["kpis"] for r in ref}
    for k in KPIS:
        pairs = [(by_seed[r["seed"]].get(k), r["kpis"].get(k)) for r in scaled
                 if r["seed"] in by_seed]
        pairs = [(a, b) for a, b in pairs if a is not None and b is not None
                 and math.isfinite(a) and math.isfinite(b)]
        if not pairs:
            continue
        ma = sum(a for a, _ in pairs) / len(pairs)
        mb = sum(b for _, b in pairs) / len(pairs)
        d = [b - a for a, b in pairs]
        md = sum(d) / len(d)
        se = (math.sqrt(sum((x - md) ** 2 for x in d) / (len(d) - 1) / len(d))
              if len(d) > 1 else float("nan"))
        rel = md / abs(ma) if ma else float("nan")
        rows.append({"kpi": k, "reference": ma, "scaled": mb, "rel_error": rel,
                     "rel_se": se / abs(ma) if ma else float("nan"), "seeds": len(pairs)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", nargs="*", default=["10000000x1:1000000x10"],
                    help="REFERENCE:SCALED, each USERSxSCALE on the same real population")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seeds", nargs="*", type=int, default=[1, 2, 3])
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE")
    ap.add_argument("--jobs", type=int, default=1, help="runs at once (each 10M run ~4 GiB)")
    ap.add_argument("--out", default=str(HERE.parent / "multirun" / "bench_scaling.json"))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(*json.loads(a.child))))
        return

    plan = []
    for pair in a.pairs:
        (ua, ka), (ub, kb) = (map(int, side.split("x")) for side in pair.split(":"))
        if ua * ka != ub * kb:
            raise SystemExit(f"{pair}: users x scale differ ({ua * ka:,} vs {ub * kb:,})")
        plan.append((pair, (ua, ka), (ub, kb)))
    runs = {(u, k, s) for _, ra, rb in plan for (u, k) in (ra, rb) for s in a.seeds}
    print(f"{len(runs)} runs, {a.days} days, seeds {a.seeds}, {a.jobs} at a time", flush=True)
    with ThreadPoolExecutor(max_workers=a.jobs) as pool:
        futures = {key: pool.submit(spawn, *key[:2], a.days, key[2], a.set)
                   for key in sorted(runs, key=lambda r: -r[0])}
        done = {key: f.result() for key, f in futures.items()}
    out = {"days": a.days, "seeds": a.seeds, "overrides": a.set, "pairs": {},
           "runs": list(done.values()),
           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "cores": os.cpu_count()}
    for pair, (ua, ka), (ub, kb) in plan:
        ref = [done[(ua, ka, s)] for s in a.seeds]
        scaled = [done[(ub, kb, s)] for s in a.seeds]
        rows = compare(ref, scaled)
        out["pairs"][pair] = rows
        print(f"\n{ua:,} users x {ka} (reference) vs {ub:,} users x {kb} (scaled), "
              f"{ua * ka:,} real users, {a.days} days, {len(a.seeds)} seeds")
        print(f"{'kpi':>24} {'reference':>14} {'scaled':>14} {'error':>8} {'+-se':>7}")
        for r in rows:
            print(f"{r['kpi']:>24} {r['reference']:>14.6g} {r['scaled']:>14.6g} "
                  f"{100 * r['rel_error']:>7.2f}% {100 * r['rel_se']:>6.2f}%")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
