"""Brand messaging: promotions and content sent to every member on a weekly calendar.

Promotions build fatigue (LITERATURE P19, subscriber fatigue) and annoy users who came
for service (seed 000: promotion spam buries posts and hurts the experience); their pull
on purchases is applied by the purchase mechanism on promo days. Content raises the
satisfaction of users who want news and product information (DOMAIN.md, Honor's tiers).
"""

from __future__ import annotations

import math

import numpy as np

from sim.mechanisms.base import Mechanism

# How much each segment (ordinary, fan, KOC, enthusiast) values service and news.
# Source: DOMAIN.md / seed 000 (ordinary users want after-sales and a contact; fans want
# news; KOCs a voice; enthusiasts co-creation). Magnitudes: assumption.
SERVICE_NEED = np.array([1.3, 1.0, 0.8, 0.8], dtype=np.float32)
NEWS_NEED = np.array([0.3, 1.0, 1.2, 1.5], dtype=np.float32)


def on_calendar(day: int, per_week: float) -> bool:
    """True on the days a weekly rate of ``per_week`` sends (evenly spaced, deterministic)."""
    if per_week <= 0:
        return False
    return math.floor(day * per_week / 7) > math.floor((day - 1) * per_week / 7)


class Messaging(Mechanism):
    name = "messaging"

    def __init__(self, model):
        super().__init__(model)
        p = self.cfg.strategy.promotion
        self.decay = np.float32(math.exp(-math.log(2) / p.fatigue_halflife_days))

    def step(self, day: int) -> None:
        u, today = self.users, self.model.today
        s = self.cfg.strategy
        members = self.model.members()
        u.fatigue[members] *= self.decay  # only members receive messages; others stay at 0
        # running the groups and accounts costs per member-day (staff time, tools)
        today.cost += len(members) * s.cost.per_member_month / 30.0
        promo = on_calendar(day, s.promotion.per_week)
        content = on_calendar(day, s.content.per_week)
        if not (promo or content):
            return
        sat = u.satisfaction[members]
        seg = u.segment[members]
        if promo:
            today.promo, today.promo_depth = True, s.promotion.depth
            u.fatigue[members] += np.float32(s.promotion.fatigue_per_message)
            sat -= s.promotion.annoyance * SERVICE_NEED[seg] * (1 - u.deal_prone[members]) * sat
            today.cost_fixed += s.cost.per_promo_message
        if content:
            today.content = True
            sat += s.content.gain * NEWS_NEED[seg] * (1 - sat)
            today.cost_fixed += s.content.cost_per_post
        u.satisfaction[members] = np.clip(sat, 0.0, 1.0)
