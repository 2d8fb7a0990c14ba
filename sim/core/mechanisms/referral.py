"""Word of mouth from every owner ("old brings new", DOMAIN.md), amplified by the community.

Every brand owner recommends the brand on a clock whose daily hazard is ``per_year/365 x
sociability x segment referral_mult x (1 + reward_lift x reward) x (satisfaction /
pivot)^satisfaction_power`` (satisfied users, promoters, recommend; the steep power is an
assumption). A member's recommendations are amplified by the private domain: x ``exp(
referral_lift x (group activity - neutral))`` (lively groups get people talking; dead ones do
not) and x the KOC program's trained multiplier. Owners outside the private domain (never
members, or former members) keep recommending at their base rate: leaving a group is not
leaving the brand.

A recommendation goes to one graph neighbour (recommendations only follow graph edges). A
neighbour who is still a prospect:

* from a member, registers in the private domain with probability
  ``market.funnel.register_prob`` (x the KOC's trained conversion, x what the friend has heard
  of the brand) and joins as a lead of the funnel (registration -> trial -> purchase);
* from anyone (a member's friend who did not register, or any owner's), hears it: the
  ``recommended`` column rises by ``organic_lift`` (x their brand choice, fading with
  ``memory_halflife_days``), and the recommender is remembered, so a first brand purchase
  that follows counts as a referral on NIO's basis (all new brand buyers).
"""

from __future__ import annotations

import math

import numpy as np

from sim.core import jit
from sim.core.clocks import IndexedClock
from sim.core.columns import MEMBER, PROSPECT, SOURCE_REFERRAL
from sim.core.mechanisms.base import COUNT, Column, Mechanism, Result, clock_columns
from sim.core.mechanisms.shared import koc_active, koc_mult
from sim.core.population import segment_values


