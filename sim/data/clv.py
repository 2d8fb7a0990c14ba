"""Repeat-purchase models on the exported transaction log: BG/NBD + Gamma-Gamma, holdout check.

The fits come from an established library, `lifetimes` (Davidson-Pilon; the `clv` extra):
``BetaGeoFitter`` (Fader, Hardie & Lee 2005) and ``GammaGammaFitter`` (Fader, Hardie & Lee
2005, "RFM and CLV"). Its fitters work with numpy 2 / pandas 3 / scipy 1.18; two of its
helpers do not and are replaced here: ``lifetimes.utils.calibration_and_holdout_data``
(fails under pandas 3) and ``lifetimes.datasets`` (imports ``pkg_resources``, gone from
setuptools >= 81), so the RFM summary and the calibration/holdout split are computed in
numpy (:func:`rfm`) and the CDNOW file the package ships is read directly
(:func:`cdnow_summary`).

Conventions (as in lifetimes): one transaction per customer and day (same-day purchases are
summed); ``frequency`` = repeat purchases in the calibration period; ``recency`` = time from
the first to the last purchase; ``T`` = time from the first purchase to the end of the
calibration period; ``monetary_value`` = mean amount of the repeat purchases. Time unit:
``unit`` days (7 = weeks, as CDNOW is reported).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.core.columns import unique

CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}      # LITERATURE #30 (weekly)
CDNOW_GG = {"p": 6.25, "q": 3.74, "v": 15.45}


def lifetimes():
    """The `lifetimes` module, or an ImportError that says how to get it."""
    try:
        with warnings.catch_warnings():  # it sets a pandas option pandas 3 deprecates
            warnings.simplefilter("ignore")
            import lifetimes as lt
    except ImportError as exc:
        raise ImportError("BG/NBD and Gamma-Gamma fits need the `clv` extra: "
                          "pip install -e '.[clv]' (lifetimes)") from exc
    return lt


# --------------------------------------------------------------------------- RFM


def daily_transactions(customer_id: np.ndarray, date: np.ndarray, amount: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One row per (customer, day), amounts summed; sorted by customer then day."""
    cid = np.asarray(customer_id, dtype=np.int64)
    day = np.asarray(date, dtype=np.int64)
    amt = np.asarray(amount, dtype=np.float64)
    if len(cid) == 0:
        return cid, day, amt
    order = np.lexsort((day, cid))
    cid, day, amt = cid[order], day[order], amt[order]
    new = np.ones(len(cid), dtype=bool)
    new[1:] = (cid[1:] != cid[:-1]) | (day[1:] != day[:-1])
    idx = np.flatnonzero(new)
    return cid[idx], day[idx], np.add.reduceat(amt, idx)


def rfm(customer_id: np.ndarray, date: np.ndarray, amount: np.ndarray, calibration_end: int,
        observation_end: int | None = None, unit: float = 7.0) -> dict[str, np.ndarray]:
    """RFM summary of customers whose first purchase falls in the calibration period
    (``date <= calibration_end``), with their holdout purchases (``calibration_end < date <=
    observation_end``). Columns: customer_id, frequency, recency, T, monetary_value,
    frequency_holdout, monetary_value_holdout, duration_holdout (all times in ``unit`` days).
    """
    cid, day, amt = daily_transactions(customer_id, date, amount)
    obs_end = int(day.max()) if observation_end is None and len(day) else observation_end
    obs_end = calibration_end if obs_end is None else obs_end
    if obs_end < calibration_end:
        raise ValueError(f"observation_end={obs_end} is before calibration_end={calibration_end}")
    cal = day <= calibration_end
    hold = (day > calibration_end) & (day <= obs_end)
    ids, first_idx = unique(cid[cal], return_index=True)
    c_cid, c_day, c_amt = cid[cal], day[cal], amt[cal]
    n_cal = np.bincount(np.searchsorted(ids, c_cid), minlength=len(ids))
    first = c_day[first_idx]
    last_idx = first_idx + n_cal - 1
    last = c_day[last_idx]
    total = np.add.reduceat(c_amt, first_idx) if len(ids) else np.zeros(0)
    freq = n_cal - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(freq > 0, (total - c_amt[first_idx]) / np.maximum(freq, 1), 0.0)
    # holdout purchases of those customers
    h_cid, h_amt = cid[hold], amt[hold]
    inside = np.isin(h_cid, ids)
    pos = np.searchsorted(ids, h_cid[inside])
    f_hold = np.bincount(pos, minlength=len(ids))
    m_hold_sum = np.bincount(pos, weights=h_amt[inside], minlength=len(ids))
    with np.errstate(invalid="ignore", divide="ignore"):
        m_hold = np.where(f_hold > 0, m_hold_sum / np.maximum(f_hold, 1), 0.0)
    return {
        "customer_id": ids,
        "frequency": freq.astype(np.float64),
        "recency": (last - first) / unit,
        "T": (calibration_end - first) / unit,
        "monetary_value": monetary,
        "frequency_holdout": f_hold.astype(np.float64),
        "monetary_value_holdout": m_hold,
        "duration_holdout": np.full(len(ids), (obs_end - calibration_end) / unit),
        "first_day": first.astype(np.float64),
    }


