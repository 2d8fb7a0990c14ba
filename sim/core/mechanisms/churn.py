"""Churn: members leave the private domain (delete the friend, quit the group, unfollow).

Daily hazard ``base(channel) x exp(fatigue_beta x fatigue + dissatisfaction_beta x (pivot -
satisfaction) + groups.churn_beta x (neutral - group activity)) x KOC, tier and VIP
multipliers``. The base is the landing channel's friend churn (seed 002: personal WeChat
5-6%, WeCom 30-40%, read as per month; official-account followers are lost fastest).
Promotion fatigue, dissatisfaction and dead groups raise it (DOMAIN.md). Churn is absorbing.
"""

from __future__ import annotations

import math

import numpy as np

from sim.core.mechanisms.base import MemberClockMechanism, clock_columns
from sim.core.mechanisms.shared import koc_active


class Churn(MemberClockMechanism):
    name = "churn"
    clock_name = "churn"
    doc = "members leave on channel churn, fatigue, dissatisfaction, dead groups"
    reads = ("strategy.churn", "strategy.satisfaction.pivot", "strategy.koc_program",
             "strategy.membership", "mechanisms.koc", "groups.churn_beta",
             "groups.neutral_activity", "channels")
    columns = clock_columns("churn", "churn")

    def __init__(self, model):
        super().__init__(model)
        self.base = np.array([-math.log1p(-min(c.monthly_churn, 1 - 1e-12)) / 30.0
                              for c in self.cfg.channels.profiles()], dtype=np.float64)
        self.koc = koc_active(self.cfg)

    def step(self, day: int) -> None:
        u, cfg = self.users, self.cfg
        c, s = cfg.strategy.churn, cfg.strategy
        ids = self.model.members()
        x = c.fatigue_beta * u.fatigue[ids] + c.dissatisfaction_beta * (
            np.float32(s.satisfaction.pivot) - u.satisfaction[ids])
        x = x + cfg.groups.churn_beta * (np.float32(cfg.groups.neutral_activity)
                                         - u.group_activity[ids])
        hazard = self.base[u.channel[ids]] * np.exp(x)
        if self.koc:
            hazard = np.where(u.koc[ids], hazard * s.koc_program.churn_mult, hazard)
        if s.membership.enabled:
            hazard = hazard * s.membership.tier_churn_mult ** u.tier[ids]
        if s.membership.vip:
            hazard = np.where(u.vip_until[ids] >= day, hazard * s.membership.vip_churn_mult, hazard)
        gone = self.clock.advance(ids, hazard)
        if len(gone):
            self.clock.fire(gone)
            self.model.leave(gone, day)
