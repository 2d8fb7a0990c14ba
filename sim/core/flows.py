"""The day's flows (``model.today``) and the purchase ledger every mechanism books through."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields

import numpy as np

from sim.core.columns import Columns


@dataclass
class Today:
    """Flows of one day; reset at the start of each step. Money in yuan."""

    promo: bool = False                 # a promotion went out today
    promo_depth: float = 0.0            # its discount share
    content: bool = False               # a content post went out today
    store_buyers: np.ndarray | None = None  # prospects who bought the brand in store today
    new_members_store: int = 0
    new_members_referral: int = 0
    new_members_event: int = 0
    new_customers_store: int = 0
    new_customers_referral: int = 0
    new_customers_event: int = 0
    adoptions: int = 0                  # Bass validation adoptions
    new_leads: int = 0                  # prospects who registered (referral or event guests)
    trials: int = 0
    shadow_recruits: int = 0            # added by staff into stores' own groups (not the brand's)
    bans: int = 0                       # staff accounts banned today
    banned_lost: int = 0                # members lost with banned accounts
    attendees: int = 0
    kocs: int = 0
    redemptions: int = 0
    vip_upgrades: int = 0
    fee_revenue: float = 0.0            # paid-VIP fees (yuan)
    negative_wom: int = 0               # friends told of an unresolved fault
    wait_days: float = 0.0              # service backlog in days of capacity
    groups_live: int = 0
    groups_dead: int = 0
    group_activity: float = float("nan")
    purchases: int = 0                  # private-domain purchases (members, referred buyers)
    repeat_purchases: int = 0
    promo_purchases: int = 0
    lost_sales: int = 0                 # members whose need arrived and who bought elsewhere
    public_purchases: int = 0           # prospects buying the brand outside the private domain
    revenue: float = 0.0                # net of discounts
    discount: float = 0.0
    incidents: int = 0
    resolved: int = 0
    referrals: int = 0                  # recommendations made (along graph edges)
    referrals_converted: int = 0
    churned: int = 0
    churned_by_channel: np.ndarray = field(default_factory=lambda: np.zeros(3, dtype=np.int64))
    cost: float = 0.0                   # per-user costs (scale with the population)
    cost_fixed: float = 0.0             # per-campaign / per-post costs (do not scale)

    def reset(self) -> None:
        for f in fields(self):
            setattr(self, f.name, f.default_factory() if f.default is MISSING else f.default)


def book_purchases(users: Columns, today: Today, ids: np.ndarray, day: int, price: float,
                   discount: float | np.ndarray) -> np.ndarray:
    """Record brand purchases by ``ids`` (unique) at ``price`` x spend, less ``discount``.

    Returns the net amount of each purchase (yuan).
    """
    if len(ids) == 0:
        return np.zeros(0)
    gross = price * users.spend[ids].astype(np.float64)
    net = gross * (1.0 - discount)
    repeat = (users.n_buy[ids] > 0) | users.owned_before[ids]
    users.revenue[ids] += net
    users.n_buy[ids] += 1
    first = users.first_buy_day[ids] < 0
    users.first_buy_day[ids[first]] = day
    users.last_buy_day[ids] = day
    today.purchases += len(ids)
    today.repeat_purchases += int(repeat.sum())
    today.revenue += float(net.sum())
    today.discount += float((gross - net).sum())
    return net
