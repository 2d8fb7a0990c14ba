"""Daily reporters (the series) and the run's headline KPIs (the summary).

Reporters follow Starsim's naming: ``n_`` stocks, ``new_`` flows, ``cum_`` totals. They are
computed from whole columns (vectorised) and handed to Mesa's DataCollector as model
reporters. KPI definitions are in docs/metrics.md; each function here says its own.
"""

from __future__ import annotations

import math

import numpy as np

from sim.core import jit
from sim.core.columns import CHURNED, MEMBER, Columns
from sim.core.counterfactual import gross_profit
from sim.core.flows import CHANNEL_KEYS, CORE_RESULTS
from sim.core.jit import NCHUNK, prange
from sim.core.loop import PHASES
from sim.core.mechanisms.base import COUNT, FIXED, LEVEL, MONEY, STOCK, Result


def declared_results(classes=PHASES) -> tuple[Result, ...]:
    """Every result of a day: the model's own, then each mechanism's, in phase order."""
    return CORE_RESULTS + tuple(r for cls in classes for r in cls.results)


RESULTS = declared_results()
COSTS = tuple(r for r in RESULTS if r.is_cost)
SERIES = tuple(r.name for r in RESULTS if r.in_series)

# round(10 s) >= 9  <=>  s >= 0.85;  round(10 s) <= 6  <=>  s < 0.65 (two compares, no floor)
PROMOTER, DETRACTOR = np.float32(0.85), np.float32(0.65)
N_CHANNEL_SLOTS = 128  # channel counts the members' kernel keeps (the int8 column's range)


@jit.kernel(parallel=True)
def _member_stocks(members, satisfaction, fatigue, channel, customer, lead_stage,
                   promoter, detractor, sat, fat, by_channel, counts):  # pragma: no cover
    """One pass over the members fusing ``Reporter.compute``'s gathers and counts:
    ``sat = satisfaction[members]`` and ``fat = fatigue[members]`` (written out: their means
    stay numpy's pairwise sums), ``np.count_nonzero(channel[members] == c)`` for every ``c``
    (into ``by_channel[chunk]``), and the counts ``customer[members]``,
    ``lead_stage[members] != 0``, ``sat >= promoter`` and ``sat < detractor`` (into
    ``counts[chunk]``): integer counts per chunk, summed by the caller."""
    n = members.shape[0]
    for c in prange(NCHUNK):
        # the chunk's slices, looped from 0: as fast on one thread as the serial loop
        lo, hi = n * c // NCHUNK, n * (c + 1) // NCHUNK
        ids, sat_c, fat_c, slots = members[lo:hi], sat[lo:hi], fat[lo:hi], by_channel[c]
        customers = 0
        leads = 0
        promoters = 0
        detractors = 0
        for j in range(ids.shape[0]):
            i = ids[j]
            s = satisfaction[i]
            sat_c[j] = s
            fat_c[j] = fatigue[i]
            slots[channel[i]] += 1
            # booleans added: no branches to mispredict
            customers += customer[i]
            leads += lead_stage[i] != 0
            promoters += s >= promoter
            detractors += s < detractor
        counts[c, 0] = customers
        counts[c, 1] = leads
        counts[c, 2] = promoters
        counts[c, 3] = detractors


def nps(satisfaction: np.ndarray) -> float:
    """Net Promoter Score of 0-1 satisfactions mapped to 0-10 scores (round(10 s)).

    Promoters score 9-10, detractors 0-6 (Reichheld 2003); NPS = % promoters - % detractors.
    """
    if len(satisfaction) == 0:
        return float("nan")
    promoters = np.count_nonzero(satisfaction >= PROMOTER)
    detractors = np.count_nonzero(satisfaction < DETRACTOR)
    return _nps(promoters, detractors, len(satisfaction))


def _nps(promoters: int, detractors: int, n: int) -> float:
    return float(100.0 * (promoters - detractors) / n)