class Referral(Mechanism):
    name = "referral"
    doc = "owners recommend the brand to graph neighbours; members' friends register"
    reads = ("strategy.referral", "strategy.satisfaction.pivot", "strategy.koc_program",
             "mechanisms.koc", "groups.referral_lift", "groups.neutral_activity",
             "market.funnel.register_prob", "market.segments")
    columns = (
        *clock_columns("referral", "recommendation"),
        Column("n_referred", np.int32, 0, "friends this user brought into the private domain "
               "(converted referrals)"),
        Column("recommended", np.float32, 0.0, "recommendations heard (x brand choice, fading)"),
        Column("recommended_by", np.int32, -1, "the last owner who recommended the brand to "
               "this user, -1 = none"),
    )
    results = (
        Result("new_referrals", "recommendations", "recommendations made along graph edges "
               "today (by members and other owners)", COUNT),
        Result("new_referrals_organic", "recommendations", "of which by owners outside the "
               "private domain", COUNT),
        Result("new_referrals_converted", "users", "friends who registered in the private "
               "domain", COUNT),
    )

    scan_all = False  # True: check the index of who heard against a scan of everyone (tests)

    def __init__(self, model):
        super().__init__(model)
        r = self.cfg.strategy.referral
        # advanced over the owners every day: their hazard left kept in owner order
        self.clock = IndexedClock(self.users, "referral", self.stream("clock"))
        mult = segment_values(self.cfg.market.segments.profiles(), "referral_mult",
                              np.float32)[self.users.segment]
        # the per-user part of the hazard that does not change during a run
        self.base = (r.per_year / 365.0) * (1 + r.reward_lift * r.reward) \
            * self.users.sociability * mult
        self._base = self.clock.follow(self.base)  # self.base[owners], in owner order
        self.koc = koc_active(self.cfg)
        self.fade = np.float32(math.exp(-math.log(2) / r.memory_halflife_days))

    def init_state(self) -> None:
        self.clock.start(self.model.owners())
        self._heard = np.flatnonzero(self.users.recommended)
        self._is_heard = self.users.recommended != 0

    def _remember(self, ids: np.ndarray) -> None:
        """Add ``ids`` (sorted, unique) to the sorted index of users who heard the brand."""
        new = ids[~self._is_heard[ids]]
        if len(new):
            self._is_heard[new] = True
            h = self._heard
            self._heard = jit.insert(h, np.searchsorted(h, new), new)

    def on_own(self, ids: np.ndarray, day: int) -> None:
        self.clock.start(ids)

    def _satisfaction_factor(self, sat: np.ndarray) -> np.ndarray:
        """``(satisfaction / pivot) ^ power`` (float32); powers 2 and 4 by squaring, ~10x faster."""
        r = self.cfg.strategy.referral
        rel = sat * np.float32(1 / self.cfg.strategy.satisfaction.pivot)
        if r.satisfaction_power == 4:
            rel *= rel
            rel *= rel
            return rel
        if r.satisfaction_power == 2:
            rel *= rel
            return rel
        return rel ** np.float32(r.satisfaction_power)

    def step(self, day: int) -> None:
        u, today = self.users, self.model.today
        r, p = self.cfg.strategy.referral, self.cfg.strategy.koc_program
        heard = self._heard  # a superset of the users with recommended != 0 (no O(n) scan)
        if self.scan_all:  # the reference (tests): scan every user
            ref = np.flatnonzero(u.recommended)
            if not np.isin(ref, heard).all():
                raise AssertionError(f"day {day}: the index of who heard the brand missed users")
        if len(heard):
            left = u.recommended[heard] * self.fade  # 0 x fade = 0: the others are unchanged
            u.recommended[heard] = left
            if day % 64 == 0 and not self.scan_all:  # forget those whose memory underflowed to 0
                gone = left == 0
                self._is_heard[heard[gone]] = False
                self._heard = heard[~gone]
        if r.per_year <= 0:
            return
        ids = self.model.owners()
        self.clock.align(ids)
        hazard = self._satisfaction_factor(u.satisfaction[ids])
        hazard *= self.clock.rider(self._base)  # x self.base[ids], in place (the same product)
        # the private domain amplifies its members' word of mouth (x exp(0) = x 1 for the
        # others, so only members' factors are computed)
        lift = self.cfg.groups.referral_lift
        if lift:
            pos = np.flatnonzero(u.state[ids] == MEMBER)
            g = lift * (u.group_activity[ids[pos]] - np.float32(self.cfg.groups.neutral_activity))
            hazard[pos] *= np.exp(g)
        if self.koc:
            hazard = hazard * koc_mult(u.koc[ids], p.referral_gain, p.training)
        referrers = self.clock.advance(ids, hazard)
        if len(referrers) == 0:
            return
        k = self.clock.k[referrers]
        targets = self.model.graph.sample_neighbors(referrers, self.stream("target").uniform(referrers, k))
        by_member = u.state[referrers] == MEMBER
        reached = targets >= 0
        today.new_referrals += int(reached.sum())
        today.new_referrals_organic += int((reached & ~by_member).sum())
        ok = reached.copy()
        ok[ok] = u.state[targets[ok]] == PROSPECT
        # every prospect who hears it remembers it (and who said it)
        heard_t, first = np.unique(targets[ok], return_index=True)
        u.recommended[heard_t] += np.float32(r.organic_lift)
        self._remember(heard_t)
        u.recommended_by[heard_t] = referrers[ok][first]
        # members' friends may register in the private domain
        prob = np.full(len(referrers), self.cfg.market.funnel.register_prob)
        if self.koc:
            prob = prob * koc_mult(u.koc[referrers], p.conversion_gain, p.training)
        prob = prob * np.clip(1.0 + u.wom[np.maximum(targets, 0)], 0.0, 2.0)
        join = ok & by_member & (self.stream("convert").uniform(referrers, k) < prob)
        self.clock.fire(referrers)
        if not join.any():
            return
        # one registration per prospect: the lowest-id referrer wins a tie (deterministic)
        targets, idx = np.unique(targets[join], return_index=True)
        by = referrers[join][idx]
        np.add.at(u.n_referred, by, 1)
        today.new_referrals_converted += len(targets)
        self.model.join(targets, day, SOURCE_REFERRAL, by=by)
