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


@jit.kernel
def _fade(heard, recommended, fade, is_heard, forget, keep):  # pragma: no cover - compiled
    """``recommended[heard] *= fade`` (float32, one gather-multiply-scatter per user; the
    index is unique); with ``forget``, also drop from the index (``is_heard`` and ``keep``)
    those whose memory underflowed to 0: returns how many of ``heard`` are kept in ``keep``."""
    n = 0
    for i in range(heard.shape[0]):
        u = heard[i]
        v = recommended[u] * fade
        recommended[u] = v
        if forget:
            if v == 0:
                is_heard[u] = False
            else:
                keep[n] = u
                n += 1
    return n


# exp(0) is 1 exactly (the kernels' owners outside the private domain get x exp(0) = x 1,
# which leaves their hazard unchanged as the numpy code does by not computing it)
_EXP0_IS_1 = bool((np.exp(np.zeros(67, dtype=np.float32)) == 1).all())


@jit.kernel
def _owner_hazard(ids, sat, inv_pivot, power, factor, base, state, member, activity, lift,
                  neutral, hazard, g):  # pragma: no cover - compiled
    """The owners' hazard before the private domain's amplification, float32: ``(sat[ids] *
    inv_pivot) ^ power`` by squaring (power 2 or 4; else ``factor``, computed by numpy) x
    ``base`` (the clock's rider), into ``hazard``; the exponent of the amplification, ``lift x
    (group_activity - neutral)`` for members and 0 for the others (and for ``lift`` 0), into
    ``g``. The lines of :meth:`Referral._advance_numpy` from ``_satisfaction_factor`` to
    ``g``, over every owner instead of the members' positions (no branch)."""
    zero = np.float32(0.0)
    amplify = lift != 0
    for i in range(ids.shape[0]):
        u = ids[i]
        if power == 4:
            r = sat[u] * inv_pivot
            r = r * r
            r = r * r
        elif power == 2:
            r = sat[u] * inv_pivot
            r = r * r
        else:
            r = factor[i]
        hazard[i] = r * base[i]
        x = lift * (activity[u] - neutral)
        g[i] = x if amplify and state[u] == member else zero


@jit.kernel
def _advance(ids, hazard, amp, left, out):  # pragma: no cover - compiled
    """``hazard *= amp`` (float32; ``amp`` = exp(g), 1 outside the private domain), then the
    clock's advance on the compact hazard left: ``left -= hazard``, the ids whose ``left <=
    0`` into ``out`` in index order; returns how many."""
    for i in range(ids.shape[0]):
        left[i] = left[i] - np.float64(hazard[i] * amp[i])
    n = 0
    for i in range(ids.shape[0]):
        if left[i] <= 0:
            out[n] = ids[i]
            n += 1
    return n


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
        u, r = self.users, self.cfg.strategy.referral
        heard = self._heard  # a superset of the users with recommended != 0 (no O(n) scan)
        if self.scan_all:  # the reference (tests): scan every user
            ref = np.flatnonzero(u.recommended)
            if not np.isin(ref, heard).all():
                raise AssertionError(f"day {day}: the index of who heard the brand missed users")
        if len(heard) and jit.use(len(heard)):
            forget = day % 64 == 0 and not self.scan_all
            keep = np.empty(len(heard) if forget else 0, dtype=heard.dtype)
            n = _fade(heard, u.recommended, self.fade, self._is_heard, forget, keep)
            if forget:
                self._heard = keep[:n].copy()
        elif len(heard):
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
        referrers = self._advance_kernels(ids) if jit.use(len(ids)) else None
        if referrers is None:
            referrers = self._advance_numpy(ids)
        self._recommend(referrers, day)

    def _advance_numpy(self, ids: np.ndarray) -> np.ndarray:
        """The owners' hazard today, and the clock's advance: who recommends (the reference)."""
        u, p = self.users, self.cfg.strategy.koc_program
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
        return self.clock.advance(ids, hazard)

    def _advance_kernels(self, ids: np.ndarray) -> np.ndarray | None:
        """:meth:`_advance_numpy` in passes over the owners (:func:`_owner_hazard`,
        :func:`_advance`) with the ``exp`` in numpy between them (over every owner: a
        sequential pass costs less than the members' positions); None (numpy runs) when a
        constant is not a Python number or the base rider is not float32."""
        u, cfg = self.users, self.cfg
        r = cfg.strategy.referral
        lift = cfg.groups.referral_lift
        base = self.clock.rider(self._base)
        if type(lift) not in (float, int) or base.dtype != np.float32 or not _EXP0_IS_1:
            return None
        n = len(ids)
        power = 4 if r.satisfaction_power == 4 else 2 if r.satisfaction_power == 2 else 0
        factor = base[:0] if power else self._satisfaction_factor(u.satisfaction[ids])
        hazard = np.empty(n, dtype=np.float32)
        g = np.empty(n, dtype=np.float32)
        _owner_hazard(ids, u.satisfaction, np.float32(1 / cfg.strategy.satisfaction.pivot),
                      power, factor, base, u.state, MEMBER, u.group_activity, np.float32(lift),
                      np.float32(cfg.groups.neutral_activity), hazard, g)
        np.exp(g, out=g)
        if self.koc:
            hazard *= g
            p = cfg.strategy.koc_program
            hazard = hazard * koc_mult(u.koc[ids], p.referral_gain, p.training)
            return self.clock.advance(ids, hazard)
        out = np.empty(n, dtype=ids.dtype)
        k = _advance(ids, hazard, g, self.clock._left, out)
        return out[:k].copy()

    def _recommend(self, referrers: np.ndarray, day: int) -> None:
        """Each referrer recommends the brand to a graph neighbour (see the module doc)."""
        if len(referrers) == 0:
            return
        u, today = self.users, self.model.today
        r, p = self.cfg.strategy.referral, self.cfg.strategy.koc_program
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
