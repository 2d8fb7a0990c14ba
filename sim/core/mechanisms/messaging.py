"""Brand messaging: promotions and content sent to every member on a weekly calendar.

Promotions build fatigue with every message (LITERATURE P19, subscriber fatigue), which
raises churn from the private domain (seed 000: promotion spam in groups). How a promotion
changes satisfaction with the brand depends on who receives it and how deep it is: users who
came for service are annoyed by every message (``annoyance x service need x (1 -
deal-proneness)``: seed 000, spam buries posts and hurts the experience), deal-seekers are
pleased in proportion to the depth (``delight x depth x deal-proneness``); on average the
two roughly cancel at the default depth, as DelVecchio, Henard & Freling (2006) find no
average effect of promotions on brand preference. Their pull on purchases is applied by the
purchase mechanism on promo days. Content raises the
satisfaction of users who want news and product information (DOMAIN.md, Honor's tiers).
Both reach a member through the member's channel (``channels.*.reach``); a member on a staff
account who also follows the official account is reached through either, ``1 - (1 -
r_channel)(1 - r_official)``. Content lands with the channel's trust (WeCom "feels like
talking to a brand"). WeCom moments are capped (seed 002): with fewer than
``touchpoints.moments_cap_staff`` active staff accounts, moments are seen by at most
``moments_cap_views`` people a day, so the moments share of a WeCom member's content reach
(``moments_share``) is scaled by ``min(1, cap / WeCom members)``. Running the private
domain costs per member-month, plus the channel's own cost.
"""

from __future__ import annotations

import math

import numpy as np

from sim.core.columns import OFFICIAL_ACCOUNT, TOUCH_OFFICIAL, WECOM
from sim.core.mechanisms.base import FIXED, LEVEL, MONEY, SIGNAL, Column, Mechanism, Result
from sim.core.mechanisms.shared import on_calendar
from sim.core.population import segment_values


class Messaging(Mechanism):
    name = "messaging"
    doc = "the brand's promotions and content go out; fatigue decays and builds"
    reads = ("strategy.promotion", "strategy.content", "strategy.cost", "channels",
             "market.segments", "touchpoints.moments_cap_views", "touchpoints.moments_cap_staff",
             "touchpoints.moments_share", "strategy.acquisition.staff_per_store",
             "population.scale")
    columns = (Column("fatigue", np.float32, 0.0, "promotion fatigue (messaging -> churn)"),)
    results = (
        Result("promo", "flag", "1 if a promotion went out today", LEVEL, False),
        Result("promo_depth", "share of price", "today's promotion discount", SIGNAL, 0.0),
        Result("content", "flag", "1 if a content post went out today", LEVEL, False),
        Result("new_cost_operations", "yuan", "operators, per member-month", MONEY, 0.0,
               total="cost_operations"),
        Result("new_cost_channels", "yuan", "channel tools, per member-month", MONEY, 0.0,
               total="cost_channels"),
        Result("new_cost_campaigns", "yuan", "promotion campaigns", FIXED, 0.0,
               total="cost_campaigns"),
        Result("new_cost_content", "yuan", "content posts and themed days", FIXED, 0.0,
               total="cost_content"),
    )

    def __init__(self, model):
        super().__init__(model)
        p = self.cfg.strategy.promotion
        self.decay = np.float32(math.exp(-math.log(2) / p.fatigue_halflife_days))
        prof = self.cfg.market.segments.profiles()
        self.service_need = segment_values(prof, "service_need", np.float32)
        self.news_need = segment_values(prof, "news_need", np.float32)
        ch = self.cfg.channels.profiles()
        self.reach = np.array([c.reach for c in ch], dtype=np.float32)
        self.trust = np.array([c.trust for c in ch], dtype=np.float32)
        self.channel_cost = np.array([c.cost_per_member_month for c in ch]) / 30.0
        t = self.cfg.touchpoints
        staff = model.n_stores * self.cfg.strategy.acquisition.staff_per_store
        self.moments_capped = staff < t.moments_cap_staff and t.moments_share > 0

    def step(self, day: int) -> None:
        u, today = self.users, self.model.today
        s = self.cfg.strategy
        members = self.model.members()
        u.fatigue[members] *= self.decay  # only members receive messages; others stay at 0
        ch = u.channel[members]
        # running the groups and accounts costs per member-day (operators, channel tools)
        today.new_cost_operations += len(members) * s.cost.per_member_month / 30.0
        today.new_cost_channels += float(np.bincount(ch, minlength=3) @ self.channel_cost)
        promo = on_calendar(day, s.promotion.per_week)
        content = on_calendar(day, s.content.per_week)
        if not (promo or content):
            return
        sat = u.satisfaction[members]
        seg = u.segment[members]
        reach = self._reach(members, ch)
        if promo:
            today.promo, today.promo_depth = True, s.promotion.depth
            u.fatigue[members] += np.float32(s.promotion.fatigue_per_message) * reach
            deal = u.deal_prone[members]
            sat -= (s.promotion.annoyance * reach * self.service_need[seg] * (1 - deal) * sat)
            sat += s.promotion.delight * s.promotion.depth * reach * deal * (1 - sat)
            today.new_cost_campaigns += s.promotion.cost_per_campaign
        if content:
            today.content = True
            if self.moments_capped:
                reach = reach * self._moments(ch)
            sat += s.content.gain * reach * self.trust[ch] * self.news_need[seg] * (1 - sat)
            today.new_cost_content += s.content.cost_per_post
        u.satisfaction[members] = np.clip(sat, 0.0, 1.0)

    def _reach(self, members: np.ndarray, ch: np.ndarray) -> np.ndarray:
        """Each member's reach: the channel's, or either of it and the official account's."""
        reach = self.reach[ch]
        also = ((self.users.touch[members] & TOUCH_OFFICIAL) > 0) & (ch != OFFICIAL_ACCOUNT)
        if also.any():
            r_oa = self.reach[OFFICIAL_ACCOUNT]
            reach = np.where(also, 1 - (1 - reach) * (1 - r_oa), reach).astype(np.float32)
        return reach

    def _moments(self, ch: np.ndarray) -> np.ndarray:
        """x content reach of WeCom members under the moments cap (1 for other channels)."""
        t = self.cfg.touchpoints
        wecom = ch == WECOM
        viewers = np.count_nonzero(wecom) * self.cfg.population.scale  # real WeCom members
        if viewers <= t.moments_cap_views:
            return np.float32(1.0)
        seen = t.moments_cap_views / viewers
        return np.where(wecom, 1 - t.moments_share + t.moments_share * seen,
                        1.0).astype(np.float32)
