"""Community groups (社群): who is in which group, how lively each group is, and death.

Members of personal-WeChat and WeCom accounts join their store's open group (capacity 500:
LITERATURE #37); official-account followers are in no group. Each group's activity
``a`` in [0, 1] moves every day by

    a += (staff + brand + koc + social) x (1 - a)  -  a / decay_days  -  promo_spam x promo

* ``staff``  = ``staff_lift x effort``: the store's staff effort, which rises with the share of
  private-domain sales attributed to the store (DOMAIN.md: store-run groups die because
  staff have no incentive and doubt online sales will be credited to them);
* ``brand``  = ``brand_lift`` on content and themed days when the brand operates groups
  (brand-central and co-build; seed 002: themed days lift activity);
* ``koc``    = ``koc_lift`` per post by the group's trained KOCs (Zeekr's volunteers);
* ``social`` = ``social_lift x a^2 x mean satisfaction``: members' own talk, which feeds on
  activity (accelerating: a lively group draws more talk), so with operator support groups
  tend to either take off or die (bimodal lifetimes, Qiu et al. 2016), and without any they
  fade.

A group below ``dead_below`` is dead. Members quit groups without leaving the private domain
(DOMAIN.md: the private domain is several touchpoints held at once): a member quits at a
daily hazard ``h x exp(touchpoints.group_exit_beta x (neutral - a))`` with ``h`` from
``touchpoints.group_exit_per_month`` (the share of a neutral group's members who quit in 30
days), so dead and spammed groups empty first (an integrated-hazard clock per member, stream
``groups.exit``). A member who quits keeps the staff account
and the official account; one who held only the group (pulled in at presale) has left.

A user's group activity is their group's (``groups.neutral_activity`` outside groups, or
with groups off): :meth:`sim.core.model.SiyuModel.group_activity`, a lookup of the user's
``group`` in :attr:`Groups.table` (the groups' activity and, last, the neutral value, where
group -1 lands). Churn (dead groups lose members), purchase (community members buy more),
referral (lively groups talk about the brand) and membership (task points) read it.
"""

from __future__ import annotations

import math

import numpy as np

from sim.core import jit
from sim.core.clocks import AppendClock
from sim.core.columns import (
    OFFICIAL_ACCOUNT,
    TOUCH_GROUP,
    TOUCH_REACH,
    Columns,
    sort_by_key,
)
from sim.core.jit import NCHUNK, prange
from sim.core.mechanisms.base import (
    COUNT,
    FIXED,
    LEVEL,
    Column,
    Mechanism,
    Result,
    clock_columns,
)
from sim.core.mechanisms.shared import koc_active, koc_posts, on_calendar, staff_effort
from sim.core.rng import Stream


