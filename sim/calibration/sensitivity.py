"""Global sensitivity of the headline KPIs: Morris screening, then Sobol indices on the top few.

    python -m sim.calibration.sensitivity                                   # phone, service-led, small
    python -m sim.calibration.sensitivity market=car strategy=koc_program dealer=co_build
    python -m sim.calibration.sensitivity --users 20000 --days 730 --trajectories 20 --sobol-n 512 --top 4 --jobs 2

Stage 1 (Morris 1991, SALib): ``trajectories x (factors + 1)`` runs give each factor's mean
absolute elementary effect ``mu*`` (its overall influence) and ``sigma`` (non-linearity and
interactions) on each KPI. Factors are ranked by their largest ``mu*`` relative to the most
influential factor of the same KPI. Stage 2 (Sobol 2001 / Saltelli 2010, SALib): on the
``top`` factors, ``sobol_n x (top + 2)`` runs give first-order (S1) and total (ST) indices
with bootstrap confidence intervals. Every run of a design uses the same seeds (common
random numbers), so a difference between two runs is the effect of their parameters; with
``--seeds 1 2 3`` each point is the mean over three seeds. Factors not varied keep the
scenario's values. Writes into ``--out`` (default ``outputs/sensitivity/<market>_<strategy>``):
``sensitivity.md`` (tables), ``morris.csv``, ``sobol.csv``, ``runs_morris.csv``,
``runs_sobol.csv``, ``morris.png``, ``morris_scatter.png``, ``sobol.png``.
"""

from __future__ import annotations

import argparse
import csv
import logging
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.calibration.core import get_value, set_values
from sim.config import Config
from sim.core import jit
from sim.data.io import write_atomic, write_png
from sim.figures import subplots

KPIS = ("monthly_churn_rate", "repurchase_rate", "referral_share", "roi", "nps")


@dataclass(frozen=True)
class Factor:
    key: str
    low: float
    high: float
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or self.key.split(".")[-1]


# the main levers and behavioural parameters, with ranges wide enough to matter but valid
# for every market preset
FACTORS: tuple[Factor, ...] = (
    Factor("strategy.promotion.per_week", 0.0, 4.0, "promo per week"),
    Factor("strategy.promotion.depth", 0.0, 0.3, "promo depth"),
    Factor("strategy.service.resolve_prob", 0.4, 0.95, "service resolve prob"),
    Factor("strategy.service.capacity_per_1k", 5.0, 60.0, "service capacity"),
    Factor("strategy.content.per_week", 0.0, 4.0, "content per week"),
    Factor("strategy.referral.per_year", 0.1, 2.0, "referrals per year"),
    Factor("strategy.satisfaction.loyalty_base", 0.15, 0.6, "loyalty base"),
    Factor("strategy.churn.dissatisfaction_beta", 0.0, 6.0, "dissatisfaction beta"),
    Factor("channels.personal_wechat.monthly_churn", 0.02, 0.12, "personal WeChat churn"),
    Factor("groups.referral_lift", 0.0, 4.0, "group referral lift"),
    Factor("groups.decay_days", 15.0, 120.0, "group decay days"),
    Factor("market.brand_share", 0.05, 0.3, "brand share"),
    Factor("market.add_friend_rate", 0.1, 0.5, "add-friend rate"),
    Factor("market.funnel.register_prob", 0.2, 0.8, "register prob"),
)


# --------------------------------------------------------------------------- running designs


def _salib_problem(factors: tuple[Factor, ...] | list[Factor]) -> dict[str, Any]:
    return {"num_vars": len(factors), "names": [f.key for f in factors],
            "bounds": [[f.low, f.high] for f in factors]}


def _worker_init(threads: int, kernels: str) -> None:
    """A pool worker runs its parallel kernels on ``threads`` (set before numba loads) and
    the kernels when this process does (``jit.MODE``)."""
    os.environ["NUMBA_NUM_THREADS"] = str(threads)
    jit.MODE = kernels


def _run_point(args: tuple[list[Config], list[str], np.ndarray, tuple[str, ...]]) -> np.ndarray:
    """KPIs (mean over the seeds' configs) at one point of the design."""
    from sim.core.model import SiyuModel

    logging.getLogger("MESA").setLevel(logging.WARNING)
    bases, keys, x, kpis = args
    values = dict(zip(keys, (float(v) for v in x), strict=True))
    rows = []
    for base in bases:
        model = SiyuModel(set_values(base, values))
        model.run()
        s = model.summary()
        rows.append([math.nan if s[k] is None else float(s[k]) for k in kpis])
    return np.nanmean(np.array(rows, dtype=float), axis=0) if rows else np.full(len(kpis), np.nan)


