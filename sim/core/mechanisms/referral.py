"""Word-of-mouth referrals ("old brings new", DOMAIN.md) along the social graph.

Each customer in the private domain recommends the brand on a clock whose daily hazard is
``per_year/365 x sociability x segment referral_mult x KOC-program mult x
(1 + reward_lift x reward) x (satisfaction/0.7)^4 x exp(referral_lift x (group activity - 0.5))`` (satisfied users, promoters, recommend;
the steep power is an assumption). A recommendation goes to one graph neighbour; a
neighbour who is still a prospect registers with probability ``market.funnel.register_prob``
(x the KOC's trained conversion, x what the friend has heard of the brand) and enters the
lead funnel (registration -> trial -> purchase). Recommendations only follow graph edges.
"""

from __future__ import annotations

import numpy as np

from sim.core.clocks import Clock
from sim.core.columns import PROSPECT, SOURCE_REFERRAL
from sim.core.mechanisms.base import Mechanism
from sim.core.mechanisms.groups import group_activity


class Referral(Mechanism):
    name = "referral"

    def __init__(self, model):
        super().__init__(model)
        self.clock = Clock(self.users, "referral", self.stream("clock"), self.name)
        r = self.cfg.strategy.referral
        mult = self.segval("referral_mult")[self.users.segment]
        # the per-user part of the hazard that does not change during a run
        self.base = (r.per_year / 365.0) * (1 + r.reward_lift * r.reward) \
            * self.users.sociability * mult

    def init_state(self) -> None:
        self.on_join(self.model.members())

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
        # lively groups get people talking about the brand; dead ones do not
        lift = self.cfg.groups.referral_lift
        if lift:
            hazard = hazard * np.exp(lift * (group_activity(self.model, ids) - np.float32(0.5)))
        koc = self.model.mechanism("koc")
        if koc is not None and koc.enabled:
            hazard = hazard * koc.referral_mult(ids)
        referrers = self.clock.advance(ids, hazard)
        if len(referrers) == 0:
            return
        k = self.clock.k[referrers]
        targets = self.model.graph.sample_neighbors(referrers, self.stream("target").uniform(referrers, k))
        today.referrals += int((targets >= 0).sum())
        ok = targets >= 0
        ok[ok] = u.state[targets[ok]] == PROSPECT
        p = np.full(len(referrers), self.cfg.market.funnel.register_prob)
        if koc is not None and koc.enabled:
            p = p * koc.conversion_mult(referrers)
        p = p * np.clip(1.0 + u.wom[np.maximum(targets, 0)], 0.0, 2.0)
        ok &= self.stream("convert").uniform(referrers, k) < p
        self.clock.fire(referrers)
        if not ok.any():
            return
        # one registration per prospect: the lowest-id referrer wins a tie (deterministic)
        targets, idx = np.unique(targets[ok], return_index=True)
        by = referrers[ok][idx]
        np.add.at(u.n_referred, by, 1)
        today.referrals_converted += len(targets)
        self.model.register_leads(targets, by, SOURCE_REFERRAL, day)
