"""``python -m sim.experiments``: rebuild a study's table and report from a sweep dir.

    python -m sim.experiments report multirun/promo_vs_service/20000users_730days
    python -m sim.experiments report DIR --lang en --pdf     # English, and report.pdf
    python -m sim.experiments aggregate multirun/promo_vs_service/20000users_730days
    python -m sim.experiments list
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.paths import EXPERIMENTS_DIR as CONF_EXPERIMENTS


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.experiments", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("report", help="aggregate a sweep dir and (re)build its report.html")
    p.add_argument("sweep_dir", type=Path)
    p.add_argument("--lang", choices=["zh", "en"], default=None,
                   help="report language (default: the runs' report.lang)")
    p.add_argument("--pdf", action="store_true", help="also write report.pdf beside it")
    p = sub.add_parser("aggregate", help="write runs.parquet (a row per finished run)")
    p.add_argument("sweep_dir", type=Path)
    sub.add_parser("list", help="the studies in experiments/ and their questions")
    args = ap.parse_args(argv)

    try:
        if args.cmd == "report":
            from sim.experiments.report import build_report

            path, summary = build_report(args.sweep_dir, lang=args.lang, pdf=args.pdf,
                                         with_summary=True)
            print(summary)
            print(f"siyu-sim: report {path.resolve()}")
            if args.pdf:
                print(f"siyu-sim: pdf {(path.parent / 'report.pdf').resolve()}")
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
                kind = study.get("kind", "compare")
                print(f"{path.stem} ({kind}): python -m sim -m experiment={path.stem}\n"
                      f"  {question}")
    except (FileNotFoundError, ValueError) as err:
        print(f"siyu-sim: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
