"""Acquisition into the private domain by store staff, shaped by the dealer mode.

Store staff (shopping guides) add the brand's in-store buyers to their accounts (DOMAIN.md:
at Honor ~70% of sales are offline; seed 002: the package-card add-friend rate is 20%+).
How hard they try depends on their incentives (DOMAIN.md, three dealer modes): staff effort
is ``effort_base + effort_per_attribution x attribution`` (store-run staff doubt online sales
will be credited to them; co-build credits mini-program sales to the store), and the add
probability is ``market.add_friend_rate x (floor + (1 - floor) x effort) x (1 + group_gifts)``
with ``floor = dealer.add_effort_floor`` (co-build pulls users into groups at presale with
group-only gifts). Stores that distrust the brand divert
``shadow_share`` of the users they add into their own shadow groups, out of the brand's
private domain (brand-central).

Newcomers land in the configured channel (``channel.landing``). Each store's accounts hold
at most ``staff_per_store x friend_cap`` friends (personal WeChat 5,000 each; WeCom more).
Adding more than ``daily_add_limit`` real friends per account in a day risks a ban
(``ban_hazard`` per excess add): a banned account loses all its friends (DOMAIN.md).
"""

from __future__ import annotations

import numpy as np

from sim.config import CHANNELS
from sim.core.columns import (
    OFFICIAL_ACCOUNT,
    PERSONAL_WECHAT,
    SOURCE_STORE,
    WECOM,
    sort_by_key,
)
from sim.core.mechanisms.base import COUNT, FIXED, Mechanism, Result
from sim.core.mechanisms.shared import staff_effort


class Acquisition(Mechanism):
    name = "acquisition"
    doc = "store staff add today's in-store buyers, within caps, risking bans"
    reads = ("strategy.acquisition", "dealer", "channel", "channels", "population.scale",
             "market.add_friend_rate")
    results = (
        Result("new_customers_store", "users", "in-store buyers added today (customers from "
               "their first day)", COUNT, total="new_customers_store"),
        Result("new_shadow_recruits", "users", "in-store buyers put into stores' own shadow "
               "groups instead of the brand's", COUNT, total="shadow_recruits"),
        Result("new_bans", "accounts", "staff accounts banned today", FIXED),
        Result("new_overflow", "users", "buyers staff could not add (accounts full) who "
               "followed the official account instead", COUNT, total="overflow"),
        Result("new_cost_staff", "yuan", "store staff paid by the brand", FIXED, 0.0,
               total="cost_staff"),
    )

    def __init__(self, model):
        super().__init__(model)
        cfg = self.cfg
        a, d = cfg.strategy.acquisition, cfg.dealer
        self.landing = CHANNELS.index(cfg.channel.landing)
        self.profile = cfg.channels.profiles()[self.landing]
        self.n_stores = model.n_stores
        scale = cfg.population.scale
        # caps are in real friends; one simulated user stands for population.scale real ones
        self.capacity = max(1, a.staff_per_store * self.profile.friend_cap // scale)
        self.effort = staff_effort(d)
        rate = cfg.market.add_friend_rate
        floor = d.add_effort_floor
        self.p_add = min(1.0, rate * (floor + (1 - floor) * self.effort) * (1 + d.group_gifts))
        # friends held by each store's staff accounts (store-recruited members still active)
        self.friends = np.zeros(self.n_stores, dtype=np.int64)

    def on_leave(self, ids: np.ndarray, day: int) -> None:
        u = self.users
        store_sourced = ids[u.source[ids] == SOURCE_STORE]
        np.subtract.at(self.friends, u.store[store_sourced], 1)

    def on_purchase(self, ids: np.ndarray, net: np.ndarray, day: int) -> None:
        """Seed 002: WeCom takes first orders, personal WeChat serves repeat customers."""
        if self.cfg.channel.transfer_on_purchase:
            u = self.users
            u.channel[ids[u.channel[ids] == WECOM]] = PERSONAL_WECHAT

    def step(self, day: int) -> None:
        u, today = self.users, self.model.today
        a = self.cfg.strategy.acquisition
        # staff the brand pays for (stores count in real users: not scaled again)
        today.new_cost_staff += self.n_stores * a.staff_per_store * self.cfg.dealer.staff_cost_per_month / 30
        cand = today.store_buyers
        if cand is None or len(cand) == 0:
            return
        cand = cand[self.stream("recruit").uniform(cand, day) < self.p_add]
        shadow = self.stream("shadow").uniform(cand, day) < self.cfg.dealer.shadow_share
        today.new_shadow_recruits += int(shadow.sum())
        cand = cand[~shadow]
        if len(cand) == 0:
            return
        # friend caps: within each store, accept candidates in id order up to its free room
        cand, store, rank = sort_by_key(cand, u.store[cand])
        ok = rank < self.capacity - self.friends[store]
        new = np.sort(cand[ok])
        np.add.at(self.friends, store[ok], 1)
        u.owned_before[new] = True  # they just bought the brand in store
        today.new_customers_store += len(new)
        self.model.join(new, day, SOURCE_STORE)
        self._bans(store[ok], day)
        full = np.sort(cand[~ok])
        if self.cfg.channel.overflow_to_official_account and len(full):
            # seed 002: with the accounts full, the official account is the stopgap
            u.owned_before[full] = True
            today.new_customers_store += len(full)
            today.new_overflow += len(full)
            self.model.join(full, day, SOURCE_STORE, channel=OFFICIAL_ACCOUNT)

    def _bans(self, stores: np.ndarray, day: int) -> None:
        """Accounts that added too fast today may be banned and lose their friends."""
        p, a = self.profile, self.cfg.strategy.acquisition
        if p.ban_hazard <= 0 or len(stores) == 0:
            return
        adds = np.bincount(stores, minlength=self.n_stores) * self.cfg.population.scale
        excess = np.maximum(adds / a.staff_per_store - p.daily_add_limit, 0.0)
        risky = np.flatnonzero(excess > 0)
        if len(risky) == 0:
            return
        p_ban = -np.expm1(-p.ban_hazard * excess[risky])
        banned_store = risky[self.stream("ban").uniform(risky, day) < p_ban]
        if len(banned_store) == 0:
            return
        # the banned account: one of the store's staff, its friends = users with that account
        account = (self.stream("ban_account").uniform(banned_store, day)
                   * a.staff_per_store).astype(np.int64)
        u = self.users
        members = self.model.members()
        lookup = np.full(self.n_stores, -1, dtype=np.int64)  # banned account per store, -1 none
        lookup[banned_store] = account
        want = lookup[u.store[members]]
        cand = members[want >= 0]
        want = want[want >= 0]
        lost = cand[(u.source[cand] == SOURCE_STORE) & (u.channel[cand] == self.landing)
                    & (cand % a.staff_per_store == want)]
        self.model.today.new_bans += len(banned_store)
        self.model.leave(lost, day, banned=True)
