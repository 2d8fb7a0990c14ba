"""Word-of-mouth referrals ("old brings new", DOMAIN.md) along the social graph.

Each member who is a customer recommends the brand on a clock whose daily hazard is
``per_year/365 x sociability x (koc_mult for KOCs and enthusiasts) x (satisfaction/0.7)^4``
(satisfied users, promoters, recommend; the steep power is an assumption). A
recommendation goes to one graph neighbour; a neighbour who is still a prospect buys
and joins the private domain with probability ``conversion`` (Zeekr: referral
registration -> purchase 20%). Recommendations only ever follow graph edges.
"""

from __future__ import annotations

import numpy as np

from sim.clocks import Clock
from sim.columns import ENTHUSIAST, KOC, MEMBER, PROSPECT, SOURCE_REFERRAL
from sim.flows import book_purchases
from sim.mechanisms.base import Mechanism


class Referral(Mechanism):
    name = "referral"

    def __init__(self, model):
        super().__init__(model)
        self.clock = Clock(self.users, "referral", self.stream("clock"), self.name)
        r = self.cfg.strategy.referral
        seg = self.users.segment
        mult = np.where((seg == KOC) | (seg == ENTHUSIAST), r.koc_mult, 1.0)
        # the per-user part of the hazard that does not change during a run
        self.base = (r.per_year / 365.0) * self.users.sociability * mult

    def init_state(self) -> None:
        self.on_join(np.flatnonzero(self.users.state == MEMBER))

    def on_join(self, ids: np.ndarray) -> None:
        self.clock.start(ids)

    def on_churn(self, ids: np.ndarray) -> None:
        self.clock.stop(ids)

    def step(self, day: int) -> None:
        u, today, r = self.users, self.model.today, self.cfg.strategy.referral
        if r.per_year <= 0:
            return
        members = self.model.members()
        ids = members[(u.n_buy[members] > 0) | u.owned_before[members]]
        rel = u.satisfaction[ids] * np.float32(1 / 0.7)
        rel *= rel  # (s/0.7)^4 by two squarings: a power function costs ~10x more
        hazard = self.base[ids] * (rel * rel)
        referrers = self.clock.advance(ids, hazard)
        if len(referrers) == 0:
            return
        k = self.clock.k[referrers]
        targets = self.model.graph.sample_neighbors(referrers, self.stream("target").uniform(referrers, k))
        today.referrals += int((targets >= 0).sum())
        ok = targets >= 0
        ok[ok] = u.state[targets[ok]] == PROSPECT
        ok &= self.stream("convert").uniform(referrers, k) < r.conversion
        self.clock.fire(referrers)
        if not ok.any():
            return
        # one conversion per prospect: the lowest-id referrer wins a tie (deterministic)
        targets, idx = np.unique(targets[ok], return_index=True)
        by = referrers[ok][idx]
        u.state[targets] = MEMBER
        u.source[targets] = SOURCE_REFERRAL
        u.join_day[targets] = day
        u.recruited_by[targets] = by
        np.add.at(u.n_referred, by, 1)
        depth = today.promo_depth if today.promo else 0.0
        book_purchases(u, today, targets, day, self.cfg.market.price, depth)
        today.new_members_referral += len(targets)
        today.new_customers_referral += len(targets)
        today.referrals_converted += len(targets)
        today.cost += len(targets) * r.reward
        self.model.bought_outside_clock(targets, day)
        self.model.joined(targets, day)