# --------------------------------------------------------------------------- a known process


def simulate_bgnbd(n: int, days: int, r: float, alpha: float, a: float, b: float, *,
                   unit: float = 7.0, entry_days: int = 84, spend: dict[str, float] | None = None,
                   seed: int = 0) -> dict[str, np.ndarray]:
    """Transactions of ``n`` customers from the BG/NBD process itself (for round trips).

    Each customer enters on a uniform day in ``[1, entry_days]`` with a purchase; while
    alive, purchases follow a Poisson process with rate lambda ~ Gamma(r, alpha) per
    ``unit``; after each purchase the customer drops out with probability p ~ Beta(a, b).
    ``spend`` (Gamma-Gamma ``p, q, v``) draws amounts, else every amount is 1.
    """
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n) / unit          # per day
    p = rng.beta(a, b, n)
    entry = rng.integers(1, entry_days + 1, n)
    if spend:
        nu = rng.gamma(spend["q"], 1.0 / spend["v"], n)  # Gamma-Gamma: nu ~ Gamma(q, v)
    ids, dates = [np.arange(n)], [entry.astype(np.float64)]
    t = entry.astype(np.float64)
    alive = np.ones(n, dtype=bool)
    while alive.any():
        # the next repeat purchase while alive; after it, drop out with probability p
        t = t + rng.exponential(1.0, n) / np.maximum(lam, 1e-300)
        alive &= t <= days
        ids.append(np.flatnonzero(alive))
        dates.append(t[alive])
        alive &= rng.random(n) >= p
    cid = np.concatenate(ids)
    day = np.ceil(np.concatenate(dates)).astype(np.int64)
    day = np.minimum(np.maximum(day, 1), days)
    if spend:
        amount = rng.gamma(spend["p"], 1.0 / nu[cid])
    else:
        amount = np.ones(len(cid))
    order = np.lexsort((day, cid))
    return {"customer_id": cid[order], "date": day[order], "amount": amount[order]}


# --------------------------------------------------------------------------- fits


@dataclass
class ClvFit:
    summary: dict[str, np.ndarray]
    bgnbd: dict[str, float]
    gamma_gamma: dict[str, float] = field(default_factory=dict)
    holdout: list[dict[str, Any]] = field(default_factory=list)   # by calibration frequency
    totals: dict[str, float] = field(default_factory=dict)
    tracking: dict[str, np.ndarray] = field(default_factory=dict)  # cumulative repeat purchases
    models: dict[str, Any] = field(default_factory=dict)
    unit: float = 7.0


