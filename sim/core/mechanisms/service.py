"""Service: incidents (questions and product faults) among members, answered or not.

Members raise incidents at a constant rate. The day's answers are limited by capacity
(``capacity_per_1k`` per 1,000 members, plus questions answered by trained KOCs); what is
not answered waits, and the wait cuts the chance of resolution by ``exp(-wait/patience)``
(NIO: 300 experts answer within 24 h). Proactive care pre-empts a share of faults ("your
phone was dropped: nearest repair shop", seed 000), which are always resolved. Resolution
raises satisfaction and an unresolved problem lowers it (faults more), weighted by the
segment's need for service and the channel's reach and trust. An unresolved fault is told
to a friend (a graph neighbour), whose view of the brand drops (negative word of mouth,
DOMAIN.md): it lowers that friend's brand choice and referral registration. Satisfaction
drifts back toward its initial mean; word of mouth fades with a half-life.
"""

from __future__ import annotations

import math

import numpy as np

from sim.core.clocks import Clock
from sim.core.mechanisms.base import Mechanism


class Service(Mechanism):
    name = "service"

    def __init__(self, model):
        super().__init__(model)
        self.clock = Clock(self.users, "incident", self.stream("incident"), self.name)
        s = self.cfg.strategy
        self.rate = s.service.incidents_per_year / 365.0
        self.reversion = np.float32(1.0 / s.satisfaction.reversion_days)
        self.wom_decay = np.float32(math.exp(-math.log(2) / s.service.wom_halflife_days))
        self.need = self.segval("service_need")
        ch = self.cfg.channels.profiles()
        self.reach = np.array([c.reach for c in ch], dtype=np.float32)
        self.trust = np.array([c.trust for c in ch], dtype=np.float32)
        self.backlog = 0.0
        # focus on super users: the top 20% by spend get (1 + 2f) x the resolution chance and
        # the rest (1 - f/2) x, which leaves the expected number resolved unchanged
        f = s.focus_super_users
        top = self.users.spend >= np.quantile(self.users.spend, 0.8) if self.users.n else None
        self.focus = None if f == 0 or top is None else np.where(top, 1 + 2 * f, 1 - f / 2)

    def init_state(self) -> None:
        self.on_join(self.model.members())

    def on_join(self, ids: np.ndarray) -> None:
        self.clock.start(ids)

    def on_churn(self, ids: np.ndarray) -> None:
        self.clock.stop(ids)

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
        koc = self.model.mechanism("koc")
        capacity = sv.capacity_per_1k * len(members) / 1000.0
        if koc is not None:
            capacity += koc.answers_today(members)
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
        today.incidents += len(fired)
        today.resolved += n_res
        today.wait_days = wait
        today.cost += n_res * sv.cost_per_incident
        self.clock.fire(fired)
        angry = fired[fault & ~resolved]
        if len(angry) and sv.negative_wom > 0:
            told = self.model.graph.sample_neighbors(angry, self.stream("tell").uniform(angry, k[fault & ~resolved]))
            told = told[told >= 0]
            np.subtract.at(u.wom, told, np.float32(sv.negative_wom))
            today.negative_wom += len(told)
