"""Fit a market preset to a brand's transaction log, and forecast the log's repeat purchases.

Steps (docs/fit.md):

1. :func:`prepare`: the log's calibration split, its cohort and the targets (``targets.py``)
   with their bootstrap standard errors; the base market preset (``--market``, or the
   hand-set preset whose need cycle is nearest the log's median inter-purchase time); the
   simulated population size (a pilot run: ``population.n_users`` such that the simulated
   cohort has about ``max(log customers, 2,000)`` customers, at most 200,000 users).
2. :func:`fit`: a :class:`sim.calibration.Problem` whose one arm is the brand and whose
   targets are the log's measures, run by the calibration's own study machinery
   (``sim.calibration.core.run_study``: Optuna TPE, common seeds, resumable SQLite study,
   the preset as trial 0) with an evaluator that measures the simulated transaction log.
   Tolerances are standard errors of the log-minus-simulation difference, so the objective
   is approximately chi-squared and the parameters' 90% confidence set is the trials with
   ``objective <= best + chi2_0.9(number of parameters)`` (profile / indirect-inference
   style; Gourieroux, Monfort & Renault 1993); each parameter's CI is that set's range.
3. The fitted values run on fresh check seeds to the forecast end: every target with its
   spread over seeds, the cohort's daily repeat transactions (mean and 90% band) against
   the log and against BG/NBD's forecast on the same split.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.calibration.core import (
    Evaluator,
    _complete,
    _exclusive,
    open_study,
    round_value,
    run_study,
    set_values,
)
from sim.calibration.problems import Arm, CalibrationError, Param, Problem, Target
from sim.core.columns import unique
from sim.fit import targets as tg
from sim.fit.ingest import LogError, TransactionLog

BASE_MARKETS = ("phone", "car", "fresh_food", "restaurant")   # hand-set presets (conf/market)
MIN_CUSTOMERS = 20            # BG/NBD and the bootstrap need a few customers
SIM_COHORT_MIN = 2_000        # simulated cohort at least this big (noise), else = log cohort
MAX_USERS = 200_000           # cap on population.n_users chosen automatically
PILOT_USERS = 20_000
CI_LEVEL = 0.90
LANDING = ("personal_wechat", "wecom", "official_account")


# --------------------------------------------------------------------------- the log's side


@dataclass
class FitSpec:
    log: TransactionLog
    name: str
    start_date: np.datetime64          # the log's first date = simulated day 1
    cal_end: int                       # day index of the calibration end
    obs_end: int                       # day index of the log's last date
    forecast_end: int                  # last day of forecast.csv
    customers: tg.Customers            # the log, daily transactions
    window: tg.Window
    measures: dict[str, float]
    se: dict[str, float]
    cov: np.ndarray                    # bootstrap covariance of the TARGETS measures (in order)
    retention: np.ndarray
    market: str = "fresh_food"
    market_why: str = ""
    overrides: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    def date(self, day: int | np.ndarray) -> np.ndarray:
        from sim.data.calendar import to_dates

        return to_dates(np.atleast_1d(day), self.start_date)

    @property
    def cohort_size(self) -> int:
        return int((self.customers.first <= self.cal_end).sum())


def day_index(dates: np.ndarray, start: np.datetime64) -> np.ndarray:
    return (dates.astype("datetime64[D]") - start).astype(np.int64) + 1


def prepare(log: TransactionLog, *, calibration_end: str | None = None, horizon: int | None = None,
            market: str | None = None, name: str = "brand", overrides: tuple[str, ...] = (),
            bootstrap: int = 100) -> FitSpec:
    """The log's targets and split; LogError if the log cannot be fitted."""
    start = log.first_date
    days = day_index(log.date, start)
    obs_end = int(days.max())
    if calibration_end is None:
        cal_end = obs_end
    else:
        try:
            ce = np.datetime64(calibration_end, "D")
        except ValueError:
            raise LogError(f"--calibration-end {calibration_end!r} is not a date (YYYY-MM-DD)") from None
        cal_end = int(day_index(np.array([ce]), start)[0])
        if not 1 <= cal_end <= obs_end:
            raise LogError(f"--calibration-end {calibration_end} is outside the log "
                           f"({log.first_date} .. {log.last_date})")
    if horizon is not None and horizon < 0:
        raise LogError("--horizon must be >= 0 days")
    forecast_end = obs_end if horizon is None else cal_end + int(horizon)
    c = tg.Customers.build(log.customer, days, log.amount)
    n_cohort = int((c.first <= cal_end).sum())
    if n_cohort < MIN_CUSTOMERS:
        raise LogError(f"only {n_cohort} customers bought by the calibration end "
                       f"({log.first_date} .. {start + np.timedelta64(cal_end - 1, 'D')}): at least "
                       f"{MIN_CUSTOMERS} are needed")
    w = tg.window(c.first, cal_end)
    m = tg.measures(c, w)
    if not m["repeat_tx"] > 0:
        raise LogError("no customer bought twice (on different days) in the calibration period: "
                       "there is no repeat behaviour to fit")
    notes = list(log.notes)
    if (c.first > cal_end).any():
        notes.append(f"{int((c.first > cal_end).sum()):,} customers first bought after the "
                     "calibration end: not in the cohort (the forecast is of the cohort's "
                     "repeat purchases)")
    reps = tg.bootstrap(c, w, list(tg.TARGETS), reps=bootstrap)
    ok = np.isfinite(reps).all(axis=1)
    cov = np.cov(reps[ok], rowvar=False) if ok.sum() > 2 else np.full((len(tg.TARGETS),) * 2, np.nan)
    se = {k: float(np.sqrt(cov[i, i])) for i, k in enumerate(tg.TARGETS)}
    spec = FitSpec(log=log, name=name, start_date=start, cal_end=cal_end, obs_end=obs_end,
                   forecast_end=forecast_end, customers=c, window=w, measures=m, se=se, cov=cov,
                   retention=tg.retention(c, w), overrides=tuple(overrides), notes=notes)
    spec.market, spec.market_why = choose_market(m["median_gap_days"], market)
    if log.channel is not None:
        ch = _first_channel(log, days, c)
        vals, counts = np.unique(ch, return_counts=True)
        top = str(vals[np.argmax(counts)])
        share = counts.max() / counts.sum()
        if top in LANDING and not any(o.startswith("channel=") for o in overrides):
            spec.overrides = (*spec.overrides, f"channel={top}")
            notes.append(f"channel column: {100 * share:.0f}% of first purchases in {top}: "
                         f"landing channel channel={top}")
        else:
            notes.append(f"channel column: first purchases mostly in {top!r} "
                         f"({100 * share:.0f}%), not a simulated landing channel "
                         f"({', '.join(LANDING)}): reported only")
    if log.referred is not None:
        notes.append(f"referred_by column: {100 * log.referred[c.ids].mean():.1f}% of customers "
                     "were referred (compared with the simulated referral_share in the report)")
    return spec


