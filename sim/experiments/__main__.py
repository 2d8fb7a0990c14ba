"""``python -m sim.experiments``: rebuild a study's table and report from a sweep dir.

    python -m sim.experiments report multirun/promo_vs_service/20000users_730days
    python -m sim.experiments aggregate multirun/promo_vs_service/20000users_730days
    python -m sim.experiments list
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

CONF_EXPERIMENTS = Path(__file__).resolve().parents[2] / "conf" / "experiment"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.experiments", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("report", help="aggregate a sweep dir and (re)build its report.html")
    p.add_argument("sweep_dir", type=Path)
    p = sub.add_parser("aggregate", help="write runs.parquet (a row per finished run)")
    p.add_argument("sweep_dir", type=Path)
    sub.add_parser("list", help="the studies in experiments/ and their questions")
    args = ap.parse_args(argv)

    try:
        if args.cmd == "report":
            from sim.experiments.report import build_report

            print(f"siyu-sim: report {build_report(args.sweep_dir).resolve()}")
        elif args.cmd == "aggregate":
            from sim.experiments.aggregate import aggregate

            sweep = aggregate(args.sweep_dir)
            for d, why in sweep.ignored:
                print(f"siyu-sim: ignored {d}: {why}")
            print(f"siyu-sim: {len(sweep.runs)} runs -> {sweep.root / 'runs.parquet'}")
        else:
            from omegaconf import OmegaConf

            for path in sorted(CONF_EXPERIMENTS.glob("*.yaml")):
                node = OmegaConf.load(path)
                study = OmegaConf.select(node, "hydra.callbacks.study", default=None)
                if study is None:
                    print(f"{path.stem}: not a study (no hydra.callbacks.study); "
                          f"python -m sim experiment={path.stem}")
                    continue
                question = " ".join(str(study.get("question", "")).split())
                print(f"{path.stem}: python -m sim -m experiment={path.stem}\n  {question}")
    except (FileNotFoundError, ValueError) as err:
        print(f"siyu-sim: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
