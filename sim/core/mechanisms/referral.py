"""Word-of-mouth referrals ("old brings new", DOMAIN.md) along the social graph.

Each customer in the private domain recommends the brand on a clock whose daily hazard is
``per_year/365 x sociability x segment referral_mult x KOC-program mult x
(1 + reward_lift x reward) x (satisfaction/pivot)^satisfaction_power x exp(referral_lift x
(group activity - neutral))`` (satisfied users, promoters, recommend; the steep power is an
assumption). A recommendation goes to one graph neighbour; a neighbour who is still a
prospect registers with probability ``market.funnel.register_prob`` (x the KOC's trained
conversion, x what the friend has heard of the brand) and joins as a lead of the funnel
(registration -> trial -> purchase). Recommendations only follow graph edges.
"""

from __future__ import annotations

import numpy as np

from sim.core.columns import PROSPECT, SOURCE_REFERRAL
from sim.core.mechanisms.base import (
    COUNT,
    Column,
    MemberClockMechanism,
    Result,
    clock_columns,
)
from sim.core.mechanisms.shared import koc_active, koc_mult
from sim.core.population import segment_values


class Referral(MemberClockMechanism):
    name = "referral"
    clock_name = "referral"
    doc = "customers recommend the brand to graph neighbours; prospects register"
    reads = ("strategy.referral", "strategy.satisfaction.pivot", "strategy.koc_program",
             "mechanisms.koc", "groups.referral_lift", "groups.neutral_activity",
             "market.funnel.register_prob", "market.segments")
    columns = (
        *clock_columns("referral", "recommendation"),
        Column("n_referred", np.int32, 0, "friends this user brought in (converted referrals)"),
    )
    results = (
        Result("new_referrals", "recommendations", "recommendations made along graph edges "
               "today", COUNT),
        Result("new_referrals_converted", "users", "of which the friend registered", COUNT),
    )

    def __init__(self, model):
        super().__init__(model)
        r = self.cfg.strategy.referral
        mult = segment_values(self.cfg.market.segments.profiles(), "referral_mult",
                              np.float32)[self.users.segment]
        # the per-user part of the hazard that does not change during a run
        self.base = (r.per_year / 365.0) * (1 + r.reward_lift * r.reward) \
            * self.users.sociability * mult
        self.koc = koc_active(self.cfg)

    def _satisfaction_factor(self, sat: np.ndarray) -> np.ndarray:
        """``(satisfaction / pivot) ^ power`` (float32); powers 2 and 4 by squaring, ~10x faster."""
        r = self.cfg.strategy.referral
        rel = sat * np.float32(1 / self.cfg.strategy.satisfaction.pivot)
        if r.satisfaction_power == 4:
            rel *= rel
            return rel * rel
        if r.satisfaction_power == 2:
            return rel * rel
        return rel ** np.float32(r.satisfaction_power)

    def step(self, day: int) -> None:
        u, today = self.users, self.model.today
        r, p = self.cfg.strategy.referral, self.cfg.strategy.koc_program
        if r.per_year <= 0:
            return
        members = self.model.members()
        ids = members[(u.n_buy[members] > 0) | u.owned_before[members]]
        hazard = self.base[ids] * self._satisfaction_factor(u.satisfaction[ids])
        # lively groups get people talking about the brand; dead ones do not
        lift = self.cfg.groups.referral_lift
        if lift:
            hazard = hazard * np.exp(lift * (u.group_activity[ids]
                                             - np.float32(self.cfg.groups.neutral_activity)))
        if self.koc:
            hazard = hazard * koc_mult(u.koc[ids], p.referral_gain, p.training)
        referrers = self.clock.advance(ids, hazard)
        if len(referrers) == 0:
            return
        k = self.clock.k[referrers]
        targets = self.model.graph.sample_neighbors(referrers, self.stream("target").uniform(referrers, k))
        today.new_referrals += int((targets >= 0).sum())
        ok = targets >= 0
        ok[ok] = u.state[targets[ok]] == PROSPECT
        prob = np.full(len(referrers), self.cfg.market.funnel.register_prob)
        if self.koc:
            prob = prob * koc_mult(u.koc[referrers], p.conversion_gain, p.training)
        prob = prob * np.clip(1.0 + u.wom[np.maximum(targets, 0)], 0.0, 2.0)
        ok &= self.stream("convert").uniform(referrers, k) < prob
        self.clock.fire(referrers)
        if not ok.any():
            return
        # one registration per prospect: the lowest-id referrer wins a tie (deterministic)
        targets, idx = np.unique(targets[ok], return_index=True)
        by = referrers[ok][idx]
        np.add.at(u.n_referred, by, 1)
        today.new_referrals_converted += len(targets)
        self.model.join(targets, day, SOURCE_REFERRAL, by=by)