def _first_channel(log: TransactionLog, days: np.ndarray, c: tg.Customers) -> np.ndarray:
    o = np.lexsort((days, log.customer))
    cid = log.customer[o]
    first = np.ones(len(cid), dtype=bool)
    first[1:] = cid[1:] != cid[:-1]
    return log.channel[o][first]


def choose_market(median_gap: float, market: str | None) -> tuple[str, str]:
    """The base preset: the one given, else the hand-set preset whose mean need cycle is
    nearest (in log scale) the log's median inter-purchase time."""
    from sim.paths import group_options

    if market is not None:
        if market not in group_options("market"):
            raise LogError(f"--market {market}: not a market preset; allowed: "
                           f"{', '.join(group_options('market'))}")
        return market, "given (--market)"
    from sim.cli import load_config

    cycles = {m: load_config([f"market={m}"]).market.need_cycle_days for m in BASE_MARKETS}
    best = min(cycles, key=lambda m: abs(math.log(cycles[m] / max(median_gap, 1.0))))
    return best, (f"nearest need cycle to the log's median inter-purchase time "
                  f"({median_gap:.0f} days): {best} ({cycles[best]:g} days)")


# --------------------------------------------------------------------------- the model's side


def _log_days(tx: dict[str, np.ndarray], start: np.datetime64) -> np.ndarray:
    """Day index of a simulated transaction log, whatever its date column holds."""
    d = tx["day"] if "day" in tx else tx["date"]
    d = np.asarray(d)
    if np.issubdtype(d.dtype, np.datetime64):
        return day_index(d, start)
    return d.astype(np.int64)


@dataclass
class SimRun:
    customers: tg.Customers
    weights: np.ndarray
    covered: float
    price: float
    summary: dict[str, Any]


