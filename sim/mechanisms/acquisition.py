"""Acquisition into the private domain by store staff.

Store staff (shopping guides) add the brand's in-store buyers to their personal
accounts and groups (DOMAIN.md: at Honor ~70% of sales are offline; seed 002: the
package-card add-friend rate is 20%+). Each store's accounts hold at most
``staff_per_store x friend_cap`` friends (personal WeChat: 5,000 each); buyers beyond
that are not added. Referral acquisition is its own mechanism.
"""

from __future__ import annotations

import numpy as np

from sim.columns import MEMBER, SOURCE_STORE
from sim.mechanisms.base import Mechanism


class Acquisition(Mechanism):
    name = "acquisition"

    def __init__(self, model):
        super().__init__(model)
        a = self.cfg.strategy.acquisition
        self.n_stores = int(self.users.store.max()) + 1 if self.users.n else 1
        # caps are in real friends; one simulated user stands for population.scale real ones
        self.capacity = max(1, a.staff_per_store * a.friend_cap // self.cfg.population.scale)
        # friends held by each store's staff accounts (store-recruited members still active)
        self.friends = np.zeros(self.n_stores, dtype=np.int64)

    def on_churn(self, ids: np.ndarray) -> None:
        u = self.users
        store_sourced = ids[u.source[ids] == SOURCE_STORE]
        np.subtract.at(self.friends, u.store[store_sourced], 1)

    def step(self, day: int) -> None:
        u, today = self.users, self.model.today
        cand = today.store_buyers
        if cand is None or len(cand) == 0:
            return
        p = self.cfg.strategy.acquisition.recruit_prob
        cand = cand[self.stream("recruit").uniform(cand, day) < p]
        if len(cand) == 0:
            return
        # friend caps: within each store, accept candidates in id order up to its free room
        store = u.store[cand]
        order = np.argsort(store, kind="stable")
        cand, store = cand[order], store[order]
        starts = np.flatnonzero(np.r_[True, store[1:] != store[:-1]])
        rank = np.arange(len(store)) - np.repeat(starts, np.diff(np.r_[starts, len(store)]))
        room = self.capacity - self.friends[store]
        ok = rank < room
        new = np.sort(cand[ok])
        np.add.at(self.friends, store[ok], 1)
        u.state[new] = MEMBER
        u.source[new] = SOURCE_STORE
        u.join_day[new] = day
        u.owned_before[new] = True  # they just bought the brand in store
        today.new_members_store += len(new)
        today.new_customers_store += len(new)
        self.model.joined(new, day)
