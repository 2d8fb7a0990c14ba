"""Daily reporters (the series) and the run's headline KPIs (the summary).

Reporters follow Starsim's naming: ``n_`` stocks, ``new_`` flows, ``cum_`` totals. They are
computed from whole columns (vectorised) and handed to Mesa's DataCollector as model
reporters. KPI definitions are in docs/metrics.md; each function here says its own.
"""

from __future__ import annotations

import math

import numpy as np

from sim.columns import CHURNED, MEMBER, Columns
from sim.flows import Today

SERIES = (
    "day", "n_prospects", "n_members", "n_churned", "n_customers",
    "new_members_store", "new_members_referral", "new_customers_store", "new_customers_referral",
    "new_purchases", "new_repeat_purchases", "new_promo_purchases", "new_lost_sales",
    "new_public_purchases", "new_revenue", "new_discount", "new_cost", "new_churned",
    "new_incidents", "new_resolved", "new_referrals", "new_referrals_converted",
    "promo", "content", "mean_satisfaction", "mean_fatigue", "nps",
    "cum_purchases", "cum_revenue", "cum_cost",
)


def nps(satisfaction: np.ndarray) -> float:
    """Net Promoter Score of 0-1 satisfactions mapped to 0-10 scores (round(10 s)).

    Promoters score 9-10, detractors 0-6 (Reichheld 2003); NPS = % promoters - % detractors.
    """
    if len(satisfaction) == 0:
        return float("nan")
    # round(10 s) >= 9  <=>  s >= 0.85;  round(10 s) <= 6  <=>  s < 0.65 (two compares, no floor)
    promoters = np.count_nonzero(satisfaction >= np.float32(0.85))
    detractors = np.count_nonzero(satisfaction < np.float32(0.65))
    return float(100.0 * (promoters - detractors) / len(satisfaction))


class Reporter:
    """Computes the day's row; keeps running totals for the ``cum_`` reporters.

    Counts and money are reported in real units: one simulated user stands for ``scale``
    real users, so user counts and per-user money are multiplied by ``scale``; fixed costs
    (campaigns, posts) are not. Means, shares and NPS need no scaling.
    """

    def __init__(self, n_churned: int = 0, scale: int = 1):
        self.cum = {"purchases": 0, "revenue": 0.0, "cost": 0.0}
        self.n_churned = n_churned
        self.scale = scale
        self.row: dict[str, float] = {}

    def compute(self, day: int, u: Columns, t: Today, members: np.ndarray) -> dict[str, float]:
        """The day's row; work is proportional to the number of members, not of users."""
        k = self.scale
        n_members = len(members)
        self.n_churned += t.churned
        sat = u.satisfaction[members]
        n_customers = int(np.count_nonzero((u.n_buy[members] > 0) | u.owned_before[members]))
        revenue = k * t.revenue
        cost = k * t.cost + t.cost_fixed
        self.cum["purchases"] += k * t.purchases
        self.cum["revenue"] += revenue
        self.cum["cost"] += cost
        self.row = {
            "day": day,
            "n_prospects": k * (u.n - n_members - self.n_churned),
            "n_members": k * n_members,
            "n_churned": k * self.n_churned,
            "n_customers": k * n_customers,
            "new_members_store": k * t.new_members_store,
            "new_members_referral": k * t.new_members_referral,
            "new_customers_store": k * t.new_customers_store,
            "new_customers_referral": k * t.new_customers_referral,
            "new_purchases": k * t.purchases,
            "new_repeat_purchases": k * t.repeat_purchases,
            "new_promo_purchases": k * t.promo_purchases,
            "new_lost_sales": k * t.lost_sales,
            "new_public_purchases": k * t.public_purchases,
            "new_revenue": revenue,
            "new_discount": k * t.discount,
            "new_cost": cost,
            "new_churned": k * t.churned,
            "new_incidents": k * t.incidents,
            "new_resolved": k * t.resolved,
            "new_referrals": k * t.referrals,
            "new_referrals_converted": k * t.referrals_converted,
            "promo": int(t.promo),
            "content": int(t.content),
            "mean_satisfaction": float(sat.mean()) if n_members else float("nan"),
            "mean_fatigue": float(u.fatigue[members].mean()) if n_members else float("nan"),
            "nps": nps(sat),
            "cum_purchases": self.cum["purchases"],
            "cum_revenue": self.cum["revenue"],
            "cum_cost": self.cum["cost"],
        }
        return self.row


def top_share(values: np.ndarray, top: float = 0.2) -> float:
    """Share of the total held by the top ``top`` fraction of the positive values."""
    v = np.sort(values[values > 0])[::-1]
    if len(v) == 0:
        return float("nan")
    k = max(1, int(math.ceil(top * len(v))))
    return float(v[:k].sum() / v.sum())


def summarize(u: Columns, series: dict[str, np.ndarray], margin: float, members_start: int,
              scale: int = 1) -> dict:
    """The headline KPIs of a run (definitions: docs/metrics.md); counts in real users."""
    ever_member = u.join_day >= 0
    member = u.state == MEMBER
    customer = (u.n_buy > 0) | u.owned_before
    customers_ever = ever_member & customer
    # a repurchase: a private-domain customer bought the brand again during the run
    repurchased = ever_member & (((u.n_buy >= 1) & u.owned_before) | (u.n_buy >= 2))
    member_days = float(np.sum(series["n_members"]))
    churn_events = float(np.sum(series["new_churned"]))
    daily_churn = churn_events / member_days if member_days else float("nan")
    new_store = float(np.sum(series["new_customers_store"]))
    new_ref = float(np.sum(series["new_customers_referral"]))
    revenue = float(np.sum(series["new_revenue"]))
    cost = float(np.sum(series["new_cost"]))
    n_ever = int(ever_member.sum())
    return {
        "members_start": scale * int(members_start),
        "members_end": scale * int(member.sum()),
        "members_ever": scale * n_ever,
        "customers_end": scale * int((member & customer).sum()),
        "monthly_churn_rate": 1.0 - (1.0 - daily_churn) ** 30 if member_days else float("nan"),
        "churned_share": float((u.state == CHURNED).sum() / n_ever) if n_ever else float("nan"),
        "repurchase_rate": float(repurchased.sum() / customers_ever.sum())
        if customers_ever.any() else float("nan"),
        "referral_share": new_ref / (new_ref + new_store) if new_ref + new_store else float("nan"),
        "new_customers_store": int(new_store),
        "new_customers_referral": int(new_ref),
        "purchases": int(np.sum(series["new_purchases"])),
        "revenue": revenue,
        "discount": float(np.sum(series["new_discount"])),
        "cost": cost,
        "gross_profit": margin * revenue - cost,
        "roi": (margin * revenue - cost) / cost if cost > 0 else float("nan"),
        "nps": float(series["nps"][-1]),
        "mean_satisfaction": float(series["mean_satisfaction"][-1]),
        "top20_revenue_share": top_share(u.revenue),
        "k_factor": float(u.n_referred[ever_member].mean()) if n_ever else float("nan"),
    }
