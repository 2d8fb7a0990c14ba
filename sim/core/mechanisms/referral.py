"""Word of mouth from every owner ("old brings new", DOMAIN.md), amplified by the community.

Every brand owner recommends the brand on a clock whose daily hazard is ``per_year/365 x
sociability x segment referral_mult x (1 + reward_lift x reward) x (satisfaction /
pivot)^satisfaction_power`` (satisfied users, promoters, recommend; the steep power is an
assumption). A member's recommendations are amplified by the private domain: x ``exp(
referral_lift x (group activity - neutral))`` (lively groups get people talking; dead ones do
not) and x the KOC program's trained multiplier. Owners outside the private domain (never
members, or former members) keep recommending at their base rate: leaving a group is not
leaving the brand.

A recommendation goes to one graph neighbour (recommendations only follow graph edges). A
neighbour who is still a prospect:

* from a member, registers in the private domain with probability
  ``market.funnel.register_prob`` (x the KOC's trained conversion, x what the friend has heard
  of the brand) and joins as a lead of the funnel (registration -> trial -> purchase);
* from anyone (a member's friend who did not register, or any owner's), hears it: the
  ``recommended`` column rises by ``organic_lift`` (x their brand choice, fading with
  ``memory_halflife_days``), and the recommender is remembered, so a first brand purchase
  that follows counts as a referral on NIO's basis (all new brand buyers).
"""

from __future__ import annotations

import math

import numpy as np

from sim.core import jit
from sim.core.clocks import AppendClock
from sim.core.clocks import id_dtype as _id_dtype
from sim.core.clocks import room as _room
from sim.core.columns import MEMBER, PROSPECT, SOURCE_REFERRAL, unique
from sim.core.jit import NCHUNK, prange
from sim.core.mechanisms.base import COUNT, Column, Mechanism, Result, clock_columns
from sim.core.mechanisms.shared import koc_active, koc_mult
from sim.core.population import segment_values


@jit.kernel(parallel=True)
def _fade(heard, recommended, fade, is_heard, forget, keep):  # pragma: no cover - compiled
    """``recommended[heard] *= fade`` (float32, one gather-multiply-scatter per user; the
    index is unique); with ``forget``, also drop from the index (``is_heard`` and ``keep``)
    those whose memory underflowed to 0 (``keep`` may be ``heard`` itself). Parallel over
    :data:`NCHUNK` chunks: each keeps its users from its own start in ``keep``; returns how
    many each kept, for :func:`sim.core.jit.join`."""
    n = heard.shape[0]
    nk = np.zeros(NCHUNK, np.int64)
    for c in prange(NCHUNK):
        lo, hi = n * c // NCHUNK, n * (c + 1) // NCHUNK
        ids, keep_c = heard[lo:hi], keep[lo:hi]
        k = 0
        for i in range(ids.shape[0]):
            u = ids[i]
            v = recommended[u] * fade
            recommended[u] = v
            if forget:
                if v == 0:
                    is_heard[u] = False
                else:
                    keep_c[k] = u
                    k += 1
        nk[c] = k
    return nk


# exp(0) is 1 exactly (the kernels' owners outside the private domain get x exp(0) = x 1,
# which leaves their hazard unchanged as the numpy code does by not computing it)
_EXP0_IS_1 = bool((np.exp(np.zeros(67, dtype=np.float32)) == 1).all())