class BrandEvaluator(Evaluator):
    """Runs the brand arm and measures the simulated log like the brand's own."""

    def __init__(self, problem: Problem, spec: FitSpec):
        super().__init__(problem)
        self.spec = spec

    def simulate(self, values: dict[str, float], seed: int, days: int | None = None) -> SimRun:
        from sim.core.model import SiyuModel

        cfg = set_values(self.base(self.problem.arms[0].name, seed), values)
        if days is not None:
            cfg = set_values(cfg, {"days": days})
        t0 = time.perf_counter()
        model = SiyuModel(cfg)
        model.run()
        tx = model.transaction_log()
        self.seconds += time.perf_counter() - t0
        self.runs += 1
        c = tg.Customers.build(tx["customer_id"], _log_days(tx, self.spec.start_date), tx["amount"])
        w, cov = tg.cohort_weights(c.first, self.spec.customers.first, self.spec.window)
        return SimRun(c, w, cov, float(cfg.market.price), model.summary())

    def run(self, values: dict[str, float], seeds) -> dict[str, np.ndarray]:
        import logging

        logging.getLogger("MESA").setLevel(logging.WARNING)
        out = {t.name: np.full(len(seeds), np.nan) for t in self.problem.targets}
        self.cohort_sizes = []          # simulated cohort customers (before re-weighting) per seed
        for i, seed in enumerate(seeds):
            r = self.simulate(values, seed)
            self.cohort_sizes.append(int((r.weights > 0).sum()))
            m = tg.measures(r.customers, self.spec.window, r.weights)
            for t in self.problem.targets:
                out[t.name][i] = m[t.measure]
        return out


def days_per_repeat(spec: FitSpec) -> float:
    """The cohort's days of exposure (first purchase to calibration end, summed over
    customers) per repeat purchase: the mean time between purchases if nobody dropped out."""
    c, w = spec.customers, spec.window
    exposure = float(np.sum(w.cal_end - c.first[c.first <= w.cal_end]))
    return exposure / max(spec.measures["repeat_tx"], 1.0)


def log_guess(spec: FitSpec, problem: Problem, start: dict[str, float]) -> dict[str, float]:
    """A second starting point read off the log (trial 1, after the preset): need cycle =
    days of exposure per repeat purchase, spread 1, spend sigma = the log's sd of log amount,
    channel churn 2% a month (customers who stay, buying slowly); other parameters at the
    preset. It seeds the search in the slow-buyer region, which a preset built for frequent
    buyers is far from."""
    guess = dict(start)
    for p in problem.params:
        if p.key == "market.need_cycle_days":
            guess[p.key] = days_per_repeat(spec)
        elif p.key == "market.need_cycle_spread":
            guess[p.key] = 1.0
        elif p.key == "market.spend_sigma":
            guess[p.key] = spec.measures["spend_log_sd"]
        elif p.key.startswith("channels.") and p.key.endswith(".monthly_churn"):
            guess[p.key] = 0.02
    return {p.key: round_value(p, min(max(guess[p.key], p.low), p.high)) for p in problem.params}


def default_params(spec: FitSpec, landing: str) -> tuple[Param, ...]:
    """The four free parameters and their bounds. The need cycle's bounds span from 1/8 of the
    log's median gap between purchases (frequent buyers) to 5x the cohort's days of exposure
    per repeat purchase (sum over customers of days from first purchase to the calibration
    end / repeat purchases): a buyer base where most customers rarely come back (CDNOW-like)
    has a long mean cycle, and its repeaters' gaps are short."""
    per_repeat = days_per_repeat(spec)
    lo = max(1.0, round(max(spec.measures["median_gap_days"], 1.0) / 8, 2))
    hi = min(10_000.0, float(f"{max(5 * per_repeat, 4 * lo):.3g}"))
    return (
        Param("market.need_cycle_days", lo, hi, log=True,
              why="mean days between needs (the brand is bought at a share of them): how often "
                  "customers come back"),
        Param("market.need_cycle_spread", 0.05, 2.0,
              why="lognormal sigma of each customer's own cycle: heavy vs light buyers"),
        Param("market.spend_sigma", 0.05, 2.5, why="lognormal sigma of per-customer spend"),
        Param(f"channels.{landing}.monthly_churn", 0.002, 0.5, log=True,
              why=f"base monthly churn of the landing channel ({landing}): how long customers "
                  "stay reachable (drop-out)"),
    )


def parse_param(text: str) -> Param:
    """``KEY=LOW:HIGH`` or ``KEY=LOW:HIGH:log``."""
    try:
        key, rng = text.split("=", 1)
        parts = rng.split(":")
        low, high = float(parts[0]), float(parts[1])
        log = len(parts) > 2 and parts[2] == "log"
        if len(parts) > 3 or (len(parts) == 3 and not log):
            raise ValueError
    except (ValueError, IndexError):
        raise CalibrationError(f"--param {text!r}: want KEY=LOW:HIGH or KEY=LOW:HIGH:log") from None
    return Param(key.strip(), low, high, log=log, why="given (--param)")