def fit_bgnbd(summary: dict[str, np.ndarray], penalizer: float = 0.0, retry: float = 0.001):
    """lifetimes' BetaGeoFitter; if the unpenalised fit does not converge (drop-out not
    identified, e.g. a short calibration period), refit with penalizer ``retry`` (the
    penalizer used is ``bgf.penalizer_coef``)."""
    import contextlib
    import io

    lt = lifetimes()
    for pen in dict.fromkeys((penalizer, max(penalizer, retry))):
        bgf = lt.BetaGeoFitter(penalizer_coef=pen)
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # it prints scipy's result on failure
                bgf.fit(summary["frequency"], summary["recency"], summary["T"])
            return bgf
        except lt.utils.ConvergenceError:
            continue
    raise lt.utils.ConvergenceError(f"BG/NBD did not converge, even with penalizer {retry}")


def fit_gamma_gamma(summary: dict[str, np.ndarray], penalizer: float = 0.0):
    """Gamma-Gamma on repeat buyers (frequency > 0, positive spend); None if too few."""
    lt = lifetimes()
    ok = (summary["frequency"] > 0) & (summary["monetary_value"] > 0)
    if ok.sum() < 20:
        return None
    ggf = lt.GammaGammaFitter(penalizer_coef=penalizer)
    ggf.fit(summary["frequency"][ok], summary["monetary_value"][ok])
    return ggf


def _params(model) -> dict[str, float]:
    return {str(k): float(v) for k, v in model.params_.items()}


