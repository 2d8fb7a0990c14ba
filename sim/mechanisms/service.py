"""Service: incidents (questions, faults) among members, resolved or not.

Resolution raises satisfaction and an unresolved problem lowers it (seed 000: fast
answers, a knowledge base and proactive care raise satisfaction; DOMAIN.md). Proactive
care pre-empts a share of incidents ("your phone was dropped: nearest repair shop"), which
are then always resolved. Satisfaction also drifts back toward its initial mean.
"""

from __future__ import annotations

import numpy as np

from sim.clocks import Clock
from sim.columns import MEMBER
from sim.mechanisms.base import Mechanism
from sim.mechanisms.messaging import SERVICE_NEED


class Service(Mechanism):
    name = "service"

    def __init__(self, model):
        super().__init__(model)
        self.clock = Clock(self.users, "incident", self.stream("incident"), self.name)
        s = self.cfg.strategy
        self.rate = s.service.incidents_per_year / 365.0
        self.reversion = 1.0 / s.satisfaction.reversion_days

    def init_state(self) -> None:
        self.on_join(np.flatnonzero(self.users.state == MEMBER))

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
        u.satisfaction[members] = sat + (mean - sat) * np.float32(self.reversion)
        if self.rate <= 0:
            return
        fired = self.clock.advance(members, self.rate)
        if len(fired) == 0:
            return
        sv = cfg.service
        p_resolve = sv.proactive_care + (1 - sv.proactive_care) * sv.resolve_prob
        resolved = self.stream("resolve").uniform(fired, self.clock.k[fired]) < p_resolve
        need = SERVICE_NEED[u.segment[fired]]
        sat = u.satisfaction[fired]
        sat = np.where(resolved, sat + sv.gain * need * (1 - sat), sat - sv.loss * need * sat)
        u.satisfaction[fired] = np.clip(sat, 0.0, 1.0)
        n_res = int(resolved.sum())
        today.incidents += len(fired)
        today.resolved += n_res
        today.cost += n_res * sv.cost_per_incident
        self.clock.fire(fired)