class Groups(Mechanism):
    name = "groups"
    doc = "group activity moves (staff, brand, KOC posts, members' own talk, spam)"
    reads = ("groups", "population.scale", "dealer", "strategy.content", "strategy.koc_program",
             "mechanisms.koc", "touchpoints.group_exit_per_month", "touchpoints.group_exit_beta")
    columns = (
        Column("group", np.int32, -1, "community group id, -1 = none"),
        *clock_columns("group_exit", "group exit"),
    )
    results = (
        Result("n_groups_live", "groups", "groups with members", FIXED),
        Result("n_groups_dead", "groups", "groups with members whose activity is below "
               "groups.dead_below", FIXED),
        Result("new_cost_groups", "yuan", "operating live groups", FIXED, 0.0,
               total="cost_groups"),
        Result("new_group_exits", "users", "members who quit their group today (staying in the "
               "private domain if they hold another touchpoint)", COUNT, total="group_exits"),
        Result("new_group_leavers", "users", "of which held no other touchpoint and left the "
               "private domain", COUNT),
        Result("mean_group_activity", "0-1", "mean activity of groups with members", LEVEL,
               float("nan")),
    )

    def __init__(self, model):
        super().__init__(model)
        u, g = self.users, self.cfg.groups
        self.neutral = np.float32(g.neutral_activity)
        self.capacity = max(1, g.capacity // self.cfg.population.scale)
        self.n_stores = model.n_stores
        per_store = np.bincount(u.store, minlength=self.n_stores)
        self.slots = int(math.ceil(per_store.max() / self.capacity)) + 1
        n_groups = self.n_stores * self.slots
        # each group's activity, then the neutral value (index -1: a user in no group);
        # ``activity`` is the groups' part of it
        self.table = np.append(np.full(n_groups, g.initial_activity, dtype=np.float32),
                               self.neutral)
        self.activity = self.table[:-1]
        self.size = np.zeros(n_groups, dtype=np.int64)
        self.filled = np.zeros(self.n_stores, dtype=np.int64)  # members ever placed per store
        self.died_day = np.full(n_groups, -1, dtype=np.int32)
        self.opened_day = np.full(n_groups, -1, dtype=np.int32)
        self.effort = staff_effort(self.cfg.dealer)
        self.decay = 1.0 / g.decay_days
        self.koc = koc_active(self.cfg)
        x = self.cfg.touchpoints.group_exit_per_month
        self.exit_hazard = -math.log1p(-min(x, 1 - 1e-12)) / 30.0  # per day, neutral group
        # an integrated-hazard clock per group member: draws only when someone quits; its
        # hazard left kept in member order (inf outside groups)
        self.exit_clock = ExitClock(u, "group_exit", self.stream("exit"))

    def init_state(self) -> None:
        self.on_join(self.model.members(), 0, 0)

    def on_join(self, ids: np.ndarray, day: int, source: int) -> None:
        """Place newcomers (not official-account followers) in their store's open group."""
        u = self.users
        placed = u.channel[ids] != OFFICIAL_ACCOUNT
        if self.exit_hazard > 0 and not placed.all():
            self.exit_clock.enter(ids[~placed])  # members in no group: in the index, stopped
        ids = ids[placed]
        if len(ids) == 0:
            return
        ids, store, rank = sort_by_key(ids, u.store[ids])
        slot = np.minimum((self.filled[store] + rank) // self.capacity, self.slots - 1)
        gid = store * self.slots + slot
        u.group[ids] = gid
        self.model.changed("group", ids)
        u.touch[ids] |= np.uint8(TOUCH_GROUP)
        if self.exit_hazard > 0:
            self.exit_clock.start(ids)
        np.add.at(self.filled, store, 1)
        np.add.at(self.size, gid, 1)
        new = gid[self.opened_day[gid] < 0]
        self.opened_day[new] = self.model.steps
        self.activity[new] = self.cfg.groups.initial_activity

    def on_leave(self, ids: np.ndarray, day: int) -> None:
        self.exit_clock.stop(ids)
        u = self.users
        gid = u.group[ids]
        np.subtract.at(self.size, gid[gid >= 0], 1)
        # out of the group too: one who comes back as an official-account follower (in no
        # group) must not be counted in the old one again
        u.group[ids] = -1
        self.model.changed("group", ids)

    def step(self, day: int) -> None:
        u, g, today = self.users, self.cfg.groups, self.model.today
        live = self.size > 0
        members = self.model.members()
        fused = jit.use(len(members))
        ids = members  # what the kernels pass over: the clock's slots, else the members
        if fused:  # the four lines below in one pass (_group_sums)
            if self.exit_hazard > 0:  # the members' groups, kept by the clock in its slots
                ids = self.exit_clock.over(members, day)
                gid = self.exit_clock.groups()
                count, sat_sum = _group_sums(ids, gid, True, u.satisfaction, gid,
                                             len(self.size), members, u.group)
            else:
                gid = np.empty(len(members), dtype=u.group.dtype)
                count, sat_sum = _group_sums(members, u.group, False, u.satisfaction, gid,
                                             len(self.size), members, u.group)
            n = count.astype(np.float32)
        else:
            gid = u.group[members]
            in_group = gid >= 0
            gm = gid[in_group]
            n = np.bincount(gm, minlength=len(self.size)).astype(np.float32)
            sat_sum = np.bincount(gm, weights=u.satisfaction[members][in_group],
                                  minlength=len(n))
        mean_sat = np.where(n > 0, sat_sum / np.maximum(n, 1), 0.0)
        a = self.activity
        stim = g.staff_lift * self.effort + g.social_lift * a * a * mean_sat
        content = self.cfg.strategy.content
        themed = on_calendar(day, content.themed_days_per_week)
        if self.cfg.dealer.brand_operates:
            stim = stim + g.brand_lift * (themed + today.content)
            if themed:
                today.new_cost_content += content.cost_per_post
        if self.koc:
            stim = stim + g.koc_lift * koc_posts(self.cfg, u.koc[ids], gid, len(n))
        a = a + stim * (1 - a) - a * self.decay - g.promo_spam * today.promo
        a = np.clip(a, 0.0, 1.0).astype(np.float32)
        self.activity[:] = np.where(live, a, self.activity)  # in the table members read
        dead = live & (self.activity < g.dead_below)
        self.died_day[dead & (self.died_day < 0)] = day
        self.died_day[live & ~dead] = -1  # revived
        alive = live & ~dead
        today.new_cost_groups += np.count_nonzero(alive) * g.cost_per_group_month / 30.0
        if fused:
            self._exits_fused(ids, gid, day)
        else:
            self._exits(members, gid, in_group, day)
        today.n_groups_live = int(np.count_nonzero(live))
        today.n_groups_dead = int(np.count_nonzero(dead))
        today.mean_group_activity = (float(self.activity[live].mean()) if live.any()
                                     else float("nan"))

    def _exits(self, members: np.ndarray, gid: np.ndarray, in_group: np.ndarray,
               day: int) -> None:
        """Members quit their group; those left with no reachable touchpoint leave."""
        if self.exit_hazard <= 0:
            return
        # per group (few), then one gather per member; the clock follows all the members, and
        # those in no group hold inf (stopped): 0 leaves them so, and they never fire
        h_group = self._exit_hazards()
        h = np.where(in_group, h_group[np.maximum(gid, 0)], 0.0)
        fired = self.exit_clock.advance(members, h)
        self._quit(fired, day)

    def _exit_hazards(self) -> np.ndarray:
        """Each group's daily exit hazard (float32, from its activity)."""
        g, beta = self.cfg.groups, self.cfg.touchpoints.group_exit_beta
        return self.exit_hazard * np.exp(beta * (g.neutral_activity - self.activity))

    def _exits_fused(self, ids: np.ndarray, gid: np.ndarray, day: int) -> None:
        """:meth:`_exits` by one kernel (:func:`_advance_exits`) over the exit clock's slots
        (its append layout: ``ids``, their groups ``gid``), compact arrays only."""
        if self.exit_hazard <= 0:
            return
        pos = np.empty(len(ids), dtype=np.int64)
        h_ext = np.append(self._exit_hazards(), np.float32(0.0))  # group -1: the last, 0
        nf = jit.join(pos, _advance_exits(gid, self.exit_clock.left, h_ext,
                                          pos))
        self._quit(self.exit_clock.fired_at(pos[:nf].copy()), day)  # sorted by id

    def _quit(self, fired: np.ndarray, day: int) -> None:
        """Members ``fired`` (their exit clock fired) quit their group."""
        if len(fired) == 0:
            return
        u = self.users
        self.exit_clock.k[fired] += 1  # the next group's threshold is a fresh draw
        self.exit_clock.quit(fired)
        ids, gm = fired, u.group[fired]
        np.subtract.at(self.size, gm, 1)
        u.group[ids] = -1
        self.model.changed("group", ids)
        u.touch[ids] &= ~np.uint8(TOUCH_GROUP)
        gone = ids[(u.touch[ids] & TOUCH_REACH) == 0]
        self.model.today.new_group_exits += len(ids)
        self.model.today.new_group_leavers += len(gone)
        self.model.leave(gone, day)


class ExitClock(AppendClock):
    """The group exit clock over the members index (:class:`AppendClock`): the members in
    no group (official-account followers, members who quit) are in the index too, with the
    clock stopped (inf), so the index is the model's members and a quit does not change it
    (:meth:`stop` would take the member out of the index). It also keeps the members'
    ``group`` column in its order (a rider, set to -1 by :meth:`quit`, the only change to a
    member's group while a member, and in a dead slot of the append layout)."""

    def __init__(self, table: Columns, name: str, stream: Stream):
        super().__init__(table, name, stream)
        self._group = self.follow(lambda: table.group)

    def groups(self) -> np.ndarray:
        """``u.group[ids]`` for the append layout's slots (:attr:`ids`; -1 in a dead slot),
        from the compact copy (not a copy: do not write to it)."""
        gid = self.rider(self._group)
        if self.check_all:
            ids = self.ids
            live = ids >= 0
            if not (np.array_equal(gid[live], self.table.group[ids[live]])
                    and (gid[~live] == -1).all()):
                raise AssertionError("groups: the compact group ids differ from the column")
        return gid

    def enter(self, ids: np.ndarray) -> None:
        """Members ``ids`` who joined in no group (the clock not started): they enter the
        index (at the next alignment, or now in the append layout) with their column's value
        (inf)."""
        if len(ids) == 0:
            return
        if self.appending:
            new = ids[~self.holds(ids)]
            if len(new):
                self._append(new, self._column[new])
            return
        _, inside = self._locate(ids)
        if not inside.all():
            self._added.append(ids[~inside])

    def stop(self, ids: np.ndarray) -> None:
        at = self.halt(ids)
        if self.appending and len(at):
            self.rider(self._group)[at] = -1

    def quit(self, ids: np.ndarray) -> None:
        """Stop the clock of members ``ids`` who quit their group and stay members."""
        at = self.halt(ids, leaving=False)
        if len(at):
            self.rider(self._group)[at] = -1


# the members' satisfaction in fixed point, in units of 2**-40 (see _group_sums)
_FIXED = 2.0**40
_TALLY_PARTS = 4  # parts of the exact tally, each with its own sums (not the thread count)
_EXACT_MAX = 2**13  # members in a group below which its fixed-point sums stay exact


def _group_sums(ids: np.ndarray, group: np.ndarray, compact: bool,
                satisfaction: np.ndarray, gid: np.ndarray, n_groups: int,
                members: np.ndarray, column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The groups' member counts (int64) and satisfaction sums (float64) of
    :meth:`Groups.step`: ``np.bincount(gm)`` and ``np.bincount(gm, weights=
    u.satisfaction[members][in_group])``, float64 sums in member order (``members``, the
    sorted index; ``column``: ``u.group``). The pass runs over ``ids``, the members in any
    order (-1: no one), in groups ``group`` (``compact``: in the order of ``ids``) or else
    the column ``group[ids]``, written into ``gid``.

    A float sum's order is its value, so a sum split across threads is not numpy's in
    general, but here it is whenever every sum is exact: when each satisfaction is a
    multiple of 2**-40 in [0, 1] (a float32 from 2**-17 up, or 0) and no group has 2**13
    members, every partial sum in member order is a multiple of 2**-40 below 2**13, which a
    float64 holds exactly, so adding in member order rounds nothing and gives the exact sum,
    whatever the order. :func:`_tally_exact` sums the fixed-point integers in parallel and
    checks those conditions; when one fails the day is summed serially, in member order
    (:func:`_gather`, :func:`_tally`)."""
    count = np.zeros((_TALLY_PARTS, n_groups + 1), dtype=np.int64)  # + the no-group column
    total = np.zeros((_TALLY_PARTS, n_groups + 1), dtype=np.int64)
    bad = _tally_exact(ids, group, compact, satisfaction, gid, count, total)
    count = count[:, :n_groups].sum(axis=0)
    if not bad.any() and (n_groups == 0 or count.max() < _EXACT_MAX):
        return count, total[:, :n_groups].sum(axis=0) * (1.0 / _FIXED)  # exact: < 2**53
    count = np.zeros(n_groups, dtype=np.int64)
    sat_sum = np.zeros(n_groups, dtype=np.float64)
    in_order = np.empty(len(members), dtype=column.dtype)
    sat = np.empty(len(members), dtype=satisfaction.dtype)
    _gather(members, column, False, satisfaction, in_order, sat)
    _tally(in_order, sat, count, sat_sum)
    return count, sat_sum


@jit.kernel(parallel=True)
def _tally_exact(members, group, compact, satisfaction, gid, count, total):  # pragma: no cover
    """:func:`_group_sums`'s parallel pass: in part ``p`` of ``count.shape[0]`` (fixed) of
    the members, ``count[p, g]`` += 1 and ``total[p, g]`` += satisfaction x 2**40 (an
    integer) for each member in group ``g`` (``group[j]`` in member order if ``compact``,
    else the column ``group[m]``, written into ``gid``). Returns per part whether a
    satisfaction was not a multiple of 2**-40 in [0, 1] (NaN included): then the integer
    sums are not numpy's."""
    n = members.shape[0]
    parts = count.shape[0]
    bad = np.zeros(parts, np.bool_)
    for p in prange(parts):
        lo, hi = n * p // parts, n * (p + 1) // parts
        ids, gid_c = members[lo:hi], gid[lo:hi]
        group_c = group[lo:hi] if compact else group
        count_p, total_p = count[p], total[p]
        b = False
        for j in range(ids.shape[0]):
            m = ids[j]
            if compact:
                g = group_c[j]
            else:
                g = group_c[m]
                gid_c[j] = g
            # a member in no group (g = -1) is tallied in the last column, which the caller
            # drops: no branch on g (members in and out of groups alternate at random)
            x = np.float64(satisfaction[m]) * _FIXED
            if x >= 0 and x <= _FIXED:  # false for NaN
                xi = np.int64(x)
                b |= (xi != x) & (g >= 0)
                total_p[g] += xi
            elif g >= 0:
                b = True
            count_p[g] += 1
        bad[p] = b
    return bad


@jit.kernel(parallel=True)
def _gather(members, group, compact, satisfaction, gid, sat):  # pragma: no cover - compiled
    """The gathers of :meth:`Groups.step`'s tally, in parallel over :data:`NCHUNK` chunks:
    ``gid = u.group[members]`` (``group`` is that already if ``compact``: the clock's copy
    in member order; else the column, gathered into ``gid``) and ``sat =
    u.satisfaction[members]`` for the members in a group (the others' entries are not
    written)."""
    n = members.shape[0]
    for c in prange(NCHUNK):
        lo, hi = n * c // NCHUNK, n * (c + 1) // NCHUNK
        ids, gid_c, sat_c = members[lo:hi], gid[lo:hi], sat[lo:hi]
        group_c = group[lo:hi] if compact else group
        for j in range(ids.shape[0]):
            m = ids[j]
            if compact:
                g = group_c[j]
            else:
                g = group_c[m]
                gid_c[j] = g
            if g >= 0:
                sat_c[j] = satisfaction[m]


@jit.kernel
def _tally(gid, sat, count, sat_sum):  # pragma: no cover - compiled
    """``gm = gid[gid >= 0]``, ``n = np.bincount(gm)`` (into ``count``, int64) and ``sat_sum
    = np.bincount(gm, weights=u.satisfaction[members][in_group])`` on the gathered arrays
    (:func:`_gather`): float64 sums in member order, as numpy's (one thread: the order of a
    float sum is its value)."""
    for j in range(gid.shape[0]):
        g = gid[j]
        if g >= 0:
            count[g] += 1
            sat_sum[g] += np.float64(sat[j])


@jit.kernel(parallel=True)
def _advance_exits(gid, left, h_group, fired):  # pragma: no cover - compiled
    """:meth:`Groups._exits`'s ``exit_clock.advance(members, h)`` on the clock's compact
    hazard left ``left`` (its slots, in groups ``gid``): ``left -= h_group[gid]`` in float64
    (the float32 hazard widened exactly) for the members in a group; the others (and dead
    slots: group -1) subtract ``h_group[-1]``, 0, from the inf they hold, which leaves it
    (no branch on the group: members in and out of groups alternate at random), and fire
    none. Parallel over :data:`NCHUNK` chunks, each listing the positions that fired from
    its own start in ``fired`` (as long as ``gid``); returns how many each fired, for
    :func:`sim.core.jit.join` (slot order)."""
    n = gid.shape[0]
    nf = np.zeros(NCHUNK, np.int64)
    for c in prange(NCHUNK):
        lo, hi = n * c // NCHUNK, n * (c + 1) // NCHUNK
        gid_c, left_c, fired_c = gid[lo:hi], left[lo:hi], fired[lo:hi]
        k = 0
        for j in range(gid_c.shape[0]):
            x = left_c[j] - np.float64(h_group[gid_c[j]])
            left_c[j] = x
            if x <= 0 and gid_c[j] >= 0:
                fired_c[k] = lo + j
                k += 1
        nf[c] = k
    return nf