class Reporter:
    """Computes the day's row; keeps running totals for the ``cum_`` reporters.

    Counts and money are reported in real units: one simulated user stands for ``scale``
    real users, so user counts and per-user money are multiplied by ``scale``; fixed costs
    (campaigns, posts) and real accounts are not. Means, shares and NPS need no scaling.
    Which is which is each result's declared kind.
    """

    def __init__(self, scale: int = 1):
        self.cum = {"purchases": 0, "revenue": 0.0, "cost": 0.0}
        self.n_churned = 0
        self.scale = scale
        self.row: dict[str, float] = {}

    def compute(self, day: int, u: Columns, t, members: np.ndarray,
                stocks: dict[str, float]) -> dict[str, float]:
        """The day's row; work is proportional to the number of members, not of users.

        ``stocks``: the stock results the mechanisms reported for today (simulated users).
        """
        k = self.scale
        n_members = len(members)
        self.n_churned += t.new_churned
        t.new_cost = sum(k * getattr(t, r.name) if r.scaled else getattr(t, r.name)
                         for r in COSTS)
        t.day = day
        self.cum["purchases"] += k * t.new_purchases
        self.cum["revenue"] += k * t.new_revenue
        self.cum["cost"] += t.new_cost
        if n_members and jit.use(n_members):
            sat = np.empty(n_members, dtype=u.satisfaction.dtype)
            fat = np.empty(n_members, dtype=u.fatigue.dtype)
            by_channel = np.zeros((NCHUNK, N_CHANNEL_SLOTS), dtype=np.int64)
            counts = np.zeros((NCHUNK, 4), dtype=np.int64)
            _member_stocks(members, u.satisfaction, u.fatigue, u.channel, u.customer,
                           u.lead_stage, PROMOTER, DETRACTOR, sat, fat, by_channel, counts)
            by_channel = by_channel.sum(axis=0)
            customers, leads, promoters, detractors = (int(x) for x in counts.sum(axis=0))
            score = _nps(promoters, detractors, n_members)
        else:
            sat = u.satisfaction[members]
            ch = u.channel[members]  # int8: a count per channel, no widening copy for bincount
            by_channel = [np.count_nonzero(ch == i) for i in range(len(CHANNEL_KEYS))]
            customers = np.count_nonzero(u.customer[members])
            leads = np.count_nonzero(u.lead_stage[members])
            fat = u.fatigue[members]
            score = nps(sat)
        core = {
            "n_prospects": u.n - n_members - self.n_churned,
            "n_members": n_members,
            "n_churned": self.n_churned,
            "n_customers": int(customers),
            "n_leads": int(leads),
            **{f"n_members_{ch}": int(by_channel[i]) for i, ch in enumerate(CHANNEL_KEYS)},
        }
        t.mean_satisfaction = float(sat.mean()) if n_members else float("nan")
        t.mean_fatigue = float(fat.mean()) if n_members else float("nan")
        t.nps = score
        t.cum_purchases = self.cum["purchases"]
        t.cum_revenue = self.cum["revenue"]
        t.cum_cost = self.cum["cost"]
        # users who ever left the prospect state (joined): the Bass F(t) when all start out
        t.cum_adopters_share = (n_members + self.n_churned) / u.n if u.n else float("nan")
        row = {}
        for r in RESULTS:
            if r.kind == STOCK:
                row[r.name] = k * core.get(r.name, stocks.get(r.name, r.default))
            elif r.kind in (COUNT, MONEY):
                row[r.name] = k * getattr(t, r.name)
            elif r.kind in (FIXED, LEVEL):
                v = getattr(t, r.name)
                row[r.name] = int(v) if isinstance(v, bool) else v
        self.row = row
        return row


def top_share(values: np.ndarray, top: float = 0.2) -> float:
    """Share of the total held by the top ``top`` fraction of the positive values."""
    v = np.sort(values[values > 0])[::-1]
    if len(v) == 0:
        return float("nan")
    k = max(1, int(math.ceil(top * len(v))))
    return float(v[:k].sum() / v.sum())


def run_totals(series: dict[str, np.ndarray]) -> dict[str, float]:
    """The run total of every result that declares one (``Result.total``): counts as ints."""
    out = {}
    for r in RESULTS:
        if r.total is not None:
            v = np.sum(series[r.name])
            money = r.unit == "yuan" or r.kind in (MONEY, LEVEL)
            out[r.total] = float(v) if money else int(v)
    return out


