"""The day's results (``model.today``), generated from the mechanisms' declarations.

Every result a mechanism reports is declared once, as a :class:`~sim.core.mechanisms.base.Result`
(name, unit, kind, doc) on the mechanism class. The results the model itself writes (users
joining and leaving, purchases booked, the stocks of the day) are declared here, in
:data:`CORE_RESULTS`. :class:`Today` has exactly one attribute per declared result (an
undeclared name is refused), the series one column per result that is not a signal, and
docs/mechanisms.md one row per result: none of these lists is kept by hand.
"""

from __future__ import annotations

import numpy as np

from sim.core.columns import (
    PROSPECT,
    SOURCE_ADOPTION,
    SOURCE_EVENT,
    SOURCE_PRESALE,
    SOURCE_RECALL,
    SOURCE_REFERRAL,
    SOURCE_STORE,
    Columns,
)
from sim.core.mechanisms.base import COUNT, LEVEL, MONEY, STOCK, Result

CHANNEL_KEYS = ("personal_wechat", "wecom", "official_account")
# the result counting the users who join from each source (SiyuModel.join)
JOIN_COUNTS = {SOURCE_STORE: "new_members_store", SOURCE_REFERRAL: "new_members_referral",
               SOURCE_EVENT: "new_members_event", SOURCE_ADOPTION: "new_adoptions",
               SOURCE_RECALL: "new_members_recall", SOURCE_PRESALE: "new_members_presale"}

CORE_RESULTS: tuple[Result, ...] = (
    Result("day", "day", "simulated day (1..days)", LEVEL),
    Result("n_prospects", "users", "users who never joined the private domain", STOCK),
    Result("n_members", "users", "users in the private domain at the day's end", STOCK),
    Result("n_churned", "users", "users who left the private domain", STOCK),
    Result("n_customers", "users", "members who own the brand (bought before, at or since "
           "joining)", STOCK),
    *(Result(f"n_members_{ch}", "users", f"members whose landing channel is {ch}", STOCK)
      for ch in CHANNEL_KEYS),
    Result("new_members_store", "users", "in-store buyers added by store staff today", COUNT),
    Result("new_members_referral", "users", "friends who registered on a recommendation today",
           COUNT),
    Result("new_members_event", "users", "friends brought to an event who registered today",
           COUNT),
    Result("new_members_recall", "users", "former members won back today", COUNT,
           total="members_recalled"),
    Result("new_members_presale", "users", "prospects pulled into a group at presale today "
           "(group-only members)", COUNT, total="members_presale"),
    Result("new_adoptions", "users", "Bass validation: prospects who adopted today", COUNT),
    Result("new_leads", "users", "registrations today (referral and event friends)", COUNT,
           total="leads"),
    Result("n_leads", "users", "members who are leads (registered, not yet bought)", STOCK),
    Result("new_customers_referral", "users", "referred leads who bought today", COUNT,
           total="new_customers_referral"),
    Result("new_customers_event", "users", "event-brought leads who bought today", COUNT,
           total="new_customers_event"),
    Result("new_brand_buyers", "users", "first-ever brand purchases today, in any channel",
           COUNT, total="new_brand_buyers"),
    Result("new_brand_buyers_referral", "users", "of which by users a friend had recommended "
           "the brand to (NIO's basis for the referral share)", COUNT,
           total="new_brand_buyers_referral"),
    Result("new_purchases", "purchases", "private-domain purchases today (members, and "
           "referred prospects at conversion)", COUNT, total="purchases"),
    Result("new_repeat_purchases", "purchases", "of which by users who owned the brand before",
           COUNT),
    Result("new_revenue", "yuan", "revenue today, net of discounts", MONEY, total="revenue"),
    Result("new_discount", "yuan", "discounts given today", MONEY, total="discount"),
    Result("new_churned", "users", "members who left today", COUNT),
    *(Result(f"new_churned_{ch}", "users", f"members of channel {ch} who left today", COUNT)
      for ch in CHANNEL_KEYS),
    Result("new_banned_lost", "users", "members lost with banned staff accounts today", COUNT,
           total="banned_lost"),
    Result("new_cost_referral_rewards", "yuan", "rewards paid for referred friends who bought",
           MONEY, 0.0, total="cost_referral_rewards"),
    Result("new_cost", "yuan", "cost today: the sum of every new_cost_<kind> (real units)",
           LEVEL, 0.0, total="cost"),
    Result("mean_satisfaction", "0-1", "mean satisfaction of members", LEVEL, float("nan")),
    Result("mean_fatigue", "fatigue units", "mean promotion fatigue of members", LEVEL,
           float("nan")),
    Result("nps", "points (-100..100)", "Net Promoter Score of members (docs/metrics.md)", LEVEL,
           float("nan")),
    Result("cum_purchases", "purchases", "purchases so far", LEVEL),
    Result("cum_revenue", "yuan", "revenue so far", LEVEL, 0.0),
    Result("cum_cost", "yuan", "cost so far", LEVEL, 0.0),
    Result("cum_adopters_share", "share", "users who ever joined / all users (the Bass F(t) "
           "when everyone starts as a prospect)", LEVEL, float("nan")),
)