@jit.kernel(parallel=True)
def _owner_hazard(ids, sat, inv_pivot, power, factor, base, state, member, group, amp,
                  amplify, advance, hazard, left, out):  # pragma: no cover - compiled
    """The owners' hazard, float32: ``(sat[ids] * inv_pivot) ^ power`` by squaring (power 2
    or 4; else ``factor``, computed by numpy) x ``base`` (the clock's rider), x for members
    (when ``amplify``) the private domain's amplification ``amp[group]`` (``group``: the
    owners' groups in the order of ``ids``, the clock's copy): ``exp(lift x (group
    activity - neutral))`` per group (numpy's ``exp`` of each group's value, the neutral
    one last, where group -1 lands: the value the numpy lines compute per member). The
    lines of :meth:`Referral._advance_numpy` from ``_satisfaction_factor`` to the ``exp``,
    over every owner instead of the members' positions (outside the private domain the
    factor is exp(0) = 1 there).

    With ``advance``, the clock's advance on the compact hazard left follows for each
    owner: ``left -= hazard`` (the float32 hazard widened exactly), the positions whose
    ``left <= 0`` into ``out``; without, the hazard goes into ``hazard`` (for the KOC
    factor to follow in numpy). Parallel over :data:`NCHUNK` chunks, each listing its
    positions from its own start in ``out`` (as long as ``ids``); returns how many each
    listed, for :func:`sim.core.jit.join`."""
    n = ids.shape[0]
    nf = np.zeros(NCHUNK, np.int64)
    for c in prange(NCHUNK):
        lo, hi = n * c // NCHUNK, n * (c + 1) // NCHUNK
        ids_c, base_c, group_c = ids[lo:hi], base[lo:hi], group[lo:hi]
        hazard_c = hazard if advance else hazard[lo:hi]
        left_c, out_c = (left[lo:hi], out[lo:hi]) if advance else (left, out)
        factor_c = factor[lo:hi] if power != 4 and power != 2 else factor
        k = 0
        for i in range(ids_c.shape[0]):
            u = ids_c[i]
            if power == 4:
                r = sat[u] * inv_pivot
                r = r * r
                r = r * r
            elif power == 2:
                r = sat[u] * inv_pivot
                r = r * r
            else:
                r = factor_c[i]
            h = r * base_c[i]
            if amplify and state[u] == member:
                h = h * amp[group_c[i]]
            if advance:
                v = left_c[i] - np.float64(h)
                left_c[i] = v
                if v <= 0:
                    out_c[k] = lo + i
                    k += 1
            else:
                hazard_c[i] = h
        nf[c] = k
    return nf


class OwnerClock(AppendClock):
    """The owners' clock: an :class:`AppendClock` over an index that only grows (owners stay
    owners: nothing stops this clock; an event restarts it). The kernels keep it in the
    append layout; the owners outside the private domain are taken out of it
    (:meth:`AppendClock.remove`) and filed (:class:`FrozenOwners`), and put back
    (:meth:`AppendClock.insert`) when they return."""