def summarize(u: Columns, series: dict[str, np.ndarray], margin: float, members_start: int,
              scale: int = 1) -> dict:
    """The headline KPIs of a run (definitions: docs/metrics.md); counts in real users."""
    ever_member = u.join_day >= 0
    member = u.state == MEMBER
    customer = u.customer  # (n_buy > 0) | owned_before
    customers_ever = ever_member & customer
    # a repurchase: a private-domain customer bought the brand again during the run
    repurchased = ever_member & (((u.n_buy >= 1) & u.owned_before) | (u.n_buy >= 2))
    member_days = float(np.sum(series["n_members"]))
    churn_events = float(np.sum(series["new_churned"]))
    daily_churn = churn_events / member_days if member_days else float("nan")
    totals = run_totals(series)
    new_store = float(totals["new_customers_store"])
    new_ref = float(totals["new_customers_referral"])
    new_event = float(totals["new_customers_event"])
    new_all = new_store + new_ref + new_event
    revenue, fees, cost = totals["revenue"], totals["fee_revenue"], totals["cost"]
    discount = totals["discount"]
    profit = gross_profit(margin, revenue, discount, fees, cost)
    brand_revenue = revenue + totals["public_revenue"]
    n_ever = int(ever_member.sum())
    churn_by_channel = {}
    for ch in CHANNEL_KEYS:
        days_ch = float(np.sum(series[f"n_members_{ch}"]))
        ev = float(np.sum(series[f"new_churned_{ch}"]))
        churn_by_channel[f"monthly_churn_{ch}"] = (1.0 - (1.0 - ev / days_ch) ** 30
                                                   if days_ch else float("nan"))
    live_end, dead_end = series["n_groups_live"][-1], series["n_groups_dead"][-1]
    leads = float(totals["leads"])
    n_customers_ever = int(customers_ever.sum())
    vip_rev = float(u.revenue[u.vip_until >= 0].sum())
    return {
        **totals,
        "members_start": scale * int(members_start),
        "members_end": scale * int(member.sum()),
        "members_ever": scale * n_ever,
        "customers_end": scale * int((member & customer).sum()),
        "monthly_churn_rate": 1.0 - (1.0 - daily_churn) ** 30 if member_days else float("nan"),
        "churned_share": float((u.state == CHURNED).sum() / n_ever) if n_ever else float("nan"),
        "repurchase_rate": float(repurchased.sum() / customers_ever.sum())
        if customers_ever.any() else float("nan"),
        # "old brings new": friends recommended by customers or brought to events by them
        "referral_share": (new_ref + new_event) / new_all if new_all else float("nan"),
        "lead_conversion": float(new_ref + new_event) / leads if leads else float("nan"),
        "gross_profit": profit,
        "roi": profit / cost if cost > 0 else float("nan"),
        "brand_revenue": brand_revenue,
        "brand_gross_profit": gross_profit(margin, brand_revenue, discount, fees, cost),
        # NIO's basis: new brand buyers (any channel) a friend recommended the brand to
        "referral_share_brand": (totals["new_brand_buyers_referral"] / totals["new_brand_buyers"]
                                 if totals["new_brand_buyers"] else float("nan")),
        "clv": (margin * (revenue + discount) - discount + fees) / (scale * n_customers_ever)
        if n_customers_ever else float("nan"),
        **churn_by_channel,
        "dead_group_share": float(dead_end / live_end) if live_end else float("nan"),
        "mean_group_activity": float(series["mean_group_activity"][-1]),
        "kocs_end": int(series["n_kocs"][-1]),
        "vip_end": int(series["n_vip"][-1]),
        "vip_revenue_share": vip_rev / float(u.revenue.sum()) if u.revenue.sum() > 0
        else float("nan"),
        "nps": float(series["nps"][-1]),
        "mean_satisfaction": float(series["mean_satisfaction"][-1]),
        "top20_revenue_share": top_share(u.revenue),
        "k_factor": float(u.n_referred[ever_member].mean()) if n_ever else float("nan"),
    }
