"""Membership: points, tiers and paid VIP (DOMAIN.md; Xibei: 299 yuan a year, ~2M super
users gave 40%+ of dine-in revenue).

Members earn points for spending (``points_per_yuan``) and for tasks (check-in, posting,
sharing: ``task_points_per_week``, in proportion to their group's activity). Lifetime points
set the tier (normal / senior / premium); each tier above normal adds brand choice and
lowers churn. A balance reaching ``redeem_at`` is redeemed: it costs the brand
``point_value`` per point and pleases the member. Paid VIP: members whose expected yearly
spend reaches ``vip_min_spend_year`` upgrade at ``vip_uptake_per_year``; a VIP pays the fee,
gets ``vip_discount`` on purchases, buys more often (``vip_frequency_mult`` on the need
hazard) and churns less; at the year's end the VIP renews with ``vip_renew_prob``.
"""

from __future__ import annotations

import math

import numpy as np

from sim.core.clocks import Clock
from sim.core.mechanisms.base import COUNT, MONEY, STOCK, Column, Mechanism, Result, clock_columns


class Membership(Mechanism):
    name = "membership"
    doc = "task points, tiers, redemptions, VIP upgrades and renewals"
    reads = ("strategy.membership", "market.price", "market.need_cycle_shape")
    columns = (
        Column("points", np.float64, 0.0, "points balance"),
        Column("points_total", np.float64, 0.0, "lifetime points (set the tier)"),
        Column("tier", np.int8, 0, "membership tier: 0 normal, 1 senior, 2 premium"),
        Column("vip_until", np.int32, -1, "last day of paid VIP, -1 = never"),
        *clock_columns("vip", "VIP upgrade"),
    )
    results = (
        Result("n_vip", "users", "members who are paying VIPs", STOCK),
        Result("new_redemptions", "users", "points balances redeemed today", COUNT),
        Result("new_vip_upgrades", "users", "members who became VIP today", COUNT),
        Result("new_cost_points", "yuan", "redeemed points", MONEY, 0.0, total="cost_points"),
        Result("new_fee_revenue", "yuan", "paid-VIP fees today", MONEY, 0.0,
               total="fee_revenue"),
    )

    def __init__(self, model):
        super().__init__(model)
        self.m = self.cfg.strategy.membership
        self.enabled = self.m.enabled or self.m.vip
        u = self.users
        self.vip_clock = Clock(u, "vip", self.stream("upgrade"))
        mk = self.cfg.market
        mean_cycle = u.need_scale.astype(np.float64) * math.gamma(1 + 1 / mk.need_cycle_shape)
        self.eligible = mk.price * u.spend * 365.0 / mean_cycle >= self.m.vip_min_spend_year

    def init_state(self) -> None:
        self.on_join(self.model.members(), 0, 0)

    def on_join(self, ids: np.ndarray, day: int, source: int) -> None:
        if self.m.vip:
            self.vip_clock.start(ids[self.eligible[ids]])

    def on_leave(self, ids: np.ndarray, day: int) -> None:
        self.vip_clock.stop(ids)

    def report(self, day: int, members: np.ndarray) -> dict[str, float]:
        if not self.m.vip:
            return {}
        return {"n_vip": int(np.count_nonzero(self.users.vip_until[members] >= day))}

    def on_purchase(self, ids: np.ndarray, net: np.ndarray, day: int) -> None:
        if self.m.enabled:
            pts = self.m.points_per_yuan * net
            self.users.points[ids] += pts
            self.users.points_total[ids] += pts

    def step(self, day: int) -> None:
        if not self.enabled:
            return
        u, m, today = self.users, self.m, self.model.today
        members = self.model.members()
        if m.enabled and len(members):
            task = m.task_points_per_week / 7.0 * self.model.group_activity(members)
            u.points[members] += task
            total = u.points_total[members] + task
            u.points_total[members] = total
            u.tier[members] = (total >= m.senior_points).astype(np.int8) + (total >= m.premium_points)
            redeem = members[u.points[members] >= m.redeem_at]
            if len(redeem):
                today.new_cost_points += float(u.points[redeem].sum()) * m.point_value
                sat = u.satisfaction[redeem]
                u.satisfaction[redeem] = np.clip(sat + m.redeem_gain * (1 - sat), 0.0, 1.0)
                u.points[redeem] = 0.0
                today.new_redemptions += len(redeem)
        if m.vip:
            self._vip(day, members)

    def _vip(self, day: int, members: np.ndarray) -> None:
        u, m, today = self.users, self.m, self.model.today
        cand = members[self.eligible[members] & (u.vip_until[members] < day)]
        up = self.vip_clock.advance(cand, m.vip_uptake_per_year / 365.0)
        if len(up):
            u.vip_until[up] = day + 365
            today.new_fee_revenue += len(up) * m.vip_fee
            today.new_vip_upgrades += len(up)
            self.vip_clock.fire(up)
            self.vip_clock.stop(up)
        ending = members[u.vip_until[members] == day]
        if len(ending):
            year = day // 365
            renew = ending[self.stream("renew").uniform(ending, year) < m.vip_renew_prob]
            u.vip_until[renew] = day + 365
            today.new_fee_revenue += len(renew) * m.vip_fee
            lapsed = np.setdiff1d(ending, renew)
            self.vip_clock.start(lapsed[self.eligible[lapsed]])