class DueQueue:
    """(due day, id) pairs taken day by day: an array sorted by day, read from its head, and
    the pairs added since it was last merged, kept unsorted beside it and merged into it
    every :attr:`MERGE_EVERY` days in one pass. Of those, only the pairs due before the next
    merge are scanned each day; the others wait unread for it. Filing costs no Python work
    per day filed (a calendar of per-day lists would, for dues spread over years). Ids and
    days are kept as int32 (ids of a population below 2**31; the due days of the filed
    clocks that run out, below ``FrozenOwners.NEVER``)."""

    MERGE_EVERY = 32  # days

    def __init__(self):
        self._due = np.zeros(0, dtype=np.int32)
        self._ids = np.zeros(0, dtype=np.int32)
        self._head = 0
        self._until = 0  # pairs due before this day are scanned daily; the rest wait
        self._near: list[tuple[np.ndarray, np.ndarray]] = []  # (ids, due), due < _until
        self._far: list[tuple[np.ndarray, np.ndarray]] = []   # due >= _until

    def add(self, ids: np.ndarray, due: np.ndarray) -> None:
        if not len(ids):
            return
        ids, due = ids.astype(np.int32), due.astype(np.int32)
        near = due < self._until
        if near.all():
            self._near.append((ids, due))
        elif not near.any():
            self._far.append((ids, due))
        else:
            self._near.append((ids[near], due[near]))
            self._far.append((ids[~near], due[~near]))

    def take(self, day: int) -> np.ndarray:
        """Every id due on or before ``day`` not taken yet (unsorted, may repeat)."""
        if day >= self._until:  # the waiting pairs may be due: merge everything first
            self._merge()
            self._until = (day // self.MERGE_EVERY + 1) * self.MERGE_EVERY
        due = self._due[self._head:]  # the day as an int32 too (else numpy converts the array)
        end = self._head + int(np.searchsorted(due, due.dtype.type(day), side="right"))
        out = self._ids[self._head:end]
        self._head = end
        if self._near:
            ids, due = _joined(self._near)
            now = due <= day
            if now.any():
                out = np.concatenate([out, ids[now]])
                ids, due = ids[~now], due[~now]
            self._near = [(ids, due)] if len(ids) else []
        return out

    def _merge(self) -> None:
        pairs = self._near + self._far
        self._near, self._far = [], []
        if not pairs:
            return
        pids, pdue = _joined(pairs)
        order = np.argsort(pdue, kind="stable")
        pids, pdue = pids[order], pdue[order]
        due, ids = self._due[self._head:], self._ids[self._head:]
        at = np.searchsorted(due, pdue, side="right")
        self._due, self._ids = jit.insert(due, at, pdue), jit.insert(ids, at, pids)
        self._head = 0


def _joined(pairs: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The (ids, due) pairs of a list of such arrays, as two arrays."""
    if len(pairs) == 1:
        return pairs[0]
    return (np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs]))


def _multiple(h: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """``np.fmod(h, unit) == 0`` for finite ``h >= 0`` and powers of two ``unit > 0``
    (``np.spacing`` of a positive float): ``h / unit`` is then exact (a product by a power of
    two; an overflow to inf only where the ratio is at least 2**53, and ``h`` a multiple), so
    ``h`` is a multiple of ``unit`` exactly when the ratio is whole. ``fmod`` takes a step per
    bit of the ratio's exponent (~30 here); this takes one division."""
    with np.errstate(over="ignore"):
        r = h / unit
    return r == np.floor(r)


class FrozenOwners:
    """The referral clocks of owners outside the private domain, in the kernels' layout.

    Such an owner's daily hazard does not change while they stay outside (their satisfaction,
    sociability and segment do not; nothing amplifies it), so instead of subtracting it from
    their hazard left every day, the day it runs out is computed once, when they come out of
    the daily pass (a new owner, a member who leaves, a recommendation that restarts the
    clock), and they are filed in a calendar under that day. The daily pass then runs over
    the members' clocks only.

    The computed day is the one the daily subtraction gives, bit for bit: ``left`` (float64)
    minus ``h`` (a float32 hazard) is exact as long as ``h`` is a whole multiple of the
    spacing of the float64 numbers around ``left`` (which holds once ``left < 2**29 h``), and
    every later difference is then exact too. So with ``L = left / spacing(left)`` and ``H = h
    / spacing(left)`` (integers), the k-th day's value is ``(L - k H) spacing(left)`` and the
    clock fires on day ``ceil(L / H)``, both in integer arithmetic. An owner for whom this
    does not hold (a vanishing hazard) stays in the daily pass. When one comes back into the
    private domain the value left after the days passed is computed the same way and their
    clock goes back into the daily pass."""

    NEVER = np.iinfo(np.int32).max  # the due day of a zero hazard

    def __init__(self, n_users: int):
        self.left = np.zeros(n_users)                        # hazard left when filed
        self.h = np.zeros(n_users, dtype=np.float32)         # the daily hazard
        self.day0 = np.full(n_users, -1, dtype=np.int32)     # the last day counted; -1: not here
        self.due = np.full(n_users, -1, dtype=np.int32)      # the day the clock runs out
        self.queue = DueQueue()
        self.count = 0

    def file(self, ids: np.ndarray, left: np.ndarray, h: np.ndarray, day0: int) -> np.ndarray:
        """File ``ids`` (not filed) with hazard left ``left`` after day ``day0`` and daily
        hazard ``h`` (float64 of a float32); returns which could not be (kept in the daily
        pass)."""
        unit = np.spacing(left)
        ok = np.isfinite(left) & (left > 0) & np.isfinite(h) & (h >= 0)
        ok[ok] = _multiple(h[ok], unit[ok])
        ids, left, h, unit = ids[ok], left[ok], h[ok], unit[ok]
        big = h > left  # runs out on the first day
        L = (left / unit).astype(np.int64)  # exact: below 2**53
        H = np.where(big | (h == 0), 1.0, h / unit).astype(np.int64)
        due = day0 + np.where(big, 1, (L + H - 1) // H)
        due[(h == 0) | (due >= self.NEVER)] = self.NEVER
        self.left[ids], self.h[ids], self.day0[ids], self.due[ids] = left, h, day0, due
        soon = due < self.NEVER
        self.queue.add(ids[soon], due[soon])
        self.count += len(ids)
        return ~ok

    def left_after(self, ids: np.ndarray, day: int) -> np.ndarray:
        """The hazard left of filed ``ids`` after the days up to ``day`` (before they ran
        out), exactly as the daily subtractions leave it."""
        left, h = self.left[ids], self.h[ids].astype(np.float64)
        unit = np.spacing(left)
        days = day - self.day0[ids].astype(np.int64)
        L = (left / unit).astype(np.int64)
        H = np.where(h > left, 0.0, h / unit).astype(np.int64)  # h > left: no day has passed
        return (L - days * H).astype(np.float64) * unit

    def take(self, ids: np.ndarray, day: int) -> np.ndarray:
        """Unfile ``ids``; their hazard left after the days up to ``day``."""
        left = self.left_after(ids, day)
        self._unfile(ids)
        return left

    def _unfile(self, ids: np.ndarray) -> None:
        self.day0[ids] = -1
        self.due[ids] = -1
        self.count -= len(ids)

    def filed(self, ids: np.ndarray) -> np.ndarray:
        return self.day0[ids] >= 0

    def due_on(self, day: int) -> np.ndarray:
        """The filed users whose clock runs out on ``day`` (sorted), unfiled."""
        ids = self.queue.take(day)
        if len(ids) == 0:
            return np.zeros(0, dtype=np.int64)
        ids = np.sort(ids[self.due[ids] == day]).astype(np.int64, copy=False)
        if len(ids) > 1:  # a stale entry of one filed again for the same day
            ids = ids[np.r_[True, ids[1:] != ids[:-1]]]
        self._unfile(ids)
        return ids

    def all(self) -> np.ndarray:
        return np.flatnonzero(self.day0 >= 0)


class Referral(Mechanism):
    name = "referral"
    doc = "owners recommend the brand to graph neighbours; members' friends register"
    reads = ("strategy.referral", "strategy.satisfaction.pivot", "strategy.koc_program",
             "mechanisms.koc", "groups.referral_lift", "groups.neutral_activity",
             "market.funnel.register_prob", "market.segments")
    columns = (
        *clock_columns("referral", "recommendation"),
        Column("n_referred", np.int32, 0, "friends this user brought into the private domain "
               "(converted referrals)"),
        Column("recommended", np.float32, 0.0, "recommendations heard (x brand choice, fading)"),
        Column("recommended_by", np.int32, -1, "the last owner who recommended the brand to "
               "this user, -1 = none"),
    )
    results = (
        Result("new_referrals", "recommendations", "recommendations made along graph edges "
               "today (by members and other owners)", COUNT),
        Result("new_referrals_organic", "recommendations", "of which by owners outside the "
               "private domain", COUNT),
        Result("new_referrals_converted", "users", "friends who registered in the private "
               "domain", COUNT),
    )

    scan_all = False  # True: check the index of who heard against a scan of everyone (tests)

    def __init__(self, model):
        super().__init__(model)
        r = self.cfg.strategy.referral
        # advanced over the owners every day: their hazard left kept compactly (in owner
        # order for the numpy path, in the order they became owners for the kernels)
        self.clock = OwnerClock(self.users, "referral", self.stream("clock"))
        mult = segment_values(self.cfg.market.segments.profiles(), "referral_mult",
                              np.float32)[self.users.segment]
        # the per-user part of the hazard that does not change during a run
        self.base = (r.per_year / 365.0) * (1 + r.reward_lift * r.reward) \
            * self.users.sociability * mult
        self._base = self.clock.follow(self.base)  # self.base[owners], in owner order
        self._group = self.clock.follow("group")  # kept by on_change
        self.koc = koc_active(self.cfg)
        self.fade = np.float32(math.exp(-math.log(2) / r.memory_halflife_days))

    def init_state(self) -> None:
        self.clock.start(self.model.owners())
        self._heard = np.flatnonzero(self.users.recommended).astype(_id_dtype(self.users.n))
        self._is_heard = self.users.recommended != 0
        # the kernels' newly heard, appended (unsorted; merged into the sorted index every 16
        # days, and before the numpy path runs)
        self._tail = np.zeros(0, dtype=self._heard.dtype)
        self._tail_n = 0
        self._appending = False
        # the kernels' clocks of owners outside the private domain, filed by the day they
        # run out (FrozenOwners); None on the numpy path
        self._frozen: FrozenOwners | None = None
        self._stepped = 0  # the last day whose clocks have been advanced
        self._split: tuple | None = None  # today's (referrers, from the pass, from the file)
        self.clock.before_index = self._unfile_all

    def _remember(self, ids: np.ndarray) -> None:
        """Add ``ids`` (sorted, unique) to the sorted index of users who heard the brand (to
        its tail when the kernels run)."""
        new = ids[~self._is_heard[ids]]
        if len(new) == 0:
            return
        self._is_heard[new] = True
        if self._appending:
            n, m = self._tail_n, len(new)
            if n + m > len(self._tail):
                grown = np.empty(_room(n + m), dtype=self._tail.dtype)
                grown[:n] = self._tail[:n]
                self._tail = grown
            self._tail[n:n + m] = new
            self._tail_n = n + m
            return
        h = self._heard
        self._heard = jit.insert(h, np.searchsorted(h, new), new)

    def _merge_tail(self) -> None:
        """Merge the appended newly heard into the sorted index."""
        if self._tail_n:
            new = np.sort(self._tail[:self._tail_n])
            h = self._heard
            self._heard = jit.insert(h, np.searchsorted(h, new), new)
            self._tail_n = 0

    def on_own(self, ids: np.ndarray, day: int) -> None:
        f = self._frozen
        if f is None:
            self.clock.start(ids)
            return
        outside = self.users.state[ids] != MEMBER
        self.clock.start(ids[~outside])
        ids = ids[outside]
        if len(ids):  # start's draws, filed instead of appended
            self._file(ids, self.clock.draw(ids))

    def on_change(self, column: str, ids: np.ndarray) -> None:
        self.clock.changed(column, ids)

    def on_join(self, ids: np.ndarray, day: int, source: int) -> None:
        """Owners who come back into the private domain: their clock back into the daily
        pass, with what is left of it."""
        f = self._frozen
        if f is not None and f.count:
            back = ids[f.filed(ids)]
            if len(back):
                self.clock.insert(back, f.take(back, self._stepped))

    def on_leave(self, ids: np.ndarray, day: int) -> None:
        """Owners who leave the private domain: their clock out of the daily pass, filed."""
        f = self._frozen
        if f is not None:
            out = ids[self.clock.holds(ids)]
            if len(out):
                self._file(out, self.clock.remove(out))

    def _constant_hazard(self, ids: np.ndarray) -> np.ndarray:
        """The daily hazard of owners outside the private domain (float64 of the kernels'
        float32 product: satisfaction factor x base, no amplification)."""
        h = self._satisfaction_factor(self.users.satisfaction[ids]) * self.base[ids]
        return h.astype(np.float64)

    def _file(self, ids: np.ndarray, left: np.ndarray) -> None:
        """File owners ``ids`` (outside the private domain, out of the daily pass) with their
        hazard left; those that cannot be go (back) into the daily pass."""
        keep = self._frozen.file(ids, left, self._constant_hazard(ids), self._stepped)
        if keep.any():
            self.clock.insert(ids[keep], left[keep])

    def _schedules(self) -> bool:
        """Whether the kernels file the outside owners' clocks (FrozenOwners): not with the
        KOC program (its multiplier is kept in the numpy lines)."""
        return not self.koc

    def _unfile_all(self) -> None:
        """Every filed clock back into the daily pass (before the clock leaves the kernels'
        layout)."""
        f, self._frozen = self._frozen, None
        if f is not None and f.count:
            ids = f.all()
            self.clock.insert(ids, f.take(ids, self._stepped))

    def _satisfaction_factor(self, sat: np.ndarray) -> np.ndarray:
        """``(satisfaction / pivot) ^ power`` (float32); powers 2 and 4 by squaring, ~10x faster."""
        r = self.cfg.strategy.referral
        rel = sat * np.float32(1 / self.cfg.strategy.satisfaction.pivot)
        if r.satisfaction_power == 4:
            rel *= rel
            rel *= rel
            return rel
        if r.satisfaction_power == 2:
            rel *= rel
            return rel
        return rel ** np.float32(r.satisfaction_power)

    def step(self, day: int) -> None:
        u, r = self.users, self.cfg.strategy.referral
        # a superset of the users with recommended != 0 (no O(n) scan): the sorted index and
        # the kernels' tail
        tail = self._tail[:self._tail_n]
        if self.scan_all:  # the reference (tests): scan every user
            ref = np.flatnonzero(u.recommended)
            if not np.isin(ref, np.concatenate([self._heard, tail])).all():
                raise AssertionError(f"day {day}: the index of who heard the brand missed users")
        self._appending = bool(len(self._heard) + len(tail)) \
            and jit.use(len(self._heard) + len(tail))
        if not self._appending:
            self._merge_tail()
        heard = self._heard
        if self._appending:  # the fade is elementwise: the sorted index, then the tail
            forget = day % 64 == 0 and not self.scan_all
            keep = np.empty(len(heard) if forget else 0, dtype=heard.dtype)
            kept = _fade(heard, u.recommended, self.fade, self._is_heard, forget, keep)
            if forget:
                self._heard = keep[:jit.join(keep, kept)].copy()
            # forgotten from the tail in place (each kept id written at or before its read)
            kept = _fade(tail, u.recommended, self.fade, self._is_heard, forget, tail)
            if forget:
                self._tail_n = jit.join(tail, kept)
            if day % 16 == 0:  # the fade's gathers stay mostly sequential
                self._merge_tail()
        elif len(heard):
            left = u.recommended[heard] * self.fade  # 0 x fade = 0: the others are unchanged
            u.recommended[heard] = left
            if day % 64 == 0 and not self.scan_all:  # forget those whose memory underflowed to 0
                gone = left == 0
                self._is_heard[heard[gone]] = False
                self._heard = heard[~gone]
        if r.per_year <= 0:
            return
        c = self.clock
        filed = self._frozen.count if self._frozen is not None else 0
        if c.appending and jit.use(c.live + filed):  # every owner is in the kernels' layout
            referrers = self._advance_kernels(day)
        else:
            ids = self.model.owners()
            if jit.use(len(ids)) and self._kernels_apply():
                c.to_append(ids)  # from the index layout's values (the numpy path's)
                if self._schedules():
                    self._frozen = FrozenOwners(len(self.base))
                    out = ids[u.state[ids] != MEMBER]
                    if len(out):
                        self._file(out, c.remove(out))
                referrers = self._advance_kernels(day)
            else:
                c.to_index()
                c.align(ids)
                referrers = self._advance_numpy(ids)
        self._stepped = day
        self._recommend(referrers, day)

    def _advance_numpy(self, ids: np.ndarray) -> np.ndarray:
        """The owners' hazard today, and the clock's advance: who recommends (the reference)."""
        u, p = self.users, self.cfg.strategy.koc_program
        hazard = self._satisfaction_factor(u.satisfaction[ids])
        hazard *= self.clock.rider(self._base)  # x self.base[ids], in place (the same product)
        # the private domain amplifies its members' word of mouth (x exp(0) = x 1 for the
        # others, so only members' factors are computed)
        lift = self.cfg.groups.referral_lift
        if lift:
            pos = np.flatnonzero(u.state[ids] == MEMBER)
            g = lift * (self.model.group_activity(ids[pos])
                        - np.float32(self.cfg.groups.neutral_activity))
            hazard[pos] *= np.exp(g)
        if self.koc:
            hazard = hazard * koc_mult(u.koc[ids], p.referral_gain, p.training)
        return self.clock.advance(ids, hazard)

    def _kernels_apply(self) -> bool:
        """Whether :meth:`_advance_kernels` stands in for the numpy path: not when a constant
        is not a Python number or the base is not float32."""
        lift = self.cfg.groups.referral_lift
        return type(lift) in (float, int) and self.base.dtype == np.float32 and _EXP0_IS_1

    def _advance_kernels(self, day: int) -> np.ndarray:
        """:meth:`_advance_numpy` in passes over the owners in the clock's append layout
        (:func:`_owner_hazard`, with the advance), the ``exp`` in numpy over the groups'
        table before them. Every 32 days
        the layout is sorted again and checked against the model's owners index (merged then
        rather than daily)."""
        u, cfg = self.users, self.cfg
        r = cfg.strategy.referral
        lift = cfg.groups.referral_lift
        c = self.clock
        f = self._frozen
        if day % 32 == 0:
            c.compact()
            owners = self.model.owners()
            held = c.ids if f is None or not c.check_all else np.union1d(c.ids, f.all())
            if (len(owners) != c.live + (f.count if f is not None else 0)
                    or (c.check_all and not np.array_equal(owners, held))):
                raise AssertionError(f"day {day}: the referral clock's owners are not the model's")
            if c.check_all:
                c.check_riders(day)
        ids, base = c.ids, c.rider(self._base)
        n = len(ids)
        power = 4 if r.satisfaction_power == 4 else 2 if r.satisfaction_power == 2 else 0
        factor = base[:0] if power else self._satisfaction_factor(u.satisfaction[ids])
        # the amplification per group (a member's depends only on their group's activity):
        # the numpy lines' float32 exponent and numpy's exp, on a table of the groups
        amp = np.exp(np.float32(lift) * (self.model.activity_table
                                         - np.float32(cfg.groups.neutral_activity)))
        advance = not self.koc  # the KOC factor comes after the hazard, in numpy
        hazard = np.empty(0 if advance else n, dtype=np.float32)
        out = np.empty(n if advance else 0, dtype=np.int64)
        counts = _owner_hazard(ids, u.satisfaction,
                               np.float32(1 / cfg.strategy.satisfaction.pivot), power, factor,
                               base, u.state, MEMBER, c.rider(self._group), amp, lift != 0,
                               advance, hazard, c.left, out)
        if not advance:
            p = cfg.strategy.koc_program
            hazard = hazard * koc_mult(u.koc[ids], p.referral_gain, p.training)
            return c.advance(ids, hazard)
        fired = c.fired_at(out[:jit.join(out, counts)].copy())
        if f is None:
            return fired
        due = f.due_on(day)  # the filed clocks that run out today
        if len(due) == 0:
            return fired
        # sorted and disjoint (one in the pass, the other filed): one merge
        referrers = jit.insert(fired, np.searchsorted(fired, due), due)
        self._split = (referrers, fired, due)
        return referrers

    def _fire(self, referrers: np.ndarray) -> None:
        """Restart the clocks of today's referrers: those from the daily pass in it, the
        filed ones filed again with their new draw."""
        split, self._split = self._split, None
        c = self.clock
        if split is None or split[0] is not referrers:
            c.fire(referrers)
            return
        _, fired, due = split
        c.fire(fired)
        c.k[due] += 1
        self._file(due, c.draw(due))

    def _recommend(self, referrers: np.ndarray, day: int) -> None:
        """Each referrer recommends the brand to a graph neighbour (see the module doc)."""
        if len(referrers) == 0:
            return
        u, today = self.users, self.model.today
        r, p = self.cfg.strategy.referral, self.cfg.strategy.koc_program
        k = self.clock.k[referrers]
        targets = self.model.graph.sample_neighbors(referrers, self.stream("target").uniform(referrers, k))
        by_member = u.state[referrers] == MEMBER
        reached = targets >= 0
        today.new_referrals += int(reached.sum())
        today.new_referrals_organic += int((reached & ~by_member).sum())
        ok = reached.copy()
        ok[ok] = u.state[targets[ok]] == PROSPECT
        # every prospect who hears it remembers it (and who said it)
        heard_t, first = unique(targets[ok], return_index=True)
        u.recommended[heard_t] += np.float32(r.organic_lift)
        self._remember(heard_t)
        u.recommended_by[heard_t] = referrers[ok][first]
        # members' friends may register in the private domain
        prob = np.full(len(referrers), self.cfg.market.funnel.register_prob)
        if self.koc:
            prob = prob * koc_mult(u.koc[referrers], p.conversion_gain, p.training)
        prob = prob * np.clip(1.0 + u.wom[np.maximum(targets, 0)], 0.0, 2.0)
        join = ok & by_member & (self.stream("convert").uniform(referrers, k) < prob)
        self._fire(referrers)
        if not join.any():
            return
        # one registration per prospect: the lowest-id referrer wins a tie (deterministic)
        targets, idx = unique(targets[join], return_index=True)
        by = referrers[join][idx]
        np.add.at(u.n_referred, by, 1)
        today.new_referrals_converted += len(targets)
        self.model.join(targets, day, SOURCE_REFERRAL, by=by)
