"""Daily reporters (the series) and the run's headline KPIs (the summary).

Reporters follow Starsim's naming: ``n_`` stocks, ``new_`` flows, ``cum_`` totals. They are
computed from whole columns (vectorised) and handed to Mesa's DataCollector as model
reporters. KPI definitions are in docs/metrics.md; each function here says its own.
"""

from __future__ import annotations

import math

import numpy as np

from sim.core.columns import CHURNED, MEMBER, Columns
from sim.core.flows import Today

SERIES = (
    "day", "n_prospects", "n_members", "n_churned", "n_customers", "n_leads", "n_kocs", "n_vip",
    "n_members_personal_wechat", "n_members_wecom", "n_members_official_account",
    "new_members_store", "new_members_referral", "new_members_event",
    "new_customers_store", "new_customers_referral", "new_customers_event",
    "new_leads", "new_trials", "new_shadow_recruits",
    "new_purchases", "new_repeat_purchases", "new_promo_purchases", "new_lost_sales",
    "new_public_purchases", "new_revenue", "new_discount", "new_fee_revenue", "new_cost",
    "new_churned", "new_churned_personal_wechat", "new_churned_wecom",
    "new_churned_official_account", "new_bans", "new_banned_lost",
    "new_incidents", "new_resolved", "new_negative_wom", "service_wait_days",
    "new_referrals", "new_referrals_converted", "new_attendees", "new_redemptions",
    "new_vip_upgrades", "n_groups_live", "n_groups_dead", "mean_group_activity",
    "promo", "content", "mean_satisfaction", "mean_fatigue", "nps",
    "cum_purchases", "cum_revenue", "cum_cost", "new_adoptions", "cum_adopters_share",
)
CHANNEL_KEYS = ("personal_wechat", "wecom", "official_account")

