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

from sim.core import jit
from sim.core.columns import OFFICIAL_ACCOUNT, TOUCH_OFFICIAL, WECOM
from sim.core.jit import NCHUNK, prange
from sim.core.mechanisms.base import FIXED, LEVEL, MONEY, SIGNAL, Column, Mechanism, Result
from sim.core.mechanisms.shared import on_calendar
from sim.core.population import segment_values

N_CHANNEL_SLOTS = 128  # channel counts the kernel keeps (the int8 column's range)


@jit.kernel(parallel=True)
def _message(members, daily, fatigue, decay, channel, counts, update, satisfaction, segment,
             touch, deal_prone, reach, official_miss, promo, fatigue_per_message, annoyance,
             service_need, delight, content, moments, gain, trust,
             news_need):  # pragma: no cover - compiled
    """One pass over the members fusing ``Messaging.step``'s numpy lines (float32 throughout,
    in the same order):

    * when ``daily``: ``fatigue[members] *= decay`` and
      ``np.bincount(channel[members])`` (into ``counts``);
    * when ``update`` (a promotion or content day): ``_reach`` (the channel's ``reach``, or
      ``1 - (1 - reach) * official_miss`` for members also following the official account;
      ``official_miss = 1 - r_official``), then with ``promo`` the fatigue added and the
      promotion's two satisfaction terms (``delight`` = delight x depth), with ``content``
      the content's term (reach x ``moments`` of the channel: 1 but for capped WeCom
      moments), and ``np.clip(sat, 0.0, 1.0)`` stored.

    Parallel over :data:`NCHUNK` chunks of the members (channel counts per chunk, in
    ``counts[chunk]``, summed by the caller).
    """
    one = np.float32(1.0)
    zero = np.float32(0.0)
    n = members.shape[0]
    for ck in prange(NCHUNK):
        ids, slots = members[n * ck // NCHUNK:n * (ck + 1) // NCHUNK], counts[ck]
        for j in range(ids.shape[0]):
            i = ids[j]
            c = channel[i]
            if daily:
                fatigue[i] = fatigue[i] * decay
                slots[c] += 1
            if not update:
                continue
            r = reach[c]
            if (touch[i] & TOUCH_OFFICIAL) > 0 and c != OFFICIAL_ACCOUNT:
                r = one - (one - r) * official_miss
            s = satisfaction[i]
            g = segment[i]
            if promo:
                fatigue[i] = fatigue[i] + fatigue_per_message * r
                d = deal_prone[i]
                s = s - annoyance * r * service_need[g] * (one - d) * s
                s = s + delight * r * d * (one - s)
            if content:
                s = s + gain * (r * moments[c]) * trust[c] * news_need[g] * (one - s)
            # np.clip: max(s, 0) then min(., 1), each keeping a NaN and taking the bound on a tie
            if s == s:
                if not s > zero:
                    s = zero
                if not s < one:
                    s = one
            satisfaction[i] = s


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
        promo = on_calendar(day, s.promotion.per_week)
        content = on_calendar(day, s.content.per_week)
        if jit.use(len(members)):
            self._step_kernel(members, promo, content)
            return
        u.fatigue[members] *= self.decay  # only members receive messages; others stay at 0
        ch = u.channel[members]
        # running the groups and accounts costs per member-day (operators, channel tools)
        today.new_cost_operations += len(members) * s.cost.per_member_month / 30.0
        today.new_cost_channels += float(np.bincount(ch, minlength=3) @ self.channel_cost)
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

    def _step_kernel(self, members: np.ndarray, promo: bool, content: bool) -> None:
        """``step`` with one compiled pass over the members (:func:`_message`); two on a
        content day under the WeCom moments cap, whose share needs the day's WeCom count."""
        u, today, s = self.users, self.model.today, self.cfg.strategy
        p, c = s.promotion, s.content
        f32 = np.float32
        # the day's messages, with numpy's float32 constants (Python floats are weak)
        messages = (u.satisfaction, u.segment, u.touch, u.deal_prone, self.reach,
                    f32(1) - self.reach[OFFICIAL_ACCOUNT], promo, f32(p.fatigue_per_message),
                    f32(p.annoyance), self.service_need, f32(p.delight * p.depth), content)
        capped = content and self.moments_capped
        chunks = np.zeros((NCHUNK, N_CHANNEL_SLOTS), dtype=np.int64)
        _message(members, True, u.fatigue, self.decay, u.channel, chunks,
                 (promo or content) and not capped, *messages,
                 np.ones(3, dtype=np.float32), f32(c.gain), self.trust, self.news_need)
        counts = chunks.sum(axis=0)
        held = np.flatnonzero(counts)  # bincount's length: minlength, or the largest + 1
        by_channel = counts[:max(3, held[-1] + 1 if len(held) else 0)]
        today.new_cost_operations += len(members) * s.cost.per_member_month / 30.0
        today.new_cost_channels += float(by_channel @ self.channel_cost)
        if capped:
            _message(members, False, u.fatigue, self.decay, u.channel, chunks, True, *messages,
                     self._moments_table(int(counts[WECOM])), f32(c.gain), self.trust,
                     self.news_need)
        if promo:
            today.promo, today.promo_depth = True, p.depth
            today.new_cost_campaigns += p.cost_per_campaign
        if content:
            today.content = True
            today.new_cost_content += c.cost_per_post

    def _moments_table(self, n_wecom: int) -> np.ndarray:
        """``_moments`` by channel (float32): the same values from the day's WeCom count."""
        t = self.cfg.touchpoints
        viewers = n_wecom * self.cfg.population.scale  # real WeCom members
        table = np.ones(3, dtype=np.float32)
        if viewers > t.moments_cap_views:
            seen = t.moments_cap_views / viewers
            table[WECOM] = np.float32(1 - t.moments_share + t.moments_share * seen)
        return table

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