def holdout_check(bgf, summary: dict[str, np.ndarray], max_frequency: int = 7
                  ) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Predicted vs actual holdout purchases, by calibration-period frequency (0 .. max+)."""
    pred = np.asarray(bgf.conditional_expected_number_of_purchases_up_to_time(
        summary["duration_holdout"], summary["frequency"], summary["recency"], summary["T"]),
        dtype=float)
    f = summary["frequency"]
    rows = []
    for k in range(max_frequency + 1):
        sel = f >= k if k == max_frequency else f == k
        if not sel.any():
            continue
        rows.append({"frequency": f"{k}+" if k == max_frequency else str(k), "customers": int(sel.sum()),
                     "actual": float(summary["frequency_holdout"][sel].mean()),
                     "predicted": float(pred[sel].mean())})
    actual = float(summary["frequency_holdout"].sum())
    totals = {"customers": int(len(f)), "actual": actual, "predicted": float(pred.sum()),
              "error": float(pred.sum() / actual - 1) if actual else math.nan,
              "mae_per_customer": float(np.abs(pred - summary["frequency_holdout"]).mean())}
    return rows, totals


def tracking(bgf, summary: dict[str, np.ndarray], customer_id, date, observation_end: int,
             unit: float = 7.0) -> dict[str, np.ndarray]:
    """Cumulative repeat purchases by week: actual vs the model's expectation from the
    calibration cohort (Fader, Hardie & Lee 2005, fig. 2)."""
    cid, day, _ = daily_transactions(customer_id, date, np.zeros(len(date)))
    cohort = np.isin(cid, summary["customer_id"])
    firsts = summary["first_day"][np.searchsorted(summary["customer_id"], cid[cohort])]
    repeat_days = day[cohort][day[cohort] > firsts]
    grid = np.arange(unit, observation_end + 1, unit)   # ends within the observation
    actual = np.array([(repeat_days <= g).sum() for g in grid], dtype=float)
    starts = summary["first_day"]
    expected = np.array([
        float(np.sum(bgf.expected_number_of_purchases_up_to_time(np.maximum(g - starts, 0) / unit)))
        for g in grid])
    return {"day": grid, "actual": actual, "expected": expected}


def fit_transactions(tx: dict[str, np.ndarray], calibration_end: int,
                     observation_end: int | None = None, unit: float = 7.0,
                     penalizer: float = 0.0, max_frequency: int = 7) -> ClvFit:
    """RFM summary, BG/NBD and Gamma-Gamma fits on the calibration period, holdout check."""
    s = rfm(tx["customer_id"], tx["date"], tx["amount"], calibration_end, observation_end, unit)
    if len(s["customer_id"]) < 20:
        raise ValueError(f"only {len(s['customer_id'])} customers bought in the calibration "
                         "period: too few to fit")
    obs_end = int(round(calibration_end + s["duration_holdout"][0] * unit))
    bgf = fit_bgnbd(s, penalizer)
    ggf = fit_gamma_gamma(s, penalizer)
    rows, totals = holdout_check(bgf, s, max_frequency)
    fit = ClvFit(summary=s, bgnbd=_params(bgf), holdout=rows, totals=totals,
                 models={"bgnbd": bgf}, unit=unit)
    b = fit.bgnbd
    fit.totals.update({"penalizer": float(bgf.penalizer_coef), "rate_per_unit": b["r"] / b["alpha"],
                       "dropout_per_purchase": b["a"] / (b["a"] + b["b"])})
    if ggf is not None:
        fit.gamma_gamma = _params(ggf)
        fit.models["gamma_gamma"] = ggf
        both = (s["frequency"] > 0) & (s["monetary_value"] > 0) & (s["frequency_holdout"] > 0)
        if both.any():
            pred = np.asarray(ggf.conditional_expected_average_profit(
                s["frequency"][both], s["monetary_value"][both]), dtype=float)
            fit.totals.update({
                "spend_customers": int(both.sum()),
                "spend_predicted": float(pred.mean()),
                "spend_actual": float(s["monetary_value_holdout"][both].mean()),
                # Gamma-Gamma assumes spend is independent of frequency
                "corr_frequency_spend": float(np.corrcoef(s["frequency"][s["frequency"] > 0],
                                                          s["monetary_value"][s["frequency"] > 0])[0, 1]),
            })
    fit.tracking = tracking(bgf, s, tx["customer_id"], tx["date"], obs_end, unit)
    return fit


def cdnow_summary() -> dict[str, np.ndarray]:
    """The CDNOW RFM summary lifetimes ships (2,357 customers, 39-week calibration)."""
    import csv
    from importlib.resources import files

    lifetimes()
    path = files("lifetimes") / "datasets" / "cdnow_customers_summary.csv"
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    return {k: np.array([float(r[k]) for r in rows]) for k in ("frequency", "recency", "T")}


# --------------------------------------------------------------------------- sBG retention


FADER_HARDIE_2007 = {  # customers alive at the start of years 0..7, out of 1,000 (LITERATURE #31)
    "regular": ([1000, 631, 468, 382, 326, 289, 262, 241], {"alpha": 0.704, "beta": 1.182}),
    "high_end": ([1000, 869, 743, 653, 593, 551, 517, 491], {"alpha": 0.668, "beta": 3.806}),
}


def sbg_survival(alpha: float, beta: float, periods: int) -> np.ndarray:
    """Shifted-beta-geometric survival S(0..periods) = B(alpha, beta + t) / B(alpha, beta)."""
    from scipy.special import betaln

    t = np.arange(periods + 1)
    return np.exp(betaln(alpha, beta + t) - betaln(alpha, beta))


def fit_sbg(alive: np.ndarray | list[float]) -> dict[str, float]:
    """Maximum-likelihood sBG (Fader & Hardie 2007) on a cohort's counts alive at the start
    of periods 0, 1, ..., H (own code: scipy only; no installable library here has it).

    Log-likelihood: sum_t lost_t log P(T = t) + alive_H log S(H), with
    P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta).
    """
    from scipy.optimize import minimize
    from scipy.special import betaln

    n = np.asarray(alive, dtype=float)
    lost = n[:-1] - n[1:]
    t = np.arange(1, len(n))

    def nll(x: np.ndarray) -> float:
        a, b = np.exp(x)
        ll = np.sum(lost * (betaln(a + 1, b + t - 1) - betaln(a, b)))
        ll += n[-1] * (betaln(a, b + t[-1]) - betaln(a, b))
        return -float(ll)

    best = min((minimize(nll, np.log([a0, b0]), method="Nelder-Mead",
                         options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000})
                for a0, b0 in ((1.0, 1.0), (0.5, 3.0), (5.0, 20.0))), key=lambda r: r.fun)
    a, b = np.exp(best.x)
    return {"alpha": float(a), "beta": float(b), "loglik": -float(best.fun)}
