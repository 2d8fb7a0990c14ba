"""Run one scenario and write its files: the plain function the CLI and the tests call."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from sim.config import Config, config_dict
from sim.core.graph import SocialGraph
from sim.core.model import SiyuModel
from sim.data.io import write_json, write_parquet
from sim.figures import draw_figures, figure_lang
from sim.i18n import DEFAULT_LANG, money, tr
from sim.memory import check_fits
from sim.version import code_version


@dataclass
class RunResult:
    out_dir: Path
    summary: dict[str, Any]
    files: list[Path]


class Progress:
    """Progress lines on stderr for runs that last more than a couple of seconds."""

    def __init__(self, stream: TextIO = sys.stderr, after_seconds: float = 2.0):
        self.stream, self.after = stream, after_seconds
        self.t0 = time.perf_counter()
        self.next_pct = 10

    def __call__(self, day: int, days: int) -> None:
        pct = 100 * day // days
        if pct < self.next_pct:
            return
        self.next_pct = pct // 10 * 10 + 10
        elapsed = time.perf_counter() - self.t0
        if elapsed >= self.after and day < days:
            eta = elapsed * (days - day) / day
            print(f"  day {day}/{days} ({pct}%), {elapsed:.1f} s elapsed, ~{eta:.0f} s left",
                  file=self.stream, flush=True)


def run(cfg: Config, out_dir: str | Path, *, echo: TextIO | None | bool = True,
        extra_outputs: Callable[[SiyuModel, Path], list[Path]] | None = None,
        graph: SocialGraph | None = None) -> RunResult:
    """Build the model, run ``cfg.days`` days and write summary.json, series.parquet, figures/.

    ``echo``: where to print the human summary (True: the current sys.stdout; None/False: nowhere).
    ``extra_outputs(model, out_dir)``: writes more per-run files (e.g. a sweep's cohort table)
    before summary.json, and returns their paths.
    ``graph``: a social graph already built for ``cfg`` (the CLI loads an edge list once, to
    check it, and passes it on).

    A run that cannot fit in memory is refused (ConfigError) before anything is built
    (:mod:`sim.memory`).
    """
    if echo is True:
        echo = sys.stdout
    out_dir = Path(out_dir)
    if graph is None:
        check_fits(cfg)
    t0 = time.perf_counter()
    model = SiyuModel(cfg) if graph is None else SiyuModel(cfg, graph=graph)
    t_build = time.perf_counter() - t0
    progress = Progress() if cfg.output.progress else None
    t1 = time.perf_counter()
    model.run(cfg.days, progress=progress)
    baseline = None
    if cfg.counterfactual:  # the same seed without operations: the difference is the effect
        baseline = model.counterfactual()
        baseline.run(cfg.days)
    t_run = time.perf_counter() - t1

    series = model.series()
    kpis = model.summary(baseline=baseline.summary() if baseline is not None else None)
    summary = {
        "n_users": cfg.population.n_users,
        "population_scale": cfg.population.scale,
        "real_users": cfg.population.n_users * cfg.population.scale,
        "days": cfg.days,
        "seed": cfg.seed,
        "market": cfg.market.name,
        "strategy": cfg.strategy.name,
        **kpis,
        "timing": {"build_s": t_build, "run_s": t_run,
                   "phases_s": dict(model.timer.seconds)},
        "code_version": code_version(),
        "config": config_dict(cfg),
    }
    from sim.data.calendar import with_dates  # a calendar date beside each day index
    files = [write_parquet(out_dir / "series.parquet", with_dates(series, cfg.calendar.start_date))]
    if baseline is not None:
        files.append(write_parquet(out_dir / "counterfactual.parquet",
                                   with_dates(baseline.series(), cfg.calendar.start_date)))
    if cfg.export.transactions:
        files.append(write_parquet(out_dir / "transactions.parquet",
                                   with_dates(model.transaction_log(), cfg.calendar.start_date)))
    if cfg.output.figures:
        lang = figure_lang(cfg.report.lang)
        title = tr("fig.title", lang, market=cfg.market.name, strategy=cfg.strategy.name,
                   users=f"{cfg.population.n_users:,}", seed=cfg.seed)
        files += draw_figures(series, out_dir / "figures", title, lang)
    if extra_outputs is not None:
        files += extra_outputs(model, out_dir)
    # what the run wrote, relative to its dir (figures/ once)
    summary["files"] = list(dict.fromkeys(
        str(f.relative_to(out_dir).parts[0]) + ("/" if f.parent != out_dir else "") for f in files))
    # summary.json last: its presence marks a finished run
    files.append(write_json(out_dir / "summary.json", summary))
    if echo:
        print(human_summary(summary, out_dir, cfg.report.lang), file=echo)
    return RunResult(out_dir, summary, files)


def _pct(x: float | None, lang: str = "en") -> str:
    return tr("cli.na", lang) if x is None or x != x else f"{100 * x:.1f}%"


def human_summary(s: dict[str, Any], out_dir: Path, lang: str = DEFAULT_LANG) -> str:
    """The run's summary for people, in ``lang`` (sim/i18n.py ``cli.*``), money as
    strategists write it (:func:`sim.i18n.money`). The first line is the command's
    ``key=value`` form in every language."""
    t = s["timing"]

    def pct(x):
        return _pct(x, lang)

    na = tr("cli.na", lang)

    def num(x):
        return na if x is None or x != x else f"{x:.2f}"

    scale = (tr("cli.scale", lang, scale=f"{s['population_scale']:,}",
                real=f"{s['real_users']:,}") + " " if s["population_scale"] > 1 else "")
    nps = s["nps"]
    return "\n".join([
        f"siyu-sim: market={s['market']} strategy={s['strategy']} n_users={s['n_users']:,} "
        + scale + f"days={s['days']} seed={s['seed']}",
        tr("cli.members", lang, start=f"{s['members_start']:,}", end=f"{s['members_end']:,}",
           ever=f"{s['members_ever']:,}", customers=f"{s['customers_end']:,}"),
        tr("cli.churn", lang, churn=pct(s["monthly_churn_rate"]), churned=pct(s["churned_share"]),
           repurchase=pct(s["repurchase_rate"]), referral=pct(s["referral_share"])),
        tr("cli.money", lang, purchases=f"{s['purchases']:,}", revenue=money(s["revenue"], lang),
           cost=money(s["cost"], lang), roi=num(s["roi"]),
           nps=na if nps is None or nps != nps else f"{nps:.0f}",
           top20=pct(s["top20_revenue_share"])),
        tr("cli.timing", lang, build=f"{t['build_s']:.2f}", run=f"{t['run_s']:.2f}",
           per_day=f"{1000 * t['run_s'] / max(1, s['days']):.2f}"),
        tr("cli.files", lang, files=f"{out_dir}/summary.json, " + ", ".join(s["files"])),
    ])