# today's flows copied into the series, as (series name, Today attribute); counts are scaled
_FLOWS = (
    ("new_members_store", "new_members_store"), ("new_members_referral", "new_members_referral"),
    ("new_members_event", "new_members_event"), ("new_customers_store", "new_customers_store"),
    ("new_customers_referral", "new_customers_referral"),
    ("new_customers_event", "new_customers_event"), ("new_leads", "new_leads"),
    ("new_trials", "trials"), ("new_shadow_recruits", "shadow_recruits"),
    ("new_purchases", "purchases"), ("new_repeat_purchases", "repeat_purchases"),
    ("new_promo_purchases", "promo_purchases"), ("new_lost_sales", "lost_sales"),
    ("new_public_purchases", "public_purchases"), ("new_churned", "churned"),
    ("new_banned_lost", "banned_lost"), ("new_incidents", "incidents"),
    ("new_resolved", "resolved"), ("new_negative_wom", "negative_wom"),
    ("new_referrals", "referrals"), ("new_referrals_converted", "referrals_converted"),
    ("new_attendees", "attendees"), ("new_redemptions", "redemptions"),
    ("new_vip_upgrades", "vip_upgrades"), ("new_adoptions", "adoptions"),
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

    def __init__(self, n_churned: int = 0, scale: int = 1, kocs: bool = True, vip: bool = True):
        self.cum = {"purchases": 0, "revenue": 0.0, "cost": 0.0}
        self.n_churned = n_churned
        self.scale = scale
        self.kocs, self.vip = kocs, vip  # count KOCs / VIPs only when they can exist
        self.row: dict[str, float] = {}

    def compute(self, day: int, u: Columns, t: Today, members: np.ndarray) -> dict[str, float]:
        """The day's row; work is proportional to the number of members, not of users."""
        k = self.scale
        n_members = len(members)
        self.n_churned += t.churned
        sat = u.satisfaction[members]
        n_customers = int(np.count_nonzero((u.n_buy[members] > 0) | u.owned_before[members]))
        by_channel = np.bincount(u.channel[members], minlength=3)
        revenue = k * t.revenue
        cost = k * t.cost + t.cost_fixed
        fees = k * t.fee_revenue
        self.cum["purchases"] += k * t.purchases
        self.cum["revenue"] += revenue
        self.cum["cost"] += cost
        row = {
            "day": day,
            "n_prospects": k * (u.n - n_members - self.n_churned),
            "n_members": k * n_members,
            "n_churned": k * self.n_churned,
            "n_customers": k * n_customers,
            "n_leads": k * int(np.count_nonzero(u.lead_stage[members])),
            "n_kocs": k * int(np.count_nonzero(u.koc[members])) if self.kocs else 0,
            "n_vip": k * int(np.count_nonzero(u.vip_until[members] >= day)) if self.vip else 0,
        }
        for i, ch in enumerate(CHANNEL_KEYS):
            row[f"n_members_{ch}"] = k * int(by_channel[i])
            row[f"new_churned_{ch}"] = k * int(t.churned_by_channel[i])
        for name, attr in _FLOWS:
            row[name] = k * getattr(t, attr)
        row.update({
            "new_revenue": revenue,
            "new_discount": k * t.discount,
            "new_fee_revenue": fees,
            "new_cost": cost,
            "new_bans": t.bans,
            "service_wait_days": t.wait_days,
            "n_groups_live": t.groups_live,
            "n_groups_dead": t.groups_dead,
            "mean_group_activity": t.group_activity,
            "promo": int(t.promo),
            "content": int(t.content),
            "mean_satisfaction": float(sat.mean()) if n_members else float("nan"),
            "mean_fatigue": float(u.fatigue[members].mean()) if n_members else float("nan"),
            "nps": nps(sat),
            "cum_purchases": self.cum["purchases"],
            "cum_revenue": self.cum["revenue"],
            "cum_cost": self.cum["cost"],
            # users who ever left the prospect state (joined): the Bass F(t) when all start out
            "cum_adopters_share": (u.n - (u.n - n_members - self.n_churned)) / u.n
            if u.n else float("nan"),
        })
        self.row = row
        return row


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
    new_event = float(np.sum(series["new_customers_event"]))
    new_all = new_store + new_ref + new_event
    revenue = float(np.sum(series["new_revenue"]))
    fees = float(np.sum(series["new_fee_revenue"]))
    cost = float(np.sum(series["new_cost"]))
    profit = margin * revenue + fees - cost
    n_ever = int(ever_member.sum())
    churn_by_channel = {}
    for ch in CHANNEL_KEYS:
        days_ch = float(np.sum(series[f"n_members_{ch}"]))
        ev = float(np.sum(series[f"new_churned_{ch}"]))
        churn_by_channel[f"monthly_churn_{ch}"] = (1.0 - (1.0 - ev / days_ch) ** 30
                                                   if days_ch else float("nan"))
    live_end, dead_end = series["n_groups_live"][-1], series["n_groups_dead"][-1]
    leads = float(np.sum(series["new_leads"]))
    n_customers_ever = int(customers_ever.sum())
    vip_rev = float(u.revenue[u.vip_until >= 0].sum())
    return {
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
        "new_customers_store": int(new_store),
        "new_customers_referral": int(new_ref),
        "new_customers_event": int(new_event),
        "leads": int(leads),
        "lead_conversion": float(new_ref + new_event) / leads if leads else float("nan"),
        "purchases": int(np.sum(series["new_purchases"])),
        "revenue": revenue,
        "discount": float(np.sum(series["new_discount"])),
        "fee_revenue": fees,
        "cost": cost,
        "gross_profit": profit,
        "roi": profit / cost if cost > 0 else float("nan"),
        "clv": (margin * revenue + fees) / (scale * n_customers_ever)
        if n_customers_ever else float("nan"),
        **churn_by_channel,
        "dead_group_share": float(dead_end / live_end) if live_end else float("nan"),
        "mean_group_activity": float(series["mean_group_activity"][-1]),
        "kocs_end": int(series["n_kocs"][-1]),
        "vip_end": int(series["n_vip"][-1]),
        "vip_revenue_share": vip_rev / float(u.revenue.sum()) if u.revenue.sum() > 0
        else float("nan"),
        "shadow_recruits": int(np.sum(series["new_shadow_recruits"])),
        "banned_lost": int(np.sum(series["new_banned_lost"])),
        "nps": float(series["nps"][-1]),
        "mean_satisfaction": float(series["mean_satisfaction"][-1]),
        "top20_revenue_share": top_share(u.revenue),
        "k_factor": float(u.n_referred[ever_member].mean()) if n_ever else float("nan"),
    }
