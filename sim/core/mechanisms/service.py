"""Service: incidents (questions and product faults) among members, answered or not, at a cost.

**Demand.** A member raises incidents at a base rate (``incidents_per_year``), plus the
questions a purchase brings (delivery, setup, returns: ``incidents_per_purchase``, arriving
over the next days with mean ``after_sale_days``; each member's extra hazard decays daily,
kept by the incident clock in its order and written to the ``after_sale`` column at the end
of a run), plus questions about the deal on promotion days
(``promo_questions`` per member reached). A promotion wave or a launch (many purchases at
once) therefore fills the queue.

**Supply.** The brand hires agents for ``capacity_per_1k`` answers a day per 1,000 members at
``answers_per_agent_day`` each: ``agents = capacity_per_1k / answers_per_agent_day`` per 1,000
members (fractional: part-time). Channel tooling multiplies what an agent answers for the
members of that channel (``channels.*.service_productivity``; seed 002: WeCom x3). Trained
KOCs answer some questions for free (their rewards are the KOC program's cost). Agents are
paid ``wage_per_agent_month`` plus a software seat whether or not they are busy.

**Queue.** One first-come-first-served queue, treated as a fluid within the day: an
incident raised at time ``t`` (a uniform fraction of the day, from its own stream) waits
``max(0, backlog + (arrivals - capacity) t) / capacity`` days. It is resolved with probability
``resolve_prob x exp(-wait / patience_days)``: a waiting member gives up at rate 1/patience,
and the same share leaves the backlog each day (so a queue fed faster than it is served
stays finite). "Answered within 24 h" (NIO's promise, seed 001) is a wait under one day.

**Quality.** ``resolve_prob`` is the quality lever; above ``knowledge_base_from`` it is
bought with a knowledge base, a fixed monthly cost of ``knowledge_base_cost_month`` per
halving of the unresolved share: ``log2((1 - from) / (1 - resolve_prob))`` halvings (the
unresolved share is floored at 0.001 for the cost).

**Proactive care** pre-empts a share of faults ("your phone was dropped: nearest repair
shop", seed 000): they are resolved without queueing, at ``cost_per_care_contact`` each.

**Effects.** Resolution raises satisfaction and an unresolved problem lowers it (faults
more), weighted by the segment's need for service and the channel's reach and trust. An
unresolved fault is told to a friend (a graph neighbour), whose view of the brand drops
(negative word of mouth, DOMAIN.md): the ``wom`` column lowers that friend's brand choice and
referral registration. Satisfaction drifts back toward its initial mean; word of mouth fades
with a half-life.

With ``focus_super_users`` f, super users (the top ``super_user_share`` by spend) get
``1 + focus_boost x f`` times the resolution chance and the others what keeps the expected
number resolved unchanged: ``1 - focus_boost x f x share / (1 - share)``.
"""

from __future__ import annotations

import math

import numpy as np

from sim.core import jit
from sim.core.clocks import AppendClock
from sim.core.columns import MEMBER, unique
from sim.core.jit import NCHUNK, prange
from sim.core.mechanisms.base import (
    COUNT,
    FIXED,
    LEVEL,
    MONEY,
    STOCK,
    Column,
    MemberClockMechanism,
    Result,
    clock_columns,
)
from sim.core.mechanisms.shared import koc_active, koc_answers, super_users
from sim.core.population import segment_values

NO_CAPACITY_WAIT = 365.0  # days reported as the wait when nobody answers
N_CHANNEL_SLOTS = 128  # channel counts the members' kernel keeps (the int8 column's range)


