"""Churn: members leave the private domain (delete the friend, quit the group).

Daily hazard ``base x exp(fatigue_beta x fatigue + dissatisfaction_beta x (0.7 - satisfaction))``
with the base from personal WeChat friend churn of 5-6% (seed 002, read as per month).
Promotion fatigue and dissatisfaction raise it (DOMAIN.md: promotion-led groups raise
churn in long-cycle categories). Churn is absorbing: a churned user is never active again.
"""

from __future__ import annotations

import math

import numpy as np

from sim.clocks import Clock
from sim.columns import CHURNED, MEMBER
from sim.mechanisms.base import Mechanism


class Churn(Mechanism):
    name = "churn"

    def __init__(self, model):
        super().__init__(model)
        self.clock = Clock(self.users, "churn", self.stream("clock"), self.name)
        c = self.cfg.strategy.churn
        self.base = -math.log1p(-min(c.base_monthly, 1 - 1e-12)) / 30.0

    def init_state(self) -> None:
        self.on_join(np.flatnonzero(self.users.state == MEMBER))

    def on_join(self, ids: np.ndarray) -> None:
        self.clock.start(ids)

    def step(self, day: int) -> None:
        u, c = self.users, self.cfg.strategy.churn
        ids = self.model.members()
        x = c.fatigue_beta * u.fatigue[ids] + c.dissatisfaction_beta * (
            np.float32(0.7) - u.satisfaction[ids])
        gone = self.clock.advance(ids, self.base * np.exp(x))
        if len(gone) == 0:
            return
        u.state[gone] = CHURNED
        u.churn_day[gone] = day
        self.model.today.churned += len(gone)
        self.clock.fire(gone)
        self.clock.stop(gone)
        self.model.churned(gone, day)