class Today:
    """The results of one day; one attribute per declared result, reset at each step."""

    __slots__ = ("_defaults",)

    def reset(self) -> None:
        for name, value in self._defaults:
            setattr(self, name, value)


def today_class(results: tuple[Result, ...]) -> type[Today]:
    """A :class:`Today` subclass whose attributes are exactly the declared results."""
    names = [r.name for r in results]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"results declared twice: {', '.join(dupes)}")

    def __init__(self) -> None:
        self._defaults = tuple((r.name, r.default) for r in results)
        self.reset()

    return type("Today", (Today,), {"__slots__": tuple(names), "__init__": __init__})


def bought_in_store(users: Columns, ids: np.ndarray) -> None:
    """Users ``ids`` bought the brand in a store before joining: they owned it before their
    private-domain tenure, and count as its customers (``customer`` is
    ``(n_buy > 0) | owned_before``, kept where either is written)."""
    users.owned_before[ids] = True
    users.customer[ids] = True


def book_public(users: Columns, today: Today, ids: np.ndarray, day: int, price: float,
                discount: float | np.ndarray = 0.0) -> None:
    """Record brand purchases outside the private domain by ``ids`` at list price, less
    ``discount`` (a shared coupon)."""
    gross = price * users.spend[ids].astype(np.float64)
    net = gross * (1.0 - discount)
    users.public_buys[ids] += 1
    users.public_revenue[ids] += net
    today.new_discount += float((gross - net).sum())
    bought_in_store(users, ids[users.state[ids] == PROSPECT])
    users.last_public_day[ids] = day
    today.new_public_purchases += len(ids)
    today.new_public_revenue += float(net.sum())


def book_purchases(users: Columns, today: Today, ids: np.ndarray, day: int, price: float,
                   discount: float | np.ndarray, referral_reward: float = 0.0,
                   units: np.ndarray | None = None) -> np.ndarray:
    """Record brand purchases by ``ids`` (unique) of ``units`` each (default 1) at ``price`` x
    spend, less ``discount``.

    A lead's first purchase makes a customer, counted by how the lead came (referral or
    event); a referred customer earns the referrer ``referral_reward`` yuan.
    Returns the net amount of each purchase (yuan).
    """
    if len(ids) == 0:
        return np.zeros(0)
    leads = ids[users.lead_stage[ids] > 0]
    if len(leads):
        users.lead_stage[leads] = 0
        src = users.source[leads]
        referred = int(np.count_nonzero(src == SOURCE_REFERRAL))
        today.new_customers_referral += referred
        today.new_customers_event += int(np.count_nonzero(src == SOURCE_EVENT))
        today.new_cost_referral_rewards += referred * referral_reward
    gross = price * users.spend[ids].astype(np.float64)
    if units is not None:
        gross = gross * units
    net = gross * (1.0 - discount)
    repeat = users.customer[ids]  # == (n_buy > 0) | owned_before
    users.revenue[ids] += net
    users.n_buy[ids] += 1
    users.customer[ids] = True
    first = users.first_buy_day[ids] < 0
    users.first_buy_day[ids[first]] = day
    users.last_buy_day[ids] = day
    today.new_purchases += len(ids)
    today.new_repeat_purchases += int(repeat.sum())
    today.new_revenue += float(net.sum())
    today.new_discount += float((gross - net).sum())
    return net