@jit.kernel(parallel=True)
def _members_day(members, sat, mean, reversion, channel, counts, after, after_q, use_after,
                 reach, promo, use_promo, rate32, rate64, advance, R, fired):  # pragma: no cover
    """One pass over the members (unique; -1: a dead slot of the clock's append layout,
    skipped) fusing ``Service.step``'s numpy lines:

    * ``sat = satisfaction[members]; satisfaction[members] = sat + (mean - sat) * reversion``
      (float32 throughout);
    * ``_staff``'s ``np.bincount(channel)`` (into ``counts[chunk]``, summed by the caller;
      ``channel``: the members' channels in the order of ``members``, the clock's copy);
    * ``_incidents``' hazard: ``rate + after`` (float32, when ``use_after``; ``after *=
      after_q``: the members' after-sale hazard, the clock's state rider in the order of
      ``members``), ``+ promo * reach[channel]`` (float32, when ``use_promo``), or the
      float64 ``rate`` alone when neither;
    * the incident clock's advance when ``advance``: ``left -= hazard`` in float64 on its
      compact hazard left (``R``, in the order of ``members``: :class:`AppendClock`), and
      the positions (in ``members``) with ``left <= 0`` written to ``fired``.

    Parallel over :data:`NCHUNK` chunks of the members; each lists its fired from its own
    start in ``fired`` (as long as the members); returns how many each fired, for :func:`sim.core.jit.join`
    (the members' order).
    """
    n = members.shape[0]
    nf = np.zeros(NCHUNK, np.int64)
    for c in prange(NCHUNK):
        lo, hi = n * c // NCHUNK, n * (c + 1) // NCHUNK
        ids, slots, left_c, fired_c = members[lo:hi], counts[c], R[lo:hi], fired[lo:hi]
        after_c = after[lo:hi] if use_after else after
        channel_c = channel[lo:hi]
        k = 0
        for j in range(ids.shape[0]):
            i = ids[j]
            if i < 0:
                continue
            s = sat[i]
            sat[i] = s + (mean - s) * reversion
            ch = channel_c[j]
            slots[ch] += 1
            h64 = rate64
            if use_after or use_promo:
                h = rate32
                if use_after:
                    a = after_c[j]
                    h = h + a
                    after_c[j] = a * after_q
                if use_promo:
                    h = h + promo * reach[ch]
                h64 = np.float64(h)
            if advance:
                left = left_c[j] - h64
                left_c[j] = left
                if left <= 0:
                    fired_c[k] = lo + j
                    k += 1
        nf[c] = k
    return nf


