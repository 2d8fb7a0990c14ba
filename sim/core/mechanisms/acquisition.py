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

Newcomers land in the configured channel (``channel.landing``). Each store's staff accounts
hold at most ``staff_per_store x friend_cap`` friends (personal WeChat 5,000 each; WeCom more):
every member holding a staff-account touchpoint of the store counts, however they came; the
cap binds on the people staff add (in-store buyers, diverted followers, escalated group
members). Adding more than ``daily_add_limit`` friends per account in a day risks a ban
(``ban_hazard`` per excess add); an account younger than ``new_account_days`` (not warmed up)
has the stricter ``new_account_add_limit`` and ``new_account_ban_hazard`` (seed 002: new WeCom
accounts banned within two days). A banned account's friends lose the staff touchpoint and
the account is replaced by a new one; those who hold no other touchpoint (group, official
account) have left (DOMAIN.md).

Staff also add people who reach them through other touchpoints (DOMAIN.md, channel
combinations):

* **diversion**: official-account-only followers are moved to a staff account
  (``touchpoints.divert_per_month``; seed 003), keeping the official account;
* **escalation**: a group-only member's personal questions (prizes, complaints) are taken
  1:1 (seed 003): at the member's service-question rate x the segment's service need x
  ``touchpoints.escalate_share`` a day, the member is added to a staff account.
