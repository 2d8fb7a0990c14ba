"""Service: incidents (questions and product faults) among members, answered or not, at a cost.

**Demand.** A member raises incidents at a base rate (``incidents_per_year``), plus the
questions a purchase brings (delivery, setup, returns: ``incidents_per_purchase``, arriving
over the next days with mean ``after_sale_days``; the ``after_sale`` column holds each
member's extra hazard and decays daily), plus questions about the deal on promotion days
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

from sim.core.columns import MEMBER
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
               "purchases (service.incidents_per_purchase, decaying over after_sale_days)"),
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

    def __init__(self, model):
        super().__init__(model)
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

    def on_purchase(self, ids: np.ndarray, net: np.ndarray, day: int) -> None:
        if self.after_add > 0:
            buyers = ids[self.users.state[ids] == MEMBER]
            self.users.after_sale[buyers] += self.after_add

    def on_leave(self, ids: np.ndarray, day: int) -> None:
        super().on_leave(ids, day)
        self.users.after_sale[ids] = 0.0

    def report(self, day: int, members: np.ndarray) -> dict[str, float]:
        return {"service_queue": self.backlog}

    # ------------------------------------------------------------------ the day

    def step(self, day: int) -> None:
        u, today = self.users, self.model.today
        cfg = self.cfg.strategy
        sv = cfg.service
        members = self.model.members()
        mean = np.float32(cfg.satisfaction.initial_mean)
        sat = u.satisfaction[members]
        u.satisfaction[members] = sat + (mean - sat) * self.reversion
        u.wom *= self.wom_decay
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
        self.clock.fire(fired)
        angry = fault & ~resolved
        if angry.any() and sv.negative_wom > 0:
            told = self.model.graph.sample_neighbors(fired[angry],
                                                     self.stream("tell").uniform(fired[angry], k[angry]))
            told = told[told >= 0]
            np.subtract.at(u.wom, told, np.float32(sv.negative_wom))
            today.new_negative_wom += len(told)

    def _staff(self, members: np.ndarray) -> float:
        """Today's agents (paid) and answering capacity (answers today)."""
        sv, today = self.cfg.strategy.service, self.model.today
        per_member = sv.capacity_per_1k / 1000.0
        agents = per_member * len(members) / sv.answers_per_agent_day
        by_channel = np.bincount(self.users.channel[members], minlength=len(self.productivity))
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
            after = u.after_sale[members]
            hazard = hazard + after
            u.after_sale[members] = after * self.after_q
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