def run_design(bases: list[Config], factors: list[Factor] | tuple[Factor, ...], X: np.ndarray,
               kpis: tuple[str, ...] = KPIS, jobs: int = 1, echo=None, label: str = ""
               ) -> np.ndarray:
    """Run every row of ``X`` (one value per factor) on every base config; ``(rows, kpis)``."""
    keys = [f.key for f in factors]
    tasks = [(bases, keys, x, kpis) for x in X]
    out = np.empty((len(X), len(kpis)))
    t0 = time.perf_counter()
    step = max(1, len(X) // 10)
    if jobs > 1:
        import multiprocessing as mp

        # workers forked from a fresh server process, not from this one: GNU OpenMP (numba's
        # threads, sim.core.jit) does not survive a fork of a process that has used it
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload([__name__])
        threads = max(1, (os.cpu_count() or 1) // jobs)
        with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_worker_init,
                                 initargs=(threads, jit.MODE)) as pool:
            for i, y in enumerate(pool.map(_run_point, tasks, chunksize=4)):
                out[i] = y
                if echo and (i + 1) % step == 0:
                    echo(f"  {label} {i + 1}/{len(X)} points, {time.perf_counter() - t0:.0f} s")
    else:
        for i, task in enumerate(tasks):
            out[i] = _run_point(task)
            if echo and (i + 1) % step == 0:
                echo(f"  {label} {i + 1}/{len(X)} points, {time.perf_counter() - t0:.0f} s")
    return out


def _fill_nan(Y: np.ndarray, kpis: tuple[str, ...]) -> dict[str, int]:
    """SALib needs finite outputs: undefined KPIs (no events) take the column mean."""
    missing = {}
    for j, k in enumerate(kpis):
        bad = ~np.isfinite(Y[:, j])
        if bad.any():
            missing[k] = int(bad.sum())
            Y[bad, j] = np.nanmean(Y[:, j]) if (~bad).any() else 0.0
    return missing


@dataclass
class SensitivityResult:
    overrides: list[str]
    factors: list[Factor]
    kpis: tuple[str, ...]
    morris: dict[str, dict[str, np.ndarray]]        # kpi -> mu, mu_star, mu_star_conf, sigma
    score: np.ndarray                               # per factor: max over KPIs of mu*/max mu*
    top: list[Factor]
    sobol: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # kpi -> S1, ST, ...
    X_morris: np.ndarray | None = None
    Y_morris: np.ndarray | None = None
    X_sobol: np.ndarray | None = None
    Y_sobol: np.ndarray | None = None
    missing: dict[str, dict[str, int]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def analyse(overrides: list[str] | tuple[str, ...] = (), *, factors: tuple[Factor, ...] = FACTORS,
            kpis: tuple[str, ...] = KPIS, n_users: int = 3000, days: int = 365,
            seeds: tuple[int, ...] = (1,), trajectories: int = 4, levels: int = 4,
            top: int = 3, sobol_n: int = 32, sample_seed: int = 0, jobs: int = 1,
            echo=None) -> SensitivityResult:
    """Morris on ``factors``, then Sobol on the ``top`` of them, for scenario ``overrides``."""
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    from sim.cli import load_config

    factors = list(factors)
    if sobol_n and (sobol_n & (sobol_n - 1)):
        raise ValueError(f"sobol_n={sobol_n}: must be a power of 2 (Sobol sequences)")
    bases = [load_config([*overrides, f"population.n_users={n_users}", f"days={days}",
                          f"seed={s}", "output.progress=false", "output.figures=false"])
             for s in seeds]
    for f in factors:
        get_value(bases[0], f.key)  # unknown keys fail here
    settings = {"n_users": n_users, "days": days, "seeds": list(seeds),
                "trajectories": trajectories, "levels": levels, "top": top,
                "sobol_n": sobol_n, "sample_seed": sample_seed}
    # ---- Morris
    prob = _salib_problem(factors)
    X = morris_sample.sample(prob, trajectories, num_levels=levels, seed=sample_seed)
    if echo:
        echo(f"Morris: {len(factors)} factors x {trajectories} trajectories = {len(X)} points "
             f"x {len(seeds)} seed(s), {n_users:,} users x {days} days")
    t0 = time.perf_counter()
    Y = run_design(bases, factors, X, kpis, jobs, echo, "Morris")
    t_morris = time.perf_counter() - t0
    missing = {"morris": _fill_nan(Y, kpis)}
    morris = {}
    for j, k in enumerate(kpis):
        r = morris_analyze.analyze(prob, X, Y[:, j], num_levels=levels, seed=sample_seed + 1)
        morris[k] = {m: np.asarray(r[m], dtype=float) for m in ("mu", "mu_star", "mu_star_conf",
                                                                 "sigma")}
    rel = np.array([morris[k]["mu_star"] / morris[k]["mu_star"].max()
                    if morris[k]["mu_star"].max() > 0 else np.zeros(len(factors)) for k in kpis])
    score = rel.max(axis=0)
    order = _rank(score, rel)
    chosen = [factors[i] for i in order[:top]]
    result = SensitivityResult(list(overrides), factors, kpis, morris, score, chosen,
                               X_morris=X, Y_morris=Y, missing=missing, settings=settings,
                               seconds={"morris": t_morris})
    # ---- Sobol on the top factors
    if top > 0 and sobol_n > 0:
        sprob = _salib_problem(chosen)
        Xs = sobol_sample.sample(sprob, sobol_n, calc_second_order=False, seed=sample_seed)
        if echo:
            echo(f"Sobol: top {top} factors ({', '.join(f.name for f in chosen)}), N={sobol_n}: "
                 f"{len(Xs)} points")
        t0 = time.perf_counter()
        Ys = run_design(bases, chosen, Xs, kpis, jobs, echo, "Sobol")
        result.seconds["sobol"] = time.perf_counter() - t0
        result.missing["sobol"] = _fill_nan(Ys, kpis)
        for j, k in enumerate(kpis):
            if np.ptp(Ys[:, j]) == 0:  # a KPI the factors do not move: indices are 0
                z = np.zeros(len(chosen))
                result.sobol[k] = {"S1": z, "S1_conf": z, "ST": z, "ST_conf": z}
                continue
            # bootstrap seed: SALib's sobol.analyze ignores a seed of 0 (`if seed:`)
            r = sobol_analyze.analyze(sprob, Ys[:, j], calc_second_order=False,
                                      seed=sample_seed + 1)
            result.sobol[k] = {m: np.asarray(r[m], dtype=float)
                               for m in ("S1", "S1_conf", "ST", "ST_conf")}
        result.X_sobol, result.Y_sobol = Xs, Ys
    return result


def _relative(r: SensitivityResult) -> np.ndarray:
    """(KPIs, factors): mu* relative to the largest mu* of the KPI."""
    return np.array([r.morris[k]["mu_star"] / r.morris[k]["mu_star"].max()
                     if r.morris[k]["mu_star"].max() > 0 else np.zeros(len(r.factors))
                     for k in r.kpis])


def _rank(score: np.ndarray, rel: np.ndarray) -> np.ndarray:
    """Factors by score (largest relative mu* over KPIs), ties by mean relative mu*."""
    return np.lexsort((-rel.mean(axis=0), -score))


# --------------------------------------------------------------------------- outputs




def _save(fig, path: Path) -> Path:
    out = write_png(path, fig)

    return out


def plot_morris(r: SensitivityResult, out: Path) -> list[Path]:
    order = _rank(r.score, _relative(r))
    rel = _relative(r)[:, order].T
    fig, ax = subplots(figsize=(1.3 * len(r.kpis) + 3.2, 0.36 * len(order) + 1.6))
    im = ax.imshow(rel, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(r.kpis)), r.kpis, rotation=20, ha="right", fontsize=8)
    ax.set_yticks(range(len(order)), [r.factors[i].name for i in order], fontsize=8)
    for i in range(rel.shape[0]):
        for j in range(rel.shape[1]):
            ax.text(j, i, f"{rel[i, j]:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if rel[i, j] > 0.6 else "black")
    fig.colorbar(im, ax=ax, label="μ* / max μ* of the KPI")
    ax.set_title(f"Morris screening ({len(r.X_morris)} runs): relative μ*", fontsize=10)
    fig.tight_layout()
    files = [_save(fig, out / "morris.png")]

    n = len(r.kpis)
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    for ax, k in zip(axes.flat, r.kpis, strict=False):
        m = r.morris[k]
        ax.scatter(m["mu_star"], m["sigma"], s=18)
        for i in np.argsort(-m["mu_star"])[:5]:
            if m["mu_star"][i] > 0:
                ax.annotate(r.factors[i].name, (m["mu_star"][i], m["sigma"][i]), fontsize=7,
                            xytext=(3, 3), textcoords="offset points")
        lim = max(m["mu_star"].max(), m["sigma"].max(), 1e-12) * 1.15
        ax.plot([0, lim], [0, lim], color="0.7", lw=0.8, ls="--")
        ax.set_xlim(0, lim)
        ax.set_ylim(0, lim)
        ax.set_xlabel("μ* (mean |elementary effect|)", fontsize=8)
        ax.set_ylabel("σ (interactions, non-linearity)", fontsize=8)
        ax.set_title(k, fontsize=9)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle("Morris: μ* vs σ per KPI (top 5 labelled; effect per full range of the factor)",
                 fontsize=10)
    fig.tight_layout()
    files.append(_save(fig, out / "morris_scatter.png"))
    return files


def plot_sobol(r: SensitivityResult, out: Path) -> list[Path]:
    if not r.sobol:
        return []
    n = len(r.kpis)
    fig, axes = subplots(1, n, figsize=(2.6 * n + 1, 3.4), sharey=True, squeeze=False)
    x = np.arange(len(r.top))
    for ax, k in zip(axes.flat, r.kpis, strict=True):
        s = r.sobol[k]
        ax.bar(x - 0.18, s["S1"], 0.36, yerr=s["S1_conf"], capsize=3, label="S1 (first order)")
        ax.bar(x + 0.18, s["ST"], 0.36, yerr=s["ST_conf"], capsize=3, label="ST (total)")
        ax.set_xticks(x, [f.name for f in r.top], rotation=30, ha="right", fontsize=7)
        ax.axhline(0, color="0.5", lw=0.8)
        ax.set_title(k, fontsize=9)
        ax.grid(alpha=0.3, axis="y")
    axes.flat[0].set_ylabel("Sobol index")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"Sobol indices on the top {len(r.top)} factors ({len(r.X_sobol)} runs; "
                 "bars: 95% bootstrap intervals)", fontsize=10)
    fig.tight_layout()
    return [_save(fig, out / "sobol.png")]


def _csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    def w(p):
        with open(p, "w", newline="") as fh:
            wr = csv.writer(fh)
            wr.writerow(header)
            wr.writerows(rows)

    return write_atomic(path, w)


def write_outputs(r: SensitivityResult, out: str | Path, command: str = "") -> list[Path]:
    out = Path(out)
    files = []
    rows = []
    for i, f in enumerate(r.factors):
        for k in r.kpis:
            m = r.morris[k]
            mx = m["mu_star"].max()
            rows.append([f.name, f.key, f.low, f.high, k, m["mu"][i], m["mu_star"][i],
                         m["mu_star_conf"][i], m["sigma"][i], m["mu_star"][i] / mx if mx else 0.0,
                         r.score[i]])
    files.append(_csv(out / "morris.csv", ["factor", "key", "low", "high", "kpi", "mu", "mu_star",
                                           "mu_star_conf", "sigma", "mu_star_rel", "score"], rows))
    keys = [f.key for f in r.factors]
    files.append(_csv(out / "runs_morris.csv", [*keys, *r.kpis],
                      np.hstack([r.X_morris, r.Y_morris]).tolist()))
    if r.sobol:
        rows = [[f.name, f.key, k, r.sobol[k]["S1"][i], r.sobol[k]["S1_conf"][i],
                 r.sobol[k]["ST"][i], r.sobol[k]["ST_conf"][i]]
                for i, f in enumerate(r.top) for k in r.kpis]
        files.append(_csv(out / "sobol.csv", ["factor", "key", "kpi", "S1", "S1_conf", "ST",
                                              "ST_conf"], rows))
        files.append(_csv(out / "runs_sobol.csv", [*(f.key for f in r.top), *r.kpis],
                          np.hstack([r.X_sobol, r.Y_sobol]).tolist()))
    files += plot_morris(r, out)
    files += plot_sobol(r, out)
    files.append(write_atomic(out / "sensitivity.md",
                              lambda p: Path(p).write_text(markdown(r, command))))
    return files


def markdown(r: SensitivityResult, command: str = "") -> str:
    s = r.settings
    order = _rank(r.score, _relative(r))
    scen = " ".join(r.overrides) or "(defaults: market=phone strategy=service_led)"
    lines = [
        "# Global sensitivity of the headline KPIs", "",
        f"Scenario: `{scen}`; {s['n_users']:,} users x {s['days']} days; seeds "
        f"{' '.join(map(str, s['seeds']))} (common to every run).  ",
        (f"Command: `{command.strip()}`  " if command else ""),
        f"Morris: {len(r.factors)} factors, {s['trajectories']} trajectories, {s['levels']} "
        f"levels = {len(r.X_morris)} points ({r.seconds.get('morris', 0):.0f} s). "
        + (f"Sobol (Saltelli, no second order): top {len(r.top)} factors, N={s['sobol_n']} = "
           f"{len(r.X_sobol)} points ({r.seconds.get('sobol', 0):.0f} s)." if r.sobol else ""),
        "",
        "Small designs are screening only: Morris with few trajectories ranks the factors; "
        "Sobol intervals at small N are wide. Run bigger for numbers to quote (module doc).",
        "",
        "## Morris screening",
        "",
        "μ* (mean absolute elementary effect over the factor's whole range, in KPI units) and, "
        "in brackets, μ* relative to the most influential factor of that KPI. Sorted by score "
        "(largest relative μ* over the KPIs; ties by the mean relative μ*); the top ones go to "
        "Sobol.",
        "",
        "| factor | range | " + " | ".join(r.kpis) + " | score |",
        "|---|---|" + "---|" * len(r.kpis) + "---|",
    ]
    for i in order:
        f = r.factors[i]
        cells = []
        for k in r.kpis:
            m = r.morris[k]["mu_star"]
            rel = m[i] / m.max() if m.max() > 0 else 0.0
            cells.append(f"{m[i]:.3g} ({rel:.2f})")
        lines.append(f"| {f.name} (`{f.key}`) | {f.low:g} .. {f.high:g} | " + " | ".join(cells)
                     + f" | {r.score[i]:.2f} |")
    lines += ["", "![Morris](morris.png)", "", "![Morris scatter](morris_scatter.png)", ""]
    if r.sobol:
        lines += ["## Sobol indices on the top factors", "",
                  "S1 = share of the KPI's variance due to the factor alone; ST = including its "
                  "interactions (± 95% bootstrap half-width).", "",
                  "| factor | " + " | ".join(r.kpis) + " |", "|---|" + "---|" * len(r.kpis)]
        for i, f in enumerate(r.top):
            cells = [f"S1 {r.sobol[k]['S1'][i]:.2f}±{r.sobol[k]['S1_conf'][i]:.2f}, ST "
                     f"{r.sobol[k]['ST'][i]:.2f}±{r.sobol[k]['ST_conf'][i]:.2f}" for k in r.kpis]
            lines.append(f"| {f.name} | " + " | ".join(cells) + " |")
        lines += ["", "![Sobol](sobol.png)", ""]
    miss = {stage: m for stage, m in r.missing.items() if m}
    if miss:
        lines += ["Undefined KPI values (filled with the design's mean): "
                  + "; ".join(f"{stage}: " + ", ".join(f"{k} {n}" for k, n in m.items())
                              for stage, m in miss.items()), ""]
    lines += ["Tables: `morris.csv`, `sobol.csv`; every run's inputs and KPIs: `runs_morris.csv`, "
              "`runs_sobol.csv`.", ""]
    return "\n".join(line for line in lines if line is not None)


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    import shlex

    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(prog="python -m sim.calibration.sensitivity", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("overrides", nargs="*", help="Hydra overrides of the scenario "
                    "(market=car strategy=koc_program ...)")
    ap.add_argument("--out", type=Path, help="output dir (default: "
                    "outputs/sensitivity/<market>_<strategy>)")
    ap.add_argument("--users", type=int, default=3000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--trajectories", type=int, default=4, help="Morris trajectories (r)")
    ap.add_argument("--levels", type=int, default=4, help="Morris grid levels")
    ap.add_argument("--top", type=int, default=3, help="factors kept for Sobol (0: skip Sobol)")
    ap.add_argument("--sobol-n", type=int, default=32, help="Sobol base sample (power of 2)")
    ap.add_argument("--sample-seed", type=int, default=0, help="seed of the SALib designs")
    ap.add_argument("--jobs", type=int, default=1, help="worker processes")
    a = ap.parse_args(argv)
    from sim.config import ConfigError

    try:
        from sim.cli import load_config

        cfg = load_config(a.overrides)
        out = a.out or Path("outputs") / "sensitivity" / f"{cfg.market.name}_{cfg.strategy.name}"
        r = analyse(a.overrides, n_users=a.users, days=a.days, seeds=tuple(a.seeds),
                    trajectories=a.trajectories, levels=a.levels, top=a.top, sobol_n=a.sobol_n,
                    sample_seed=a.sample_seed, jobs=a.jobs, echo=lambda s: print(s, flush=True))
        files = write_outputs(r, out, "python -m sim.calibration.sensitivity " + shlex.join(argv))
    except (ConfigError, ValueError) as err:
        print(f"siyu-sim sensitivity: error: {err}", file=sys.stderr)
        return 2
    print("top factors: " + ", ".join(f"{f.name} ({r.score[r.factors.index(f)]:.2f})"
                                      for f in r.top))
    print(f"wrote {out}/sensitivity.md and {len(files) - 1} more files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
