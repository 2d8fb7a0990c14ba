"""Service: incidents (questions and product faults) among members, answered or not.

Members raise incidents at a constant rate. The day's answers are limited by capacity
(``capacity_per_1k`` per 1,000 members, plus questions answered by trained KOCs); what is
not answered waits, and the wait cuts the chance of resolution by ``exp(-wait/patience)``
(NIO: 300 experts answer within 24 h). Proactive care pre-empts a share of faults ("your
phone was dropped: nearest repair shop", seed 000), which are always resolved. Resolution
raises satisfaction and an unresolved problem lowers it (faults more), weighted by the
segment's need for service and the channel's reach and trust. An unresolved fault is told
to a friend (a graph neighbour), whose view of the brand drops (negative word of mouth,
DOMAIN.md): the ``wom`` column lowers that friend's brand choice and referral registration.
Satisfaction drifts back toward its initial mean; word of mouth fades with a half-life.

With ``focus_super_users`` f, super users (the top ``super_user_share`` by spend) get
``1 + focus_boost x f`` times the resolution chance and the others what keeps the expected
number resolved unchanged: ``1 - focus_boost x f x share / (1 - share)``.
"""

from __future__ import annotations

import math

import numpy as np

from sim.core.mechanisms.base import (
    COUNT,
    LEVEL,
    MONEY,
    Column,
    MemberClockMechanism,
    Result,
    clock_columns,
)
from sim.core.mechanisms.shared import koc_active, koc_answers, super_users
from sim.core.population import segment_values


class Service(MemberClockMechanism):
    name = "service"
    clock_name = "incident"
    clock_stream = "incident"
    doc = "incidents arise and are answered within capacity or not; word of mouth"
    reads = ("strategy.service", "strategy.satisfaction", "strategy.focus_super_users",
             "strategy.super_user_share", "strategy.focus_boost", "strategy.koc_program",
             "mechanisms.koc", "channels", "market.segments")
    columns = (
        *clock_columns("incident", "service incident"),
        Column("wom", np.float32, 0.0, "word of mouth heard about the brand (negative: bad); "
               "x (1 + wom) on brand choice and referral registration"),
    )
    results = (
        Result("new_incidents", "incidents", "service incidents raised today", COUNT),
        Result("new_resolved", "incidents", "of which resolved", COUNT),
        Result("new_negative_wom", "users", "friends told of an unresolved fault today", COUNT),
        Result("new_cost_service", "yuan", "service: handled incidents", MONEY, 0.0,
               total="cost_service"),
        Result("service_wait_days", "days", "the service backlog in days of capacity", LEVEL,
               0.0),
    )

    def __init__(self, model):
        super().__init__(model)
        s = self.cfg.strategy
        self.rate = s.service.incidents_per_year / 365.0
        self.reversion = np.float32(1.0 / s.satisfaction.reversion_days)
        self.wom_decay = np.float32(math.exp(-math.log(2) / s.service.wom_halflife_days))
        self.need = segment_values(self.cfg.market.segments.profiles(), "service_need",
                                   np.float32)
        ch = self.cfg.channels.profiles()
        self.reach = np.array([c.reach for c in ch], dtype=np.float32)
        self.trust = np.array([c.trust for c in ch], dtype=np.float32)
        self.backlog = 0.0
        self.koc = koc_active(self.cfg)
        f, q = s.focus_super_users, s.super_user_share
        top = super_users(self.users.spend, q)
        self.focus = (None if f == 0 or len(top) == 0 else
                      np.where(top, 1 + s.focus_boost * f, 1 - s.focus_boost * f * q / (1 - q)))

    def step(self, day: int) -> None:
        u, today = self.users, self.model.today
        cfg = self.cfg.strategy
        members = self.model.members()
        mean = np.float32(cfg.satisfaction.initial_mean)
        sat = u.satisfaction[members]
        u.satisfaction[members] = sat + (mean - sat) * self.reversion
        u.wom *= self.wom_decay
        if self.rate <= 0:
            return
        fired = self.clock.advance(members, self.rate)
        if len(fired) == 0:
            return
        sv = cfg.service
        k = self.clock.k[fired]
        fault = self.stream("fault").uniform(fired, k) < sv.fault_share
        cared = fault & (self.stream("care").uniform(fired, k) < sv.proactive_care)
        # capacity: answers per day; unanswered incidents wait in a backlog
        capacity = sv.capacity_per_1k * len(members) / 1000.0
        if self.koc:
            capacity += koc_answers(self.cfg, u.koc[members])
        queue = self.backlog + np.count_nonzero(~cared)
        served = min(queue, capacity)
        self.backlog = queue - served
        wait = self.backlog / capacity if capacity > 0 else 365.0
        p = sv.resolve_prob * math.exp(-wait / sv.patience_days)
        if self.focus is not None:
            p = np.minimum(p * self.focus[fired], 1.0)
        resolved = cared | (self.stream("resolve").uniform(fired, k) < p)
        ch = u.channel[fired]
        w = self.need[u.segment[fired]] * self.reach[ch]
        sat = u.satisfaction[fired]
        loss = sv.loss * np.where(fault, sv.fault_loss_mult, 1.0)
        sat = np.where(resolved, sat + sv.gain * self.trust[ch] * w * (1 - sat), sat - loss * w * sat)
        u.satisfaction[fired] = np.clip(sat, 0.0, 1.0)
        n_res = int(resolved.sum())
        today.new_incidents += len(fired)
        today.new_resolved += n_res
        today.service_wait_days = wait
        today.new_cost_service += n_res * sv.cost_per_incident
        self.clock.fire(fired)
        angry = fired[fault & ~resolved]
        if len(angry) and sv.negative_wom > 0:
            told = self.model.graph.sample_neighbors(angry, self.stream("tell").uniform(angry, k[fault & ~resolved]))
            told = told[told >= 0]
            np.subtract.at(u.wom, told, np.float32(sv.negative_wom))
            today.new_negative_wom += len(told)