def inflation(spec: FitSpec, n_sim: float, n_seeds: int) -> float:
    """Variance of (log measure - mean simulated measure) / variance of the log measure: a
    simulated cohort of n_sim customers on n_seeds seeds has about n_log / (n_sim x n_seeds)
    of the log's variance."""
    return 1.0 + spec.cohort_size / max(n_sim * n_seeds, 1.0)


def tolerance(spec: FitSpec, key: str, n_sim: float, n_seeds: int) -> float:
    """Standard error of (log measure - mean simulated measure): the log's bootstrap SE,
    inflated for the simulation's own noise."""
    tol = spec.se[key] * math.sqrt(inflation(spec, n_sim, n_seeds))
    return max(tol, 1e-3 * abs(spec.measures[key]), 1e-6)


def build_problem(spec: FitSpec, *, params: tuple[Param, ...] | None = None,
                  seeds: tuple[int, ...] = (1, 2), check_seeds: tuple[int, ...] = tuple(range(101, 111)),
                  trials: int = 40, n_users: int | None = None,
                  echo: Callable[[str], None] | None = None) -> Problem:
    """The calibration problem: one arm (the brand), the log's measures as targets."""
    from sim.cli import load_config

    common = (f"calendar.start_date={spec.start_date}", "export.transactions=true",
              *spec.overrides)
    base = load_config([f"market={spec.market}", *common])
    if params is None:
        params = default_params(spec, base.channel.landing)
    n_sim_cohort = float(max(spec.cohort_size, SIM_COHORT_MIN))
    if n_users is None:
        # pilot: how many simulated users does one cohort customer take, at the preset
        pilot = Problem(name=f"{spec.name}_pilot", market=spec.market, title="pilot",
                        params=params, arms=(Arm("brand"),), targets=(Target("x", "brand", "x", 0, 1),),
                        n_users=PILOT_USERS, days=spec.cal_end, seeds=(seeds[0],), common=common)
        r = BrandEvaluator(pilot, spec).simulate({}, seeds[0])
        n_pilot = float(((r.customers.first >= spec.window.first_lo)
                         & (r.customers.first <= spec.window.first_hi)).sum())
        if n_pilot < 1:
            raise CalibrationError(f"market={spec.market}: no simulated customer bought in the "
                                   "log's first-purchase window; choose another --market")
        n_users = int(min(MAX_USERS, max(2_000, math.ceil(n_sim_cohort / n_pilot * PILOT_USERS / 100) * 100)))
        if echo:
            echo(f"pilot: {PILOT_USERS:,} users give {n_pilot:,.0f} cohort customers; "
                 f"population.n_users={n_users:,} for ~{n_sim_cohort:,.0f}")
        n_sim_cohort = n_pilot * n_users / PILOT_USERS
    else:
        n_sim_cohort = float(spec.cohort_size)  # unknown without a pilot: assume the log's size
    targets = tuple(
        Target(label, "brand", key, float(spec.measures[key]),
               tolerance(spec, key, n_sim_cohort, len(seeds)),
               source=f"the log, {spec.log.first_date} .. {spec.date(spec.cal_end)[0]} "
                      f"(bootstrap SE {spec.se[key]:.3g})", how=how)
        for key, (label, how) in tg.TARGETS.items() if math.isfinite(spec.measures[key])
        and (key != "active_91_180" or spec.measures["observed_180"] >= tg.MIN_OBSERVED))
    return Problem(name=spec.name, market=spec.market,
                   title=f"{spec.name}: {spec.cohort_size:,} customers of {Path(spec.log.source).name}",
                   params=tuple(params), arms=(Arm("brand"),), targets=targets, n_users=n_users,
                   days=spec.cal_end, seeds=tuple(seeds), check_seeds=tuple(check_seeds),
                   trials=trials, common=common)


# --------------------------------------------------------------------------- BG/NBD forecast


