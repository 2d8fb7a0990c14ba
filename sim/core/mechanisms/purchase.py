"""Purchases driven by the category's need cycle.

Each user's need for the product recurs on a renewal clock with a Weibull hazard that
rises with the age of the last purchase (phones ~3 years, fresh food ~weeks: DOMAIN.md).
When the need arrives a member buys the brand with a probability that rises with
satisfaction (loyalty), otherwise buys elsewhere; a prospect buys the brand in store with
the brand's share and becomes a store buyer whom staff may recruit (acquisition).

Promotions act on members in two ways: they multiply the day's need hazard by
``1 + pull_forward x deal_prone x depth`` (buying earlier, which resets the clock and so
leaves a post-promotion dip: no permanent effect, Pauwels, Hanssens & Siddarth 2002), and
they raise brand choice by ``choice_boost x deal_prone x depth``. A purchase on a promotion
makes the buyer more deal-prone (Mela, Gupta & Lehmann 1997).

The clock is an integrated-hazard clock (sim/core/clocks.py) kept in age units: with cumulative
hazard ``Lambda(a) = (a/scale)^shape`` and threshold ``E ~ Exp(1)`` the need fires at age
``a* = scale x E^(1/shape)``, so each user stores the day it falls due (``need_due``) and an
ordinary day costs one comparison. A promotion day adds ``(m - 1) x (Lambda(a+1) - Lambda(a))``
of hazard for members, which is the same as moving their effective age forward: the due
day moves earlier by that shift. Same process, same draws; no per-day power functions.
"""

from __future__ import annotations

from math import gamma

import numpy as np

from sim.core.columns import MEMBER, PROSPECT
from sim.core.mechanisms.base import COUNT, SIGNAL, Column, Mechanism, Result


class Purchase(Mechanism):
    name = "purchase"
    doc = "need clocks fire: members buy the brand or elsewhere; prospects buy in store"
    reads = ("market.need_cycle_shape", "market.brand_share", "strategy.promotion",
             "strategy.satisfaction", "strategy.membership", "groups.loyalty_lift",
             "groups.neutral_activity")
    columns = (
        Column("need_start", np.float64, 0.0, "day the current need clock started"),
        Column("need_due", np.float64, np.inf, "day the need falls due"),
        Column("need_k", np.int32, 0, "needs so far (the need clock's draw counter)"),
    )
    results = (
        Result("store_buyers", "user ids", "prospects who bought the brand in store today "
               "(the pool store staff recruit from)", SIGNAL, None),
        Result("new_promo_purchases", "purchases", "member purchases on a promotion day", COUNT),
        Result("new_lost_sales", "users", "members whose need arrived and who bought elsewhere",
               COUNT),
        Result("new_public_purchases", "purchases", "prospects buying the brand in store",
               COUNT),
    )

    def __init__(self, model):
        super().__init__(model)
        self.shape = float(self.cfg.market.need_cycle_shape)
        self.threshold = self.stream("need")
        self._booking = False  # True while this mechanism books the needs it fired

    def init_state(self) -> None:
        # stationary start: the age of each user's current product is uniform over one mean
        # cycle (assumption), and the threshold is drawn conditional on no need yet
        u = self.users
        ids = np.arange(u.n)
        scale = u.need_scale.astype(np.float64)
        age = np.floor(self.stream("initial_age").uniform(ids, 0) * scale * gamma(1 + 1 / self.shape))
        e = (age / scale) ** self.shape + self.threshold.exponential(ids, 0)
        u.need_start[:] = -age
        u.need_due[:] = -age + scale * e ** (1 / self.shape)

    def restart(self, ids: np.ndarray, day: int) -> None:
        """The need was met on ``day`` (a purchase anywhere): draw the next need.

        A VIP's need hazard is ``vip_frequency_mult`` x: for a Weibull that is the same as a
        scale smaller by ``mult^(1/shape)``.
        """
        if len(ids) == 0:
            return
        u = self.users
        u.need_k[ids] += 1
        e = self.threshold.exponential(ids, u.need_k[ids])
        scale = u.need_scale[ids].astype(np.float64)
        mult = self.cfg.strategy.membership.vip_frequency_mult
        if mult != 1.0:
            scale = np.where(u.vip_until[ids] >= day, scale * mult ** (-1 / self.shape), scale)
        u.need_start[ids] = day
        u.need_due[ids] = day + scale * e ** (1 / self.shape)

    def on_purchase(self, ids: np.ndarray, net: np.ndarray, day: int) -> None:
        """A purchase outside the need clock (a referred lead converting) meets the need."""
        if not self._booking:
            self.restart(ids, day)

    def on_leave(self, ids: np.ndarray, day: int) -> None:
        """Churned users leave the model's view: their needs are no longer tracked."""
        self.users.need_due[ids] = np.inf

    def _pull_forward(self, ids: np.ndarray, day: int, mult: np.ndarray) -> None:
        """Move the effective age of ``ids`` forward by the extra hazard of a promo day."""
        u = self.users
        scale = u.need_scale[ids].astype(np.float64)
        a0 = np.maximum(day - 1 - u.need_start[ids], 0.0)
        h0 = (a0 / scale) ** self.shape
        h1 = ((a0 + 1) / scale) ** self.shape
        a_end = scale * (h0 + mult * (h1 - h0)) ** (1 / self.shape)
        shift = a_end - (a0 + 1)
        u.need_start[ids] -= shift
        u.need_due[ids] -= shift

    def step(self, day: int) -> None:
        u, today, cfg = self.users, self.model.today, self.cfg
        promo, depth = today.promo, today.promo_depth
        if promo:
            pull = cfg.strategy.promotion.pull_forward * depth
            members = self.model.members()
            if pull > 0 and len(members):
                self._pull_forward(members, day, 1.0 + pull * u.deal_prone[members])
        fired = np.flatnonzero(u.need_due <= day)
        if len(fired) == 0:
            return
        st = u.state[fired]
        buyers_m = fired[st == MEMBER]
        if len(buyers_m):
            sat = cfg.strategy.satisfaction
            p = sat.loyalty_base + sat.loyalty_slope * (u.satisfaction[buyers_m] - sat.loyalty_pivot)
            p = p + cfg.groups.loyalty_lift * (u.group_activity[buyers_m]
                                               - np.float32(cfg.groups.neutral_activity))
            p = p + cfg.strategy.membership.tier_loyalty * u.tier[buyers_m]
            if promo:
                p = p + cfg.strategy.promotion.choice_boost * depth * u.deal_prone[buyers_m]
            k = u.need_k[buyers_m]
            choose = self.stream("choice").uniform(buyers_m, k) < np.clip(p, 0.0, 1.0)
            bought = buyers_m[choose]
            self._booking = True
            try:
                self.model.book(bought, day, depth if promo else 0.0)
            finally:
                self._booking = False
            today.new_lost_sales += int(len(buyers_m) - len(bought))
            if promo and len(bought):
                today.new_promo_purchases += len(bought)
                drift = np.float32(cfg.strategy.promotion.deal_drift)
                u.deal_prone[bought] = np.minimum(u.deal_prone[bought] + drift, 1.0)
        prospects = fired[st == PROSPECT]
        if len(prospects):
            k = u.need_k[prospects]
            # what friends said about the brand moves its share (negative word of mouth)
            share = cfg.market.brand_share * np.clip(1.0 + u.wom[prospects], 0.0, 2.0)
            brand = self.stream("choice").uniform(prospects, k) < share
            today.store_buyers = prospects[brand]
            today.new_public_purchases += int(brand.sum())
        self.restart(fired, day)
