"""What a brand knows about itself from its transaction log, measured the same way on a
simulated log.

Conventions (as lifetimes): one transaction per customer and day (same-day purchases are
summed); a *repeat* transaction is any but a customer's first. Days are integer indices,
1 = the log's first date. Every measure is taken over the *calibration period* (days
``<= cal_end``) and the *cohort*: customers whose first purchase falls in it.

Log customers <-> simulated customers (docs/fit.md): a simulated customer is a user with a
private-domain purchase in the simulated log (a member's purchase). The simulated cohort is
the simulated customers whose first logged purchase falls inside the log's first-purchase
window, re-weighted so their first-purchase days follow the log's (:func:`cohort_weights`:
up to 10 quantile bins of the log's first-purchase day; each simulated customer of a bin
weighs ``log customers in the bin / simulated customers in the bin``). So the cohort has the
log's size and arrival curve by construction, and the fit is about what customers do after
their first purchase: how often they come back, for how long, and how much they spend.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.core.columns import unique
from sim.data.clv import daily_transactions

N_BINS = 10          # quantile bins of the first-purchase day used to re-weight a simulated cohort
MIN_OBSERVED = 100   # a target measured on fewer log customers than this is reported, not fitted
RETENTION_PERIOD = 30  # days per period of the retention curve


@dataclass(frozen=True)
class Window:
    """The calibration split and the cohort window, in day indices (1 = log's first date)."""

    cal_end: int                 # last day of the calibration period
    first_lo: int                # the cohort's earliest first purchase
    first_hi: int                # the cohort's latest first purchase (<= cal_end)
    late_from: int               # "late activity" window: (late_from, cal_end]
    edges: tuple[float, ...]     # first-purchase bin edges (log quantiles)


# measures used as calibration targets: name -> (label, how it is measured)
TARGETS: dict[str, tuple[str, str]] = {
    "repeat_rate": ("repeat rate",
                    "share of the cohort with at least one repeat transaction by the calibration end"),
    "repeats_per_customer": ("repeat transactions per customer",
                             "mean number of repeat transactions per cohort customer in the "
                             "calibration period (BG/NBD's mean frequency)"),
    "gap_days": ("typical days between purchases",
                 "geometric mean of the gaps between a customer's consecutive purchase days "
                 "(inter-purchase time; a median of whole days would move in steps), calibration "
                 "period"),
    "late_active": ("active in the last quarter",
                    "share of the cohort with a transaction in the last quarter of the "
                    "calibration period (days late_from+1 .. cal_end): drop-out vs slow buying"),
    "active_91_180": ("active 91-180 days after the first purchase",
                      "share of the cohort customers observed for 180 days after their first "
                      "purchase (in the calibration period) who bought on days 91-180 after it: "
                      "how long customers last"),
    "spend_log_sd": ("spread of spend (sd of log amount)",
                     "standard deviation of log(amount) over daily transactions with amount > 0"),
    "top20_share": ("top-20% revenue share",
                    "share of the cohort's calibration revenue from its top 20% of customers"),
}
# measured and reported, not fitted
REPORTED = {
    "customers": "cohort customers (simulated: re-weighted to the log's count)",
    "mean_amount": "mean amount per daily transaction (sets market.price)",
    "repeat_tx": "repeat transactions of the cohort in the calibration period",
    "median_gap_days": "median days between purchases (whole days)",
}


def window(first_days: np.ndarray, cal_end: int) -> Window:
    """The window of a log's cohort; ``first_days``: each log customer's first purchase day."""
    f = first_days[first_days <= cal_end]
    lo, hi = int(f.min()), int(f.max())
    span = cal_end - lo + 1
    late_from = cal_end - max(7, span // 4)
    q = np.unique(np.quantile(f, np.linspace(0, 1, N_BINS + 1), method="inverted_cdf"))
    edges = tuple(float(x) for x in q) if len(q) > 1 else (float(lo), float(hi))
    return Window(cal_end=int(cal_end), first_lo=lo, first_hi=hi, late_from=int(late_from),
                  edges=edges)


def _bin(first: np.ndarray, w: Window) -> np.ndarray:
    inner = np.asarray(w.edges[1:-1])
    return np.searchsorted(inner, first, side="right") if len(inner) else np.zeros(len(first), int)


def cohort_weights(sim_first: np.ndarray, log_first: np.ndarray, w: Window
                   ) -> tuple[np.ndarray, float]:
    """Weights of simulated customers (by first purchase day) so the simulated cohort has
    the log cohort's size and first-purchase distribution; and the share of the log cohort
    covered (bins with no simulated customer cannot be matched)."""
    log_f = log_first[log_first <= w.cal_end]
    inside = (sim_first >= w.first_lo) & (sim_first <= w.first_hi)
    nb = max(1, len(w.edges) - 1)
    lb = np.bincount(_bin(log_f, w), minlength=nb)
    sb = np.bincount(_bin(sim_first[inside], w), minlength=nb)
    per = np.where(sb > 0, lb / np.maximum(sb, 1), 0.0)
    wt = np.zeros(len(sim_first))
    wt[inside] = per[_bin(sim_first[inside], w)]
    covered = float(lb[sb > 0].sum() / max(1, lb.sum()))
    return wt, covered


@dataclass
class Customers:
    """Daily transactions grouped by customer (sorted by customer, then day)."""

    cid: np.ndarray      # customer per daily transaction
    day: np.ndarray
    amount: np.ndarray
    ids: np.ndarray      # unique customers
    start: np.ndarray    # index of each customer's first row
    count: np.ndarray    # daily transactions per customer (whole log)
    first: np.ndarray    # first purchase day per customer

    @classmethod
    def build(cls, customer, day, amount) -> Customers:
        cid, d, a = daily_transactions(customer, day, amount)
        ids, start, count = unique(cid, return_index=True, return_counts=True)
        return cls(cid, d, a, ids, start, count, d[start] if len(d) else d)

    def row_customer(self) -> np.ndarray:
        """Position (0..n-1) of each row's customer."""
        return np.repeat(np.arange(len(self.ids)), self.count)


def _wquantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    ok = w > 0
    x, w = x[ok], w[ok]
    if not len(x):
        return math.nan
    o = np.argsort(x, kind="stable")
    cw = np.cumsum(w[o])
    return float(x[o][np.searchsorted(cw, q * cw[-1])])


def measures(c: Customers, w: Window, weights: np.ndarray | None = None) -> dict[str, float]:
    """Every target and reported measure of the cohort in the calibration period.

    ``weights``: one per customer of ``c`` (default 1); customers with weight 0 and those
    whose first purchase is after ``cal_end`` are not in the cohort.
    """
    wc = np.ones(len(c.ids)) if weights is None else np.asarray(weights, dtype=float)
    wc = np.where(c.first <= w.cal_end, wc, 0.0)
    pos = c.row_customer()
    cal = c.day <= w.cal_end
    in_c = wc[pos] > 0
    rows = cal & in_c
    wr = wc[pos]
    W = wc.sum()
    if W <= 0:
        return {k: math.nan for k in (*TARGETS, *REPORTED, "observed_180")}
    n_cal = np.bincount(pos[rows], minlength=len(c.ids))
    freq = np.maximum(n_cal - 1, 0)
    out: dict[str, float] = {"customers": float(W)}
    out["repeat_rate"] = float((wc * (freq > 0)).sum() / W)
    out["repeats_per_customer"] = float((wc * freq).sum() / W)
    out["repeat_tx"] = float((wc * freq).sum())
    # gaps between consecutive purchase days of the same customer (calibration period)
    same = np.zeros(len(c.day), dtype=bool)
    same[1:] = (c.cid[1:] == c.cid[:-1]) & rows[1:] & rows[:-1]
    gaps = (c.day[1:] - c.day[:-1])[same[1:]]
    wg = wr[1:][same[1:]]
    out["gap_days"] = float(np.exp(np.average(np.log(gaps), weights=wg))) if wg.sum() > 0 else math.nan
    out["median_gap_days"] = _wquantile(gaps.astype(float), wg, 0.5)
    late = rows & (c.day > w.late_from)
    active = np.bincount(pos[late], minlength=len(c.ids)) > 0
    eligible = wc * (c.first <= w.late_from)
    out["late_active"] = float((eligible * active).sum() / eligible.sum()) if eligible.sum() else math.nan
    since = c.day - c.first[pos]
    mid = rows & (since > 90) & (since <= 180)
    bought = np.bincount(pos[mid], minlength=len(c.ids)) > 0
    observed = wc * (c.first + 180 <= w.cal_end)
    out["active_91_180"] = (float((observed * bought).sum() / observed.sum())
                            if observed.sum() else math.nan)
    out["observed_180"] = float(observed.sum())
    pos_amt = rows & (c.amount > 0)
    la = np.log(c.amount[pos_amt])
    ww = wr[pos_amt]
    if ww.sum() > 0:
        m = np.average(la, weights=ww)
        out["spend_log_sd"] = float(math.sqrt(np.average((la - m) ** 2, weights=ww)))
    else:
        out["spend_log_sd"] = math.nan
    out["mean_amount"] = float(np.average(c.amount[rows], weights=wr[rows])) if wr[rows].sum() else math.nan
    rev = np.bincount(pos[rows], weights=c.amount[rows], minlength=len(c.ids))
    o = np.argsort(-rev, kind="stable")
    o = o[wc[o] > 0]
    cw = np.cumsum(wc[o])
    total = float((wc[o] * rev[o]).sum())
    if total > 0:
        k = 0.2 * W
        full = cw <= k
        top = float((wc[o] * rev[o])[full].sum())
        j = int(full.sum())
        if j < len(o):  # the customer straddling the 20% line counts in part
            top += (k - (cw[j - 1] if j else 0.0)) * rev[o][j]
        out["top20_share"] = top / total
    else:
        out["top20_share"] = math.nan
    return out


def retention(c: Customers, w: Window, weights: np.ndarray | None = None, periods: int = 12
              ) -> np.ndarray:
    """Share of the cohort with a transaction in period k = 1..periods after the first
    purchase (periods of RETENTION_PERIOD days), among customers observed for the whole
    period in the calibration data; NaN where nobody is."""
    wc = np.ones(len(c.ids)) if weights is None else np.asarray(weights, dtype=float)
    wc = np.where(c.first <= w.cal_end, wc, 0.0)
    pos = c.row_customer()
    rows = (c.day <= w.cal_end) & (wc[pos] > 0)
    k = (c.day - c.first[pos] - 1) // RETENTION_PERIOD + 1   # day after first = period 1
    out = np.full(periods, np.nan)
    for p in range(1, periods + 1):
        obs = wc * (c.first + p * RETENTION_PERIOD <= w.cal_end)
        if obs.sum() <= 0:
            continue
        hit = np.bincount(pos[rows & (k == p)], minlength=len(c.ids)) > 0
        out[p - 1] = float((obs * hit).sum() / obs.sum())
    return out


def repeat_by_day(c: Customers, w: Window, n_days: int, weights: np.ndarray | None = None
                  ) -> np.ndarray:
    """Repeat transactions of the cohort on each day 1..n_days (weighted)."""
    wc = np.ones(len(c.ids)) if weights is None else np.asarray(weights, dtype=float)
    wc = np.where(c.first <= w.cal_end, wc, 0.0)
    pos = c.row_customer()
    rep = (c.day > c.first[pos]) & (c.day <= n_days) & (wc[pos] > 0)
    return np.bincount(c.day[rep] - 1, weights=wc[pos][rep], minlength=n_days)[:n_days]


def new_by_day(c: Customers, n_days: int) -> np.ndarray:
    """First purchases on each day 1..n_days (unweighted)."""
    f = c.first[c.first <= n_days]
    return np.bincount(f - 1, minlength=n_days)[:n_days].astype(float)


def bootstrap(c: Customers, w: Window, names: list[str], reps: int = 100, seed: int = 0
              ) -> np.ndarray:
    """Each measure over customers resampled with replacement: ``reps x len(names)`` (seeded:
    the same log gives the same errors, so a resumed study keeps its fingerprint)."""
    rng = np.random.default_rng(seed)
    cohort = np.flatnonzero(c.first <= w.cal_end)
    out = np.full((reps, len(names)), np.nan)
    for i in range(reps):
        counts = np.bincount(rng.choice(cohort, len(cohort)), minlength=len(c.ids))
        m = measures(c, w, counts.astype(float))
        out[i] = [m[k] for k in names]
    return out


__all__ = ["Customers", "REPORTED", "TARGETS", "Window", "bootstrap", "cohort_weights",
           "measures", "new_by_day", "repeat_by_day", "retention", "window"]