def bgnbd_forecast(spec: FitSpec) -> dict[str, Any]:
    """BG/NBD + Gamma-Gamma on the log's calibration period (lifetimes, weekly units), and
    the cohort's expected repeat transactions per day 1..forecast_end (unconditional, from
    each customer's first purchase: Fader, Hardie & Lee 2005's tracking curve)."""
    from sim.data import clv

    c = spec.customers
    tx = {"customer_id": c.cid, "date": c.day, "amount": c.amount}
    fit = clv.fit_transactions(tx, spec.cal_end, spec.obs_end, unit=7.0)
    bgf = fit.models["bgnbd"]
    firsts, counts = unique(c.first[c.first <= spec.cal_end], return_counts=True)
    grid = np.arange(0, spec.forecast_end + 1)  # end of day g
    cum = np.zeros(len(grid))
    for f, n in zip(firsts, counts, strict=True):
        t = np.maximum(grid - f, 0) / 7.0
        cum += n * np.asarray(bgf.expected_number_of_purchases_up_to_time(t), dtype=float)
    return {"params": fit.bgnbd, "gamma_gamma": fit.gamma_gamma, "totals": fit.totals,
            "daily": np.diff(cum)}


def bgnbd_params(c: tg.Customers, w: tg.Window, weights: np.ndarray) -> dict[str, float]:
    """BG/NBD on a simulated cohort (customers with weight > 0; unweighted), for the report."""
    import contextlib
    import io

    from sim.data import clv

    keep = np.isin(c.cid, c.ids[weights > 0]) & (c.day <= w.cal_end)
    try:
        with contextlib.redirect_stdout(io.StringIO()):   # lifetimes prints failed fits
            fit = clv.fit_transactions({"customer_id": c.cid[keep], "date": c.day[keep],
                                        "amount": c.amount[keep]}, w.cal_end, w.cal_end, unit=7.0)
    except Exception:   # a degenerate simulated cohort: the report shows n/a
        return {}
    return {**fit.bgnbd, **{f"gg_{k}": v for k, v in fit.gamma_gamma.items()}}


# --------------------------------------------------------------------------- the fit


@dataclass
class FitResult:
    spec: FitSpec
    problem: Problem
    out_dir: Path
    start: dict[str, float]
    best: dict[str, float]
    best_trial: int
    best_objective: float
    ci: dict[str, tuple[float, float]]           # method of simulated moments (sandwich)
    ci_set: dict[str, tuple[float, float]]       # range of trials within the chi2 threshold
    ci_threshold: float
    history: list[dict[str, Any]]
    check: dict[str, list[float]]            # measure -> values over check seeds
    check_start: dict[str, list[float]]      # the preset's (trial 0) measures on the fit seeds
    price: float
    forecast: dict[str, np.ndarray]          # day, date, mean, lo, hi, actual, bgnbd
    bgnbd: dict[str, Any]
    bgnbd_sim: list[dict[str, float]]
    retention_sim: np.ndarray
    coverage: float
    referral_share: list[float]
    sim_cohort: float                        # simulated cohort at the fitted values, fit seeds
    errors: dict[str, dict[str, float]]
    seconds: float = 0.0
    runs: int = 0
    files: list[Path] = field(default_factory=list)


def confidence_set(problem: Problem, history: list[dict[str, Any]], level: float = CI_LEVEL
                   ) -> tuple[dict[str, tuple[float, float]], float]:
    """Per-parameter range of the trials with objective <= best + chi2_level(k)."""
    from scipy.stats import chi2

    k = len(problem.params)
    j = np.array([h["objective"] for h in history], dtype=float)
    thr = float(np.nanmin(j) + chi2.ppf(level, k))
    inside = [h for h in history if h["objective"] <= thr]
    ci = {}
    for p in problem.params:
        v = [h["params"][p.key] for h in inside if p.key in h["params"]]
        ci[p.key] = (float(min(v)), float(max(v))) if v else (math.nan, math.nan)
    return ci, thr


def _to_u(p: Param, v: float) -> float:
    return math.log(v) if p.log else float(v)


def _from_u(p: Param, u: float) -> float:
    return math.exp(u) if p.log else float(u)


def _step(p: Param) -> float:
    """Finite-difference step in the search scale: 5% (log scale) or 2% of the range."""
    return 0.05 if p.log else 0.02 * (p.high - p.low)


def _means(ev: Evaluator, problem: Problem, values: dict[str, float]) -> np.ndarray:
    res = ev.run(values, problem.seeds)
    return np.array([float(np.nanmean(res[t.name])) for t in problem.targets])