"""

from __future__ import annotations

import numpy as np

from sim.config import CHANNELS
from sim.core import jit
from sim.core.columns import (
    OFFICIAL_ACCOUNT,
    PERSONAL_WECHAT,
    SOURCE_STORE,
    TOUCH_GROUP,
    TOUCH_REACH,
    TOUCH_STAFF,
    WECOM,
    sort_by_key,
)
from sim.core.flows import bought_in_store
from sim.core.jit import NCHUNK, prange
from sim.core.mechanisms.base import COUNT, FIXED, Mechanism, Result
from sim.core.mechanisms.shared import per_day, staff_channel, staff_effort
from sim.core.population import segment_values

NOBODY = np.zeros(0, dtype=np.int64)


@jit.kernel(parallel=True)
def _select(members, column, mask, value, out):  # pragma: no cover - compiled
    """``members[(column[members] & mask) == value]`` into ``out`` (as long as ``members``);
    parallel over :data:`NCHUNK` chunks, each selecting from its own start in ``out``;
    returns how many each selected, for :func:`sim.core.jit.join`."""
    n = members.shape[0]
    nk = np.zeros(NCHUNK, np.int64)
    for c in prange(NCHUNK):
        lo, hi = n * c // NCHUNK, n * (c + 1) // NCHUNK
        ids, out_c = members[lo:hi], out[lo:hi]
        k = 0
        for j in range(ids.shape[0]):
            i = ids[j]
            if (column[i] & mask) == value:
                out_c[k] = i
                k += 1
        nk[c] = k
    return nk


def _selected(members: np.ndarray, column: np.ndarray, mask: int, value: int) -> np.ndarray:
    """:func:`_select` into a new array."""
    out = np.empty(len(members), dtype=members.dtype)
    t = column.dtype.type
    return out[:jit.join(out, _select(members, column, t(mask), t(value), out))]


class Acquisition(Mechanism):
    name = "acquisition"
    doc = "store staff add today's in-store buyers, within caps, risking bans"
    reads = ("strategy.acquisition", "dealer", "channel", "channels", "population.scale",
             "market.add_friend_rate", "market.segments", "strategy.service.incidents_per_year",
             "touchpoints.divert_per_month", "touchpoints.escalate_share", "mechanisms.touchpoints",
             "touchpoints.presale_join_prob", "market.launch_every_days")
    results = (
        Result("new_customers_store", "users", "in-store buyers added today (customers from "
               "their first day)", COUNT, total="new_customers_store"),
        Result("new_shadow_recruits", "users", "in-store buyers put into stores' own shadow "
               "groups instead of the brand's", COUNT, total="shadow_recruits"),
        Result("new_bans", "accounts", "staff accounts banned today", FIXED),
        Result("new_banned_friends", "users", "members who lost their staff account to a ban "
               "today (those holding no group or official account left: new_banned_lost)",
               COUNT, total="banned_friends"),
        Result("new_overflow", "users", "buyers staff could not add (accounts full) who "
               "followed the official account instead", COUNT, total="overflow"),
        Result("new_diverted", "users", "official-account followers moved to a staff account "
               "today", COUNT, total="diverted"),
        Result("new_escalated", "users", "group-only members taken 1:1 onto a staff account "
               "today", COUNT, total="escalated"),
        Result("new_cost_staff", "yuan", "store staff paid by the brand", FIXED, 0.0,
               total="cost_staff"),
    )

    def __init__(self, model):
        super().__init__(model)
        cfg = self.cfg
        a, d = cfg.strategy.acquisition, cfg.dealer
        self.landing = CHANNELS.index(cfg.channel.landing)
        self.staff_channel = staff_channel(self.landing)
        self.profile = cfg.channels.profiles()[self.staff_channel]
        self.n_stores = model.n_stores
        self.spp = a.staff_per_store
        scale = cfg.population.scale
        # caps are in real friends; one simulated user stands for population.scale real ones
        self.capacity = max(1, self.spp * self.profile.friend_cap // scale)
        self.effort = staff_effort(d)
        rate = cfg.market.add_friend_rate
        floor = d.add_effort_floor
        self.p_add = min(1.0, rate * (floor + (1 - floor) * self.effort) * (1 + d.group_gifts))
        # members holding a staff-account touchpoint of each store
        self.friends = np.zeros(self.n_stores, dtype=np.int64)
        # the day each staff account was opened (warmed-up accounts: long before the run)
        born = -10**6 if cfg.channel.accounts_warmed else 0
        self.born = np.full((self.n_stores, self.spp), born, dtype=np.int64)
        t = cfg.touchpoints
        on = cfg.mechanisms.touchpoints
        # official-account members exist only under that landing or its overflow
        followers = self.landing == OFFICIAL_ACCOUNT or cfg.channel.overflow_to_official_account
        self.p_divert = per_day(t.divert_per_month, 30.0) if on and followers else 0.0
        # group-only members exist only when presales pull prospects in or bans strip accounts
        alone = ((t.presale_join_prob > 0 and cfg.market.launch_every_days > 0)
                 or self.profile.ban_hazard > 0 or self.profile.new_account_ban_hazard > 0)
        need = segment_values(cfg.market.segments.profiles(), "service_need")
        self.p_escalate = (-np.expm1(-cfg.strategy.service.incidents_per_year / 365.0 * need
                                     * t.escalate_share) if on and alone else None)

    def init_state(self) -> None:
        self.on_join(self.model.members(), 0, 0)

    def on_join(self, ids: np.ndarray, day: int, source: int) -> None:
        u = self.users
        held = ids[(u.touch[ids] & TOUCH_STAFF) > 0]
        np.add.at(self.friends, u.store[held], 1)

    def on_leave(self, ids: np.ndarray, day: int) -> None:
        u = self.users
        held = ids[(u.touch[ids] & TOUCH_STAFF) > 0]
        np.subtract.at(self.friends, u.store[held], 1)

    def on_purchase(self, ids: np.ndarray, net: np.ndarray, day: int) -> None:
        """Seed 002: WeCom takes first orders, personal WeChat serves repeat customers."""
        if self.cfg.channel.transfer_on_purchase:
            u = self.users
            moved = ids[u.channel[ids] == WECOM]
            u.channel[moved] = PERSONAL_WECHAT
            self.model.changed("channel", moved)

    def step(self, day: int) -> None:
        today = self.model.today
        a = self.cfg.strategy.acquisition
        # staff the brand pays for (stores count in real users: not scaled again)
        today.new_cost_staff += self.n_stores * a.staff_per_store * self.cfg.dealer.staff_cost_per_month / 30
        added = [self._divert(day), self._escalate(day)]
        cand = today.store_buyers
        if cand is not None and len(cand):
            added.append(self._recruit(cand, day))
        stores = np.concatenate(added)
        if len(stores):
            self._bans(stores, day)

    def _room(self, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Candidates (sorted) the store accounts have room for, in id order within each store:
        ``(accepted, their stores, refused)``."""
        cand, store, rank = sort_by_key(cand, self.users.store[cand])
        ok = rank < self.capacity - self.friends[store]
        order = np.argsort(cand[ok], kind="stable")
        return cand[ok][order], store[ok][order], np.sort(cand[~ok])

    def _recruit(self, cand: np.ndarray, day: int) -> np.ndarray:
        """Today's in-store buyers asked to add the staff account; the stores that added."""
        u, today = self.users, self.model.today
        cand = cand[self.stream("recruit").uniform(cand, day) < self.p_add]
        shadow = self.stream("shadow").uniform(cand, day) < self.cfg.dealer.shadow_share
        today.new_shadow_recruits += int(shadow.sum())
        cand = cand[~shadow]
        if len(cand) == 0:
            return cand
        if self.landing == OFFICIAL_ACCOUNT:  # followers: no staff account, no cap
            new, stores, full = cand, cand[:0], cand[:0]
        else:
            new, stores, full = self._room(cand)
        bought_in_store(u, new)  # they just bought the brand in store
        today.new_customers_store += len(new)
        self.model.join(new, day, SOURCE_STORE)
        if self.cfg.channel.overflow_to_official_account and len(full):
            # seed 002: with the accounts full, the official account is the stopgap
            bought_in_store(u, full)
            today.new_customers_store += len(full)
            today.new_overflow += len(full)
            self.model.join(full, day, SOURCE_STORE, channel=OFFICIAL_ACCOUNT)
        return stores

    def _add(self, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Members ``cand`` (sorted) added to a staff account where there is room; the stores."""
        new, stores, _ = self._room(cand)
        np.add.at(self.friends, stores, 1)  # not a join: count the new friends here
        u = self.users
        u.touch[new] |= np.uint8(TOUCH_STAFF)
        u.channel[new] = self.staff_channel
        self.model.changed("channel", new)
        return new, stores

    def _divert(self, day: int) -> np.ndarray:
        if self.p_divert <= 0:
            return NOBODY
        u = self.users
        members = self.model.members()
        if jit.use(len(members)):  # (channel & -1) == channel: the same selection
            oa = _selected(members, u.channel, -1, OFFICIAL_ACCOUNT)
        else:
            oa = members[u.channel[members] == OFFICIAL_ACCOUNT]
        cand = oa[self.stream("divert").uniform(oa, day) < self.p_divert]
        new, stores = self._add(cand)
        self.model.today.new_diverted += len(new)
        return stores

    def _escalate(self, day: int) -> np.ndarray:
        if self.p_escalate is None:
            return NOBODY
        u = self.users
        members = self.model.members()
        if jit.use(len(members)):
            alone = _selected(members, u.touch, TOUCH_REACH, TOUCH_GROUP)
        else:
            touch = u.touch[members]
            alone = members[(touch & TOUCH_REACH) == TOUCH_GROUP]  # in a group, nothing else
        if len(alone) == 0:
            return NOBODY
        p = self.p_escalate[u.segment[alone]]
        new, stores = self._add(alone[self.stream("escalate").uniform(alone, day) < p])
        self.model.today.new_escalated += len(new)
        return stores

    def _bans(self, stores: np.ndarray, day: int) -> None:
        """Accounts that added too fast today may be banned and lose their friends.

        A store's adds are spread evenly over its accounts; each account's hazard is its own
        (warmed-up or new); a banned account is replaced by a new one opened today."""
        p = self.profile
        if (p.ban_hazard <= 0 and p.new_account_ban_hazard <= 0) or len(stores) == 0:
            return
        adds = np.bincount(stores, minlength=self.n_stores) * self.cfg.population.scale
        per_account = (adds / self.spp)[:, None]
        young = day - self.born < p.new_account_days
        limit = np.where(young, p.new_account_add_limit, p.daily_add_limit)
        hazard = np.where(young, p.new_account_ban_hazard, p.ban_hazard)
        excess = np.maximum(per_account - limit, 0.0) * hazard
        store, account = np.nonzero(excess > 0)
        if len(store) == 0:
            return
        key = store * self.spp + account
        hit = self.stream("ban").uniform(key, day) < -np.expm1(-excess[store, account])
        store, account = store[hit], account[hit]
        if len(store) == 0:
            return
        self.born[store, account] = day
        u = self.users
        lookup = np.zeros((self.n_stores, self.spp), dtype=bool)
        lookup[store, account] = True
        members = self.model.members()
        friends = members[((u.touch[members] & TOUCH_STAFF) > 0)
                          & (u.channel[members] == self.staff_channel)]
        lost = friends[lookup[u.store[friends], friends % self.spp]]
        np.subtract.at(self.friends, u.store[lost], 1)
        u.touch[lost] &= ~np.uint8(TOUCH_STAFF)
        self.model.today.new_bans += len(store)
        self.model.today.new_banned_friends += len(lost)
        self.model.leave(lost[(u.touch[lost] & TOUCH_REACH) == 0], day, banned=True)
