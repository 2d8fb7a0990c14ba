"""Churn: members leave the private domain (delete the friend, quit the group, unfollow).

Daily hazard ``base(channel) x exp(fatigue_beta x fatigue + dissatisfaction_beta x (0.7 -
satisfaction) + groups.churn_beta x (0.5 - group activity)) x KOC, tier and VIP multipliers``.
The base is the landing channel's friend churn (seed 002: personal WeChat 5-6%, WeCom
30-40%, read as per month; official-account followers are lost fastest). Promotion fatigue,
dissatisfaction and dead groups raise it (DOMAIN.md). Churn is absorbing.
"""

from __future__ import annotations

import math

import numpy as np

from sim.core.clocks import Clock
from sim.core.mechanisms.base import Mechanism
from sim.core.mechanisms.groups import group_activity


class Churn(Mechanism):
    name = "churn"

    def __init__(self, model):
        super().__init__(model)
        self.clock = Clock(self.users, "churn", self.stream("clock"), self.name)
        self.base = np.array([-math.log1p(-min(c.monthly_churn, 1 - 1e-12)) / 30.0
                              for c in self.cfg.channels.profiles()], dtype=np.float64)

    def init_state(self) -> None:
        self.on_join(self.model.members())

    def on_join(self, ids: np.ndarray) -> None:
        self.clock.start(ids)

    def step(self, day: int) -> None:
        u, cfg = self.users, self.cfg
        c, s = cfg.strategy.churn, cfg.strategy
        ids = self.model.members()
        x = c.fatigue_beta * u.fatigue[ids] + c.dissatisfaction_beta * (
            np.float32(0.7) - u.satisfaction[ids])
        x = x + cfg.groups.churn_beta * (np.float32(0.5) - group_activity(self.model, ids))
        hazard = self.base[u.channel[ids]] * np.exp(x)
        if s.koc_program.enabled:
            hazard = np.where(u.koc[ids], hazard * s.koc_program.churn_mult, hazard)
        if s.membership.enabled:
            hazard = hazard * s.membership.tier_churn_mult ** u.tier[ids]
        if s.membership.vip:
            hazard = np.where(u.vip_until[ids] >= day, hazard * s.membership.vip_churn_mult, hazard)
        gone = self.clock.advance(ids, hazard)
        if len(gone):
            self.clock.fire(gone)
            self.model.leave(gone, day)

    def on_churn(self, ids: np.ndarray) -> None:
        self.clock.stop(ids)