def jacobian(ev: Evaluator, problem: Problem, values: dict[str, float]
             ) -> tuple[np.ndarray, np.ndarray]:
    """Simulated target means at ``values`` and their derivatives in the search scale
    (central differences on the fit seeds: common random numbers keep them smooth; one-sided
    at a bound). 2 x parameters evaluations."""
    m0 = _means(ev, problem, values)
    ev.cohort_sizes_at_best = list(getattr(ev, "cohort_sizes", []))
    J = np.zeros((len(problem.targets), len(problem.params)))
    for j, p in enumerate(problem.params):
        u, h = _to_u(p, values[p.key]), _step(p)
        lo_u, hi_u = _to_u(p, p.low), _to_u(p, p.high)
        up, dn = min(u + h, hi_u), max(u - h, lo_u)
        m_up = _means(ev, problem, {**values, p.key: _from_u(p, up)}) if up > u else m0
        m_dn = _means(ev, problem, {**values, p.key: _from_u(p, dn)}) if dn < u else m0
        J[:, j] = (m_up - m_dn) / (up - dn)
    return m0, J


def target_cov(spec: FitSpec, problem: Problem, n_sim: float | None = None) -> np.ndarray:
    """Covariance of (log - simulated) target measures: the bootstrap covariance of the log's
    measures x inflation(n_sim) when the simulated cohort size ``n_sim`` is known, else
    scaled to each target's tolerance."""
    keys = list(tg.TARGETS)
    idx = [keys.index(t.measure) for t in problem.targets]
    c = spec.cov[np.ix_(idx, idx)]
    sd = np.sqrt(np.diag(c))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = c / np.outer(sd, sd)
    r = np.where(np.isfinite(r), r, 0.0)
    np.fill_diagonal(r, 1.0)
    tau = np.array([t.tolerance for t in problem.targets])
    if n_sim is not None and n_sim > 0:
        k = inflation(spec, n_sim, len(problem.seeds))
        tau = np.array([max(spec.se[t.measure] * math.sqrt(k), 1e-12) for t in problem.targets])
    return r * np.outer(tau, tau)


def gauss_newton(problem: Problem, values: dict[str, float], m0: np.ndarray, J: np.ndarray,
                 damping: float = 1.0) -> dict[str, float]:
    """One Levenberg-damped Gauss-Newton step on the objective, kept inside the bounds
    (``damping`` x 1e-3 x mean curvature; larger = a shorter step toward steepest descent)."""
    tau = np.array([t.tolerance for t in problem.targets])
    r = (m0 - np.array([t.value for t in problem.targets])) / tau
    A = J / tau[:, None]
    H = A.T @ A
    lam = damping * 1e-3 * max(np.trace(H), 1e-12) / len(problem.params)
    du = -np.linalg.solve(H + lam * np.eye(len(H)), A.T @ r)
    out = {}
    for j, p in enumerate(problem.params):
        u = _to_u(p, values[p.key]) + du[j]
        out[p.key] = round_value(p, min(max(_from_u(p, u), p.low), p.high))
    return out


def sandwich_ci(spec: FitSpec, problem: Problem, values: dict[str, float], J: np.ndarray,
                level: float = CI_LEVEL, n_sim: float | None = None
                ) -> dict[str, tuple[float, float]]:
    """Method-of-simulated-moments CIs: Cov(u) = (J'WJ)^-1 J'W S W J (J'WJ)^-1 with
    W = diag(1 / tolerance^2), S = covariance of (log - simulated) measures (target_cov);
    u in the search scale (log for log parameters), mapped back. A parameter the targets do
    not move has an unbounded CI (nan)."""
    from scipy.stats import norm

    tau = np.array([t.tolerance for t in problem.targets])
    W = np.diag(1 / tau**2)
    S = target_cov(spec, problem, n_sim)
    A = J.T @ W @ J
    z = norm.ppf(0.5 + level / 2)
    try:
        Ai = np.linalg.inv(A)
        cov = Ai @ (J.T @ W @ S @ W @ J) @ Ai
    except np.linalg.LinAlgError:
        cov = np.full(A.shape, np.nan)
    ci = {}
    for j, p in enumerate(problem.params):
        sd = math.sqrt(cov[j, j]) if np.isfinite(cov[j, j]) and cov[j, j] >= 0 else math.nan
        u = _to_u(p, values[p.key])
        if not math.isfinite(sd) or abs(np.linalg.cond(A)) > 1e12:
            ci[p.key] = (math.nan, math.nan)
            continue
        ci[p.key] = (_from_u(p, u - z * sd), _from_u(p, u + z * sd))
    return ci


