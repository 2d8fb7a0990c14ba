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
"""

from __future__ import annotations

import numpy as np

from sim.clocks import Clock
from sim.columns import CHURNED, MEMBER, PROSPECT
from sim.flows import book_purchases
from sim.mechanisms.base import Mechanism


class Purchase(Mechanism):
    name = "purchase"

    def __init__(self, model):
        super().__init__(model)
        self.clock = Clock(self.users, "need", self.stream("need"), self.name)
        self.users.add("need_day", np.int32, 0, self.name)
        self.shape = float(self.cfg.market.need_cycle_shape)

    def init_state(self) -> None:
        # stationary start: the age of each user's current product is uniform over one mean
        # cycle (assumption), and the first threshold is drawn conditional on no need yet
        u = self.users
        ids = np.arange(u.n)
        mean_cycle = u.need_scale.astype(np.float64) * self._mean_factor()
        age = np.floor(self.stream("initial_age").uniform(ids, 0) * mean_cycle)
        u.need_day[:] = -age.astype(np.int32)
        self.clock.start(ids, offset=self._cum_hazard(age, u.need_scale))

    def _mean_factor(self) -> float:
        from math import gamma

        return gamma(1 + 1 / self.shape)

    def _cum_hazard(self, age: np.ndarray, scale: np.ndarray) -> np.ndarray:
        return (age / scale.astype(np.float64)) ** self.shape

    def on_join_with_purchase(self, ids: np.ndarray, day: int) -> None:
        """Users who just bought outside this mechanism (referral): restart their need."""
        self.users.need_day[ids] = day
        self.clock.fire(ids)

    def step(self, day: int) -> None:
        u, today = self.users, self.model.today
        cfg = self.cfg
        alive = u.state != CHURNED
        age = (day - u.need_day).astype(np.float64)
        scale = u.need_scale
        hazard = self._cum_hazard(age, scale)
        np.subtract(self._cum_hazard(age + 1.0, scale), hazard, out=hazard)
        promo = today.promo
        depth = today.promo_depth
        member = u.state == MEMBER
        if promo:
            pull = cfg.strategy.promotion.pull_forward * depth
            hazard *= np.where(member, 1.0 + pull * u.deal_prone, 1.0)
        fired = self.clock.advance_all(alive, hazard)
        if len(fired) == 0:
            return
        st = u.state[fired]
        buyers_m = fired[st == MEMBER]
        if len(buyers_m):
            sat = cfg.strategy.satisfaction
            p = sat.loyalty_base + sat.loyalty_slope * (u.satisfaction[buyers_m] - 0.5)
            if promo:
                p = p + cfg.strategy.promotion.choice_boost * depth * u.deal_prone[buyers_m]
            k = self.clock.k[buyers_m]
            choose = self.stream("choice").uniform(buyers_m, k) < np.clip(p, 0.0, 1.0)
            bought = buyers_m[choose]
            book_purchases(u, today, bought, day, cfg.market.price, depth if promo else 0.0)
            today.lost_sales += int(len(buyers_m) - len(bought))
            if promo and len(bought):
                today.promo_purchases += len(bought)
                drift = np.float32(cfg.strategy.promotion.deal_drift)
                u.deal_prone[bought] = np.minimum(u.deal_prone[bought] + drift, 1.0)
        prospects = fired[st == PROSPECT]
        if len(prospects):
            k = self.clock.k[prospects]
            brand = self.stream("choice").uniform(prospects, k) < cfg.market.brand_share
            today.store_buyers = prospects[brand]
            today.public_purchases += int(brand.sum())
        u.need_day[fired] = day
        self.clock.fire(fired)
