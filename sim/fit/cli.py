"""``python -m sim.fit``: a brand's transaction log in, a calibrated brand preset and its
forecast out (docs/fit.md).

    python -m sim.fit --transactions tx.csv --out outputs/fit/mybrand --calibration-end 2024-06-30
    python -m sim.fit --transactions tx.parquet --out DIR --market fresh_food --horizon 180
    python -m sim.fit ... --trials 80        # resume the study in DIR and extend it to 80 trials
    python -m sim.fit ... --install          # copy the preset into conf/: market=<name> works

The log needs one row per transaction with a customer id, a date and an amount (name your
columns with --customer-col, --date-col, --amount-col); channel, member and referred_by
columns are used when present. A log with bad rows is refused with one line per kind of
problem (count and first line numbers) and nothing is written. Exit status: 0 ok, 2 a bad
log or option.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from pathlib import Path

EXIT_ERROR = 2


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m sim.fit", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--transactions", type=Path, required=True, help="CSV (.csv/.txt/.tsv, "
                    "optionally .gz) or Parquet transaction log")
    ap.add_argument("--out", type=Path, required=True, help="output dir (holds the resumable study)")
    ap.add_argument("--calibration-end", metavar="YYYY-MM-DD", help="last day of the "
                    "calibration period; later days are the holdout (default: the log's last date)")
    ap.add_argument("--horizon", type=int, metavar="DAYS", help="forecast to the calibration end "
                    "+ DAYS (default: to the log's last date)")
    ap.add_argument("--market", metavar="BASE_PRESET", help="market preset to start from (default: "
                    "the hand-set preset whose need cycle is nearest the log's median gap)")
    ap.add_argument("--name", help="name of the fitted preset (default: from the file name)")
    g = ap.add_argument_group("columns")
    g.add_argument("--customer-col", default="customer_id")
    g.add_argument("--date-col", default="date")
    g.add_argument("--amount-col", default="amount")
    g.add_argument("--channel-col", default="channel", help="optional (used when present)")
    g.add_argument("--member-col", default="member", help="optional: only member rows are used")
    g.add_argument("--referred-by-col", default="referred_by", help="optional")
    g.add_argument("--delimiter", help="CSV field separator (default ','; 'tab'; 'whitespace' for "
                   "space-aligned text such as CDNOW_master.txt)")
    g.add_argument("--no-header", action="store_true", help="the file has no header: columns "
                   "are col1, col2, ...")
    f = ap.add_argument_group("fit")
    f.add_argument("--trials", type=int, default=40, help="complete trials the study should have")
    f.add_argument("--seeds", type=int, nargs="+", default=[1, 2], help="fitting seeds (common "
                   "to every trial)")
    f.add_argument("--check-seeds", type=int, nargs="+", default=list(range(101, 111)),
                   help="fresh seeds for the targets check and the forecast band")
    f.add_argument("--users", type=int, help="population.n_users (default: sized by a pilot run)")
    f.add_argument("--param", action="append", metavar="KEY=LOW:HIGH[:log]", help="a free "
                   "parameter (repeat; replaces the default four)")
    f.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                   help="Hydra override for every run, e.g. strategy=promotion_heavy (repeat)")
    f.add_argument("--sampler-seed", type=int, default=0)
    f.add_argument("--refine", type=int, default=4, help="at most this many Gauss-Newton steps "
                   "from the best trial (each a study trial; stops when a step gains < 2%%)")
    f.add_argument("--bootstrap", type=int, default=100, help="bootstrap resamples for the "
                   "targets' standard errors")
    f.add_argument("--install", action="store_true", help="copy the fitted preset into conf/")
    f.add_argument("-q", "--quiet", action="store_true")
    return ap


def preset_name(path: Path, name: str | None) -> str:
    stem = name or re.sub(r"\.(csv|txt|tsv|parquet|pq)(\.gz)?$", "", path.name, flags=re.I)
    stem = re.sub(r"[^0-9A-Za-z_]+", "_", stem).strip("_").lower() or "brand"
    return stem if stem[0].isalpha() else f"brand_{stem}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    a = parser().parse_args(argv)
    from sim.calibration.problems import CalibrationError
    from sim.calibration.report import install_presets
    from sim.config import ConfigError
    from sim.fit.core import build_problem, fit, parse_param, prepare
    from sim.fit.ingest import Columns, LogError, read_log

    echo = None if a.quiet else (lambda s: print(s, flush=True))
    try:
        for k in ("trials", "bootstrap"):
            if getattr(a, k) < 1:
                raise LogError(f"--{k} must be >= 1")
        name = preset_name(a.transactions, a.name)
        from sim.paths import group_options

        if name in group_options("market") and not (a.out / "preset" / "market" / f"{name}.yaml").exists():
            raise LogError(f"--name {name}: a market preset of that name already ships in conf/; "
                           "choose another --name")
        cols = Columns(a.customer_col, a.date_col, a.amount_col, a.channel_col, a.member_col,
                       a.referred_by_col)
        log = read_log(a.transactions, cols, delimiter=a.delimiter, header=not a.no_header)
        spec = prepare(log, calibration_end=a.calibration_end, horizon=a.horizon,
                       market=a.market, name=name, overrides=tuple(a.override),
                       bootstrap=a.bootstrap)
        params = tuple(parse_param(p) for p in a.param) if a.param else None
        if echo:
            echo(f"{log.source}: {len(log.date):,} transactions, {log.n_customers:,} customers, "
                 f"{log.first_date} .. {log.last_date}; cohort {spec.cohort_size:,} customers to "
                 f"{spec.date(spec.cal_end)[0]}; base market={spec.market}")
            for n in spec.notes:
                echo(f"  note: {n}")
        problem = build_problem(spec, params=params, seeds=tuple(a.seeds),
                                check_seeds=tuple(a.check_seeds), trials=a.trials,
                                n_users=a.users, echo=echo)
        if echo:
            echo(f"fitting {len(problem.params)} parameters to {len(problem.targets)} targets: "
                 f"{problem.n_users:,} users x {problem.days} days, seeds "
                 f"{' '.join(map(str, problem.seeds))}; study {a.out / 'study.sqlite3'}")
        result = fit(spec, problem, a.out, sampler_seed=a.sampler_seed, refine=a.refine,
                     command="python -m sim.fit " + shlex.join(argv), echo=echo)
        if a.install:
            for f in install_presets(a.out):
                print(f"installed {f}")
    except (LogError, CalibrationError, ConfigError) as err:
        print(f"siyu-sim fit: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as err:
        print(f"siyu-sim fit: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    e = result.errors
    print("fitted: " + ", ".join(f"{k}={v:.4g} [{result.ci[k][0]:.3g}, {result.ci[k][1]:.3g}]"
                                 for k, v in result.best.items()) + f", market.price={result.price:.4g}")
    if e["sim_holdout"].get("days"):
        print(f"holdout repeat transactions: actual {e['sim_holdout']['actual']:,.0f}, simulated "
              f"{e['sim_holdout']['predicted']:,.0f} ({100 * e['sim_holdout']['error']:+.1f}%), "
              f"BG/NBD {e['bgnbd_holdout']['predicted']:,.0f} ({100 * e['bgnbd_holdout']['error']:+.1f}%)")
    print(f"wrote {a.out}/fit.md, forecast.csv, fit.json, *.png, preset/market/{problem.name}.yaml"
          + ("" if a.install else "  (add --install to copy the preset into conf/)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