def holdout_errors(day: np.ndarray, actual: np.ndarray, pred: np.ndarray, lo: int, hi: int
                   ) -> dict[str, float]:
    """Total error and weekly WAPE over days lo..hi (inclusive)."""
    sel = (day >= lo) & (day <= hi)
    if not sel.any():
        return {"days": 0}
    a, p = actual[sel], pred[sel]
    wk = (day[sel] - lo) // 7
    aw, pw = np.bincount(wk, weights=a), np.bincount(wk, weights=p)
    full = np.bincount(wk) == 7
    tot = float(a.sum())
    return {"days": int(sel.sum()), "actual": tot, "predicted": float(p.sum()),
            "error": float(p.sum() / tot - 1) if tot else math.nan,
            "weekly_wape": float(np.abs(pw - aw)[full].sum() / aw[full].sum()) if aw[full].sum() else math.nan}


def fit(spec: FitSpec, problem: Problem, out_dir: str | Path, *, sampler_seed: int = 0,
        refine: int = 4, command: str = "", echo: Callable[[str], None] | None = print
        ) -> FitResult:
    """Run (or resume) the study, check the best values on fresh seeds, forecast, write."""
    from sim.fit.report import write_outputs

    out_dir = Path(out_dir)
    t0 = time.perf_counter()
    ev = BrandEvaluator(problem, spec)
    with _exclusive(out_dir):
        # trial 0: the preset (as sim.calibration does); trial 1: a guess read off the log
        study = open_study(problem, out_dir, sampler_seed)
        start = {p.key: min(max(v, p.low), p.high) for p, v in
                 zip(problem.params, ev.start_values().values(), strict=True)}
        if not study.trials:
            study.enqueue_trial(start, user_attrs={"start": True})
        guess = log_guess(spec, problem, start)
        if not any(all(abs(t.params.get(k, math.nan) - v) <= 1e-9 * max(1.0, abs(v))
                       for k, v in guess.items()) for t in study.trials) and guess != start:
            study.enqueue_trial(guess, user_attrs={"log_guess": True})
        study = run_study(problem, out_dir, ev, trials=problem.trials, sampler_seed=sampler_seed,
                          echo=echo)
        complete = _complete(study)
        if not complete:
            raise CalibrationError("no trial completed; see the errors above")
        best_t = min(complete, key=lambda t: t.value)
        best = {p.key: round_value(p, best_t.params[p.key]) for p in problem.params}
        # local refinement: Gauss-Newton steps from the best trial, each run as a study trial
        m0, J = jacobian(ev, problem, best)
        # a resumed study keeps the refinement it already made: it is recorded with the number
        # of search (non-refinement) trials it started from and its budget
        n_search = sum(not t.user_attrs.get("gauss_newton") for t in complete)
        prev = study.user_attrs.get("refinement") or {}
        done = (sum(bool(t.user_attrs.get("gauss_newton")) for t in complete
                    if t.number > prev.get("after_trial", -1))
                if prev.get("search_trials") == n_search else 0)
        finished = prev.get("search_trials") == n_search and prev.get("stopped", False)
        budget = 0 if finished and refine <= prev.get("refine", 0) else max(0, refine - done)
        damping, stopped = 1.0, False
        after = max(t.number for t in complete) if prev.get("search_trials") != n_search \
            else prev.get("after_trial", -1)
        for _ in range(budget):
            proposal = gauss_newton(problem, best, m0, J, damping)
            seen = any(all(abs(t.params.get(k, math.nan) - v) <= 1e-9 * max(1.0, abs(v))
                           for k, v in proposal.items()) for t in complete)
            if seen:
                damping *= 30.0
                continue
            study.enqueue_trial(proposal, user_attrs={"gauss_newton": True})
            run_study(problem, out_dir, ev, trials=len(complete) + 1, sampler_seed=sampler_seed,
                      echo=echo)
            complete = _complete(study)
            new_best = min(complete, key=lambda t: t.value)
            if new_best.number == best_t.number:
                damping *= 30.0    # Levenberg-Marquardt: a shorter step from the same point
                continue
            damping = max(damping / 30.0, 1.0)
            gain = best_t.value - new_best.value
            best_t = new_best
            best = {p.key: round_value(p, best_t.params[p.key]) for p in problem.params}
            m0, J = jacobian(ev, problem, best)
            if gain < max(0.5, 0.02 * best_t.value):    # converged: steps no longer pay
                stopped = True
                break
        study.set_user_attr("refinement", {"search_trials": n_search, "after_trial": after,
                                           "refine": max(refine, prev.get("refine", 0)
                                                         if prev.get("search_trials") == n_search else refine),
                                           "stopped": stopped or finished})
        history = sorted(({"trial": t.number, "objective": t.value, "params": t.params,
                           "measured": t.user_attrs.get("measured", {}),
                           "start": bool(t.user_attrs.get("start")),
                           "gauss_newton": bool(t.user_attrs.get("gauss_newton"))} for t in complete),
                         key=lambda r: r["trial"])
        start = ev.start_values()
        n_sim_best = float(np.mean(ev.cohort_sizes_at_best))
        ci = sandwich_ci(spec, problem, best, J, n_sim=n_sim_best)
        if n_sim_best < 0.5 * min(spec.cohort_size, SIM_COHORT_MIN) and echo:
            echo(f"warning: at the fitted values the simulated cohort has {n_sim_best:,.0f} "
                 f"customers (log: {spec.cohort_size:,}): its measures are noisy; refit with a "
                 f"larger --users (about {int(problem.n_users * spec.cohort_size / max(n_sim_best, 1)):,})")
        ci_set, thr = confidence_set(problem, history)
        start_row = next((h for h in history if h["start"]), history[0])
        if echo:
            echo(f"best trial {best_t.number} (objective {best_t.value:.3g}); checking on seeds "
                 f"{' '.join(map(str, problem.check_seeds))} to day {spec.forecast_end}")
        check = {k: [] for k in (*tg.TARGETS, *tg.REPORTED, "customers_raw")}
        curves, bg_sim, ret, cov, ref, ratio = [], [], [], [], [], []
        for i, seed in enumerate(problem.check_seeds):
            r = ev.simulate(best, seed, days=spec.forecast_end)
            m = tg.measures(r.customers, spec.window, r.weights)
            for k in check:
                if k != "customers_raw":
                    check[k].append(m[k])
            check["customers_raw"].append(float((r.weights > 0).sum()))
            ratio.append(m["mean_amount"] / r.price)   # amounts scale with the price
            curves.append(tg.repeat_by_day(r.customers, spec.window, spec.forecast_end, r.weights))
            ret.append(tg.retention(r.customers, spec.window, r.weights))
            cov.append(r.covered)
            ref.append(float(r.summary.get("referral_share", math.nan) or math.nan))
            if i < 3:
                bg_sim.append(bgnbd_params(r.customers, spec.window, r.weights))
        curves = np.array(curves)
        day = np.arange(1, spec.forecast_end + 1)
        actual = tg.repeat_by_day(spec.customers, spec.window, spec.forecast_end)
        has = day <= spec.obs_end
        bg = bgnbd_forecast(spec)
        q = (1 - CI_LEVEL) / 2
        fc = {"day": day, "date": spec.date(day), "mean": curves.mean(axis=0),
              "lo": np.quantile(curves, q, axis=0), "hi": np.quantile(curves, 1 - q, axis=0),
              "actual": np.where(has, actual, np.nan), "bgnbd": bg["daily"],
              "new_customers": tg.new_by_day(spec.customers, spec.forecast_end),
              "seeds": curves}                               # check seeds x days
        errors = {}
        hold_hi = min(spec.obs_end, spec.forecast_end)
        for label, lo_, hi_ in (("calibration", spec.window.first_lo, spec.cal_end),
                                ("holdout", spec.cal_end + 1, hold_hi)):
            errors[f"sim_{label}"] = holdout_errors(day, fc["actual"], fc["mean"], lo_, hi_)
            errors[f"bgnbd_{label}"] = holdout_errors(day, fc["actual"], fc["bgnbd"], lo_, hi_)
        price = float(spec.measures["mean_amount"] / np.nanmean(ratio))
        check["mean_amount"] = [x * price for x in ratio]    # at the fitted price
        result = FitResult(
            spec=spec, problem=problem, out_dir=out_dir, start=start, best=best,
            best_trial=best_t.number, best_objective=float(best_t.value), ci=ci, ci_set=ci_set, ci_threshold=thr,
            history=history, check=check, check_start=start_row["measured"], price=price,
            forecast=fc, bgnbd=bg, bgnbd_sim=bg_sim, retention_sim=np.array(ret),
            coverage=float(np.mean(cov)), referral_share=ref, errors=errors,
            sim_cohort=n_sim_best)
        result.seconds = time.perf_counter() - t0
        result.runs = ev.runs
        result.files = write_outputs(result, command=command)
    return result


__all__ = ["BrandEvaluator", "FitResult", "FitSpec", "bgnbd_forecast", "build_problem",
           "choose_market", "confidence_set", "default_params", "fit", "parse_param", "prepare"]