@jit.kernel(parallel=True)
def _fade(told, wom, decay, is_told):  # pragma: no cover - compiled
    """``wom *= decay`` on the users of the sorted index ``told`` (the others hold 0, and
    0 x decay = 0); the index keeps, in place, those still nonzero and ``is_told`` forgets
    the others. Parallel over :data:`NCHUNK` chunks, each keeping its users from its own
    start; returns how many each kept, for :func:`sim.core.jit.join`."""
    n = told.shape[0]
    nk = np.zeros(NCHUNK, np.int64)
    for c in prange(NCHUNK):
        ids = told[n * c // NCHUNK:n * (c + 1) // NCHUNK]
        k = 0
        for j in range(ids.shape[0]):
            i = ids[j]
            w = wom[i] * decay
            wom[i] = w
            if w != 0:
                ids[k] = i
                k += 1
            else:
                is_told[i] = False
        nk[c] = k
    return nk


def knowledge_base_halvings(resolve_prob: float, base: float) -> float:
    """Halvings of the unresolved share bought above ``base``: ``log2((1-base)/(1-p))``, >= 0
    (the unresolved share is floored at 0.001, so a perfect score has a finite price)."""
    if resolve_prob <= base:
        return 0.0
    return math.log2((1.0 - base) / max(1.0 - resolve_prob, 1e-3))


class Service(MemberClockMechanism):
    name = "service"
    clock_name = "incident"
    clock_stream = "incident"
    doc = ("incidents arise (base rate, after purchases, on promotion days) and are answered "
           "by paid agents within capacity or not; word of mouth")
    reads = ("strategy.service", "strategy.satisfaction", "strategy.focus_super_users",
             "strategy.super_user_share", "strategy.focus_boost", "strategy.koc_program",
             "mechanisms.koc", "channels", "market.segments")
    columns = (
        *clock_columns("incident", "service incident"),
        Column("after_sale", np.float32, 0.0, "extra incident hazard per day from recent brand "
               "purchases (service.incidents_per_purchase, decaying over after_sale_days); "
               "members' values are kept by the incident clock and written here at the end "
               "of a run"),
        Column("wom", np.float32, 0.0, "word of mouth heard about the brand (negative: bad); "
               "x (1 + wom) on brand choice and referral registration"),
    )
    results = (
        Result("new_incidents", "incidents", "service incidents raised today", COUNT,
               total="incidents"),
        Result("new_resolved", "incidents", "of which resolved", COUNT,
               total="incidents_resolved"),
        Result("new_care_contacts", "incidents", "of which pre-empted by proactive care (not "
               "queued)", COUNT, total="care_contacts"),
        Result("new_answered_24h", "incidents", "of today's queued incidents, those answered "
               "within 24 h (a wait under one day)", COUNT, total="answered_24h"),
        Result("new_negative_wom", "users", "friends told of an unresolved fault today", COUNT),
        Result("service_agents", "agents", "service agents on the payroll today (fractional: "
               "part-time)", COUNT),
        Result("service_capacity", "answers", "answers agents and trained KOCs can give today",
               COUNT),
        Result("service_queue", "incidents", "incidents waiting for an answer at the day's end",
               STOCK),
        Result("service_wait_days", "days", "the backlog at the day's end in days of capacity "
               f"({NO_CAPACITY_WAIT:g} with no capacity)", LEVEL, 0.0),
        Result("service_within_24h", "share", "share of today's queued incidents answered "
               "within 24 h (NIO's promise; nan on a day without any)", LEVEL, float("nan")),
        Result("new_cost_service_staff", "yuan", "service agents' wages (paid busy or idle)",
               MONEY, 0.0, total="cost_service_staff"),
        Result("new_cost_service_tools", "yuan", "service agents' software seats", MONEY, 0.0,
               total="cost_service_tools"),
        Result("new_cost_care", "yuan", "proactive care contacts", MONEY, 0.0,
               total="cost_care"),
        Result("new_cost_knowledge_base", "yuan", "the knowledge base behind resolve_prob above "
               "knowledge_base_from (fixed monthly)", FIXED, 0.0, total="cost_knowledge_base"),
    )

    scan_all = False  # True: check the index of who heard word of mouth against a scan (tests)

    def __init__(self, model):
        super().__init__(model)
        # advanced over the members every day: their hazard left kept compactly, in member
        # order for the numpy path, in the order they joined for the kernel (no daily merge)
        self.clock = AppendClock(self.users, self.clock_name, self.stream(self.clock_stream))
        # a member's after-sale hazard, kept by the clock in its order (a state rider: the
        # daily decay is one pass over a compact array, not over the population's column)
        self._after = self.clock.follow("after_sale", state=True)
        self._channel = self.clock.follow("channel")  # kept by on_change
        s = self.cfg.strategy
        sv = s.service
        self.rate = sv.incidents_per_year / 365.0
        # after-sale hazard: a purchase adds n(1-q), used the next day, then x q a day, so a
        # member who stays raises n questions in expectation (q: one day of decay)
        self.after_q = np.float32(math.exp(-1.0 / sv.after_sale_days))
        self.after_add = np.float32(sv.incidents_per_purchase * (1.0 - float(self.after_q)))
        self.stay = math.exp(-1.0 / sv.patience_days)  # share of the backlog still waiting
        self.reversion = np.float32(1.0 / s.satisfaction.reversion_days)
        self.wom_decay = np.float32(math.exp(-math.log(2) / sv.wom_halflife_days))
        self.need = segment_values(self.cfg.market.segments.profiles(), "service_need",
                                   np.float32)
        ch = self.cfg.channels.profiles()
        self.reach = np.array([c.reach for c in ch], dtype=np.float32)
        self.trust = np.array([c.trust for c in ch], dtype=np.float32)
        self.productivity = np.array([c.service_productivity for c in ch], dtype=np.float64)
        self.kb_cost_day = (sv.knowledge_base_cost_month / 30.0
                            * knowledge_base_halvings(sv.resolve_prob, sv.knowledge_base_from))
        self.backlog = 0.0  # incidents waiting (simulated users' incidents)
        self.koc = koc_active(self.cfg)
        f, q = s.focus_super_users, s.super_user_share
        top = super_users(self.users.spend, q)
        self.focus = (None if f == 0 or len(top) == 0 else
                      np.where(top, 1 + s.focus_boost * f, 1 - s.focus_boost * f * q / (1 - q)))

    # ------------------------------------------------------------------ hooks

    def init_state(self) -> None:
        super().init_state()
        # a sorted superset of the users whose wom is nonzero (it fades only there)
        self._told = np.flatnonzero(self.users.wom)
        self._is_told = self.users.wom != 0

    def _remember(self, ids: np.ndarray) -> None:
        """Add ``ids`` (any order, may repeat) to the sorted index of users told."""
        new = unique(ids[~self._is_told[ids]])
        if len(new):
            self._is_told[new] = True
            h = self._told
            self._told = jit.insert(h, np.searchsorted(h, new), new)

    def _fade_wom(self) -> None:
        """Word of mouth fades: ``wom *= wom_decay`` (over the index of users told)."""
        u = self.users
        if self.scan_all:  # the reference (tests): scan every user
            if not np.isin(np.flatnonzero(u.wom), self._told).all():
                raise AssertionError("the index of users told word of mouth missed users")
        if jit.use(len(u.wom)):
            kept = _fade(self._told, u.wom, self.wom_decay, self._is_told)
            self._told = self._told[:jit.join(self._told, kept)]
        else:
            u.wom *= self.wom_decay

    def on_purchase(self, ids: np.ndarray, net: np.ndarray, day: int) -> None:
        if self.after_add > 0:
            buyers = ids[self.users.state[ids] == MEMBER]
            pos, inside = self.clock.locate(buyers)
            if inside.any():
                self.clock.rider(self._after)[pos[inside]] += self.after_add
            self.users.after_sale[buyers[~inside]] += self.after_add

    def on_leave(self, ids: np.ndarray, day: int) -> None:
        pos, inside = self.clock.locate(ids)  # before the clock lets their slots go
        if inside.any():
            self.clock.rider(self._after)[pos[inside]] = 0.0
        self.users.after_sale[ids] = 0.0
        super().on_leave(ids, day)

    def on_change(self, column: str, ids: np.ndarray) -> None:
        self.clock.changed(column, ids)

    def sync(self) -> None:
        """Bring the ``after_sale`` column (and the clock's) up to date with the members'
        values the clock keeps."""
        self.clock.sync()

    def report(self, day: int, members: np.ndarray) -> dict[str, float]:
        return {"service_queue": self.backlog}

    # ------------------------------------------------------------------ the day

    def step(self, day: int) -> None:
        u, today = self.users, self.model.today
        cfg = self.cfg.strategy
        sv = cfg.service
        members = self.model.members()
        mean = np.float32(cfg.satisfaction.initial_mean)
        if jit.use(len(members)):
            capacity, fired = self._members_kernel(members, mean, day)
        else:
            sat = u.satisfaction[members]
            u.satisfaction[members] = sat + (mean - sat) * self.reversion
            self._fade_wom()
            today.new_cost_knowledge_base += self.kb_cost_day
            capacity = self._staff(members)
            fired = self._incidents(members)
        k = self.clock.k[fired]
        fault = self.stream("fault").uniform(fired, k) < sv.fault_share
        cared = fault & (self.stream("care").uniform(fired, k) < sv.proactive_care)
        wait = self._queue(fired, k, cared, capacity)
        p = sv.resolve_prob * np.exp(-wait / sv.patience_days)
        if self.focus is not None:
            p = np.minimum(p * self.focus[fired], 1.0)
        resolved = cared | (self.stream("resolve").uniform(fired, k) < p)
        ch = u.channel[fired]
        w = self.need[u.segment[fired]] * self.reach[ch]
        sat = u.satisfaction[fired]
        loss = sv.loss * np.where(fault, sv.fault_loss_mult, 1.0)
        sat = np.where(resolved, sat + sv.gain * self.trust[ch] * w * (1 - sat), sat - loss * w * sat)
        u.satisfaction[fired] = np.clip(sat, 0.0, 1.0)
        n_care = int(cared.sum())
        today.new_incidents += len(fired)
        today.new_resolved += int(resolved.sum())
        today.new_care_contacts += n_care
        today.new_cost_care += n_care * sv.cost_per_care_contact
        self.clock.fire(fired)  # at the slots the kernel listed, when it advanced the clock
        angry = fault & ~resolved
        if angry.any() and sv.negative_wom > 0:
            told = self.model.graph.sample_neighbors(fired[angry],
                                                     self.stream("tell").uniform(fired[angry], k[angry]))
            told = told[told >= 0]
            np.subtract.at(u.wom, told, np.float32(sv.negative_wom))
            self._remember(told)
            today.new_negative_wom += len(told)

    def _members_kernel(self, members: np.ndarray, mean: np.float32,
                        day: int) -> tuple[float, np.ndarray]:
        """The numpy lines of ``step`` before the fired few (satisfaction reverts, word of
        mouth fades, staff, incidents) with one compiled pass over the members
        (:func:`_members_day`), in the clock's append layout (:meth:`AppendClock.over`: the
        pass is elementwise, its counts integers, so the order changes no value); today's
        capacity and the members who raise an incident (sorted)."""
        u, sv = self.users, self.cfg.strategy.service
        self._fade_wom()
        self.model.today.new_cost_knowledge_base += self.kb_cost_day
        use_after = bool(self.after_add > 0)
        use_promo = bool(self.model.today.promo and sv.promo_questions > 0)
        fused = type(self.clock) is AppendClock  # its advance is reproduced inline
        advance = fused and (use_after or use_promo or not self.rate <= 0)
        ids = self.clock.over(members, day) if fused else members
        counts = np.zeros((NCHUNK, N_CHANNEL_SLOTS), dtype=np.int64)
        out = np.empty(len(ids) if advance else 0, dtype=np.int64)
        # numpy's dtypes: a Python float meets float32 arrays as float32 (rate + after_sale,
        # promo_questions * reach); the rate alone is subtracted from R as float64
        after = self.clock.rider(self._after) if fused else np.zeros(0, np.float32)
        channel = self.clock.rider(self._channel) if fused else u.channel[ids]
        fired = _members_day(ids, u.satisfaction, mean, self.reversion, channel, counts,
                             after, self.after_q, use_after and fused, self.reach,
                             np.float32(sv.promo_questions), use_promo and fused,
                             np.float32(self.rate), float(self.rate), advance,
                             self.clock.left if fused else np.zeros(0), out)
        n = jit.join(out, fired)
        counts = counts.sum(axis=0)
        used = np.flatnonzero(counts)
        size = max(len(self.productivity), int(used[-1]) + 1 if len(used) else 0)
        capacity = self._staff(members, counts[:size])  # np.bincount's length
        if not fused:
            return capacity, self._incidents(members)
        return capacity, self.clock.fired_at(out[:n].copy())

    def _staff(self, members: np.ndarray, by_channel: np.ndarray | None = None) -> float:
        """Today's agents (paid) and answering capacity (answers today); ``by_channel``:
        the members' channel counts when already counted."""
        sv, today = self.cfg.strategy.service, self.model.today
        per_member = sv.capacity_per_1k / 1000.0
        agents = per_member * len(members) / sv.answers_per_agent_day
        if by_channel is None:
            by_channel = np.bincount(self.users.channel[members],
                                     minlength=len(self.productivity))
        capacity = per_member * float(by_channel @ self.productivity)
        if self.koc:
            capacity += koc_answers(self.cfg, self.users.koc[members])
        today.service_agents = agents
        today.service_capacity = capacity
        today.new_cost_service_staff += agents * sv.wage_per_agent_month / 30.0
        today.new_cost_service_tools += agents * sv.seat_cost_per_agent_month / 30.0
        return capacity

    def _incidents(self, members: np.ndarray) -> np.ndarray:
        """Advance the incident clocks by today's hazard; the members who raise one."""
        u, sv = self.users, self.cfg.strategy.service
        hazard: float | np.ndarray = self.rate
        if self.after_add > 0:
            self.clock.align(members)
            after = self.clock.rider(self._after)  # == u.after_sale[members], kept in place
            hazard = hazard + after
            after *= self.after_q
        if self.model.today.promo and sv.promo_questions > 0:
            hazard = hazard + sv.promo_questions * self.reach[u.channel[members]]
        if np.isscalar(hazard) and hazard <= 0:
            return members[:0]
        return self.clock.advance(members, hazard)

    def _queue(self, fired: np.ndarray, k: np.ndarray, cared: np.ndarray,
               capacity: float) -> np.ndarray:
        """Queue today's incidents (all but the cared-for); each one's wait in days."""
        today = self.model.today
        queued = ~cared
        n = int(queued.sum())
        wait = np.zeros(len(fired))
        backlog = self.backlog
        if capacity > 0:
            t = self.stream("arrival").uniform(fired[queued], k[queued])
            wait[queued] = np.maximum(0.0, backlog + (n - capacity) * t) / capacity
        else:
            wait[queued] = np.inf
        end = max(0.0, backlog + n - capacity)
        self.backlog = end * self.stay  # members who waited a day give up at rate 1/patience
        within = int(np.count_nonzero(wait[queued] < 1.0))
        today.new_answered_24h += within
        if n:
            today.service_within_24h = within / n
        today.service_wait_days = self.backlog / capacity if capacity > 0 else NO_CAPACITY_WAIT
        return wait
