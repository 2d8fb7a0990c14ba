"""Purchases driven by the category's need cycle, inside and outside the private domain.

Each user's need for the product recurs on a renewal clock with a Weibull hazard that
rises with the age of the last purchase (phones ~3 years, fresh food ~weeks: DOMAIN.md).
When the need arrives the user buys the brand or another one. The private domain is not the
brand (DOMAIN.md, "The economics"): everyone buys at their own baseline, through the
private domain if they are members and through public channels (stores, marketplaces) if
not, churned members included:

* a brand owner chooses the brand with loyalty ``loyalty_base + loyalty_slope x (satisfaction
  - loyalty_pivot)``; a user who never owned it with ``market.brand_share``; both x what
  friends said (``wom``, negative after unresolved faults) and x recommendations heard;
* a member adds the private domain's influence: ``groups.loyalty_lift x (group activity -
  neutral)`` and the membership tier; a promotion reaches members only.

A prospect who buys the brand in store is a store buyer whom staff may recruit
(acquisition); every public purchase makes the buyer an owner.

Promotions, as measured (LITERATURE 39-40, 27-28; Bijmolt et al. 2005: short-term
elasticity about -3.6; van Heerde et al. 2003: about a third of the unit bump is brand
switching). On a promotion day of depth ``d`` a member with deal-proneness ``x`` (trait plus
the sensitivity gained from earlier deals) responds four ways, each its own parameter:

* acceleration: the day's need hazard x ``1 + acceleration x d x x`` (buying earlier resets
  the clock: a post-promotion dip, no permanent effect; Pauwels, Hanssens & Siddarth 2002);
* brand switching: brand choice ``+ switching x d x x`` (sales taken from other brands);
* stockpiling: ``stockpiling x d x x`` extra units, which delay the next need by as many mean
  cycles (a dip after the promotion);
* category expansion: ``expansion x d x x`` extra units consumed, which delay nothing.

Each promotion purchase makes the buyer more deal-prone (``deal_drift`` x depth per
purchase; Mela, Gupta & Lehmann 1997), and a sensitised user is less likely to buy at full
price (``full_price_penalty`` x the sensitivity gained). Deal-seekers are not annoyed by
deals (messaging). The day's bump is reported split into these parts.

The clock is an integrated-hazard clock (sim/core/clocks.py) kept in age units: with cumulative
hazard ``Lambda(a) = (a/scale)^shape`` and threshold ``E ~ Exp(1)`` the need fires at age
``a* = scale x E^(1/shape)``, so each user stores the day it falls due (``need_due``) and an
ordinary day costs one comparison. A promotion day adds ``(m - 1) x (Lambda(a+1) - Lambda(a))``
of hazard for members, which is the same as moving their effective age forward: the due
day moves earlier by that shift. Same process, same draws; no per-day power functions.
"""

from __future__ import annotations

from math import gamma

import numpy as np

from sim.core import jit
from sim.core.clocks import DueCalendar
from sim.core.columns import MEMBER, PROSPECT, unique
from sim.core.jit import NCHUNK, prange
from sim.core.mechanisms.base import COUNT, MONEY, SIGNAL, Column, Mechanism, Result
from sim.core.mechanisms.shared import prospect_friends


@jit.kernel(parallel=True)
def _pull_gather(ids, need_scale, need_start, need_due, deal_prone, deal_drift, yesterday,
                 accel, scale, a0, mult, due):  # pragma: no cover - compiled
    """The gathers of ``_pull_forward`` and its caller in one pass over ``ids``:
    ``scale = need_scale[ids].astype(np.float64)``, ``a0 = np.maximum(day - 1 -
    need_start[ids], 0.0)`` (``yesterday`` = float64(day - 1)), ``mult = 1.0 + accel *
    _deal(ids)`` (float32; ``accel`` = float32(acceleration x depth)) and ``due =
    need_due[ids]`` (the due days before the promotion). Parallel over :data:`NCHUNK`
    chunks."""
    one = np.float32(1.0)
    n = ids.shape[0]
    for c in prange(NCHUNK):
        lo, hi = n * c // NCHUNK, n * (c + 1) // NCHUNK
        ids_c, scale_c, a0_c, mult_c, due_c = (ids[lo:hi], scale[lo:hi], a0[lo:hi],
                                               mult[lo:hi], due[lo:hi])
        for j in range(ids_c.shape[0]):
            i = ids_c[j]
            scale_c[j] = np.float64(need_scale[i])
            a = yesterday - need_start[i]
            if a < 0.0:  # np.maximum(a, 0.0): a NaN stays
                a = 0.0
            a0_c[j] = a
            d = deal_prone[i] + deal_drift[i]
            if d > one:  # np.minimum(d, 1): a NaN stays
                d = one
            mult_c[j] = one + accel * d
            due_c[j] = need_due[i]


@jit.kernel(parallel=True)
def _pull_scatter(ids, shift, need_start, need_due, moved, moved_due):  # pragma: no cover
    """The scatters of ``_pull_forward`` in one pass over ``ids``: ``need_start[ids] -=
    shift``, ``need_due[ids] -= shift``, and the ids whose due day changed (``np.ceil``
    differs) written to ``moved`` with their new due day. Parallel over :data:`NCHUNK`
    chunks, each listing its moved ids from its own start (``moved`` and ``moved_due`` as
    long as ``ids``); returns how many each moved, for :func:`sim.core.jit.join` of both
    arrays (ids' order)."""
    n = ids.shape[0]
    nm = np.zeros(NCHUNK, np.int64)
    for c in prange(NCHUNK):
        lo, hi = n * c // NCHUNK, n * (c + 1) // NCHUNK
        ids_c, shift_c, moved_c, due_c = ids[lo:hi], shift[lo:hi], moved[lo:hi], moved_due[lo:hi]
        k = 0
        for j in range(ids_c.shape[0]):
            i = ids_c[j]
            need_start[i] = need_start[i] - shift_c[j]
            before = need_due[i]
            after = before - shift_c[j]
            need_due[i] = after
            if np.ceil(after) != np.ceil(before):
                moved_c[k] = i
                due_c[k] = after
                k += 1
        nm[c] = k
    return nm


@jit.kernel(parallel=True)
def _below_deal(ids, draws, deal_prone, deal_drift, p, out):  # pragma: no cover - compiled
    """``ids[draws < p * _deal(ids)]`` (``p`` float32, the product float32 as numpy's) into
    ``out`` (as long as ``ids``). Parallel over :data:`NCHUNK` chunks, each selecting from
    its own start in ``out``; returns how many each selected, for :func:`sim.core.jit.join`."""
    one = np.float32(1.0)
    n = ids.shape[0]
    nk = np.zeros(NCHUNK, np.int64)
    for c in prange(NCHUNK):
        lo, hi = n * c // NCHUNK, n * (c + 1) // NCHUNK
        ids_c, draws_c, out_c = ids[lo:hi], draws[lo:hi], out[lo:hi]
        k = 0
        for j in range(ids_c.shape[0]):
            i = ids_c[j]
            d = deal_prone[i] + deal_drift[i]
            if d > one:
                d = one
            if draws_c[j] < p * d:
                out_c[k] = i
                k += 1
        nk[c] = k
    return nk


class Purchase(Mechanism):
    name = "purchase"
    doc = "need clocks fire: everyone buys the brand or another; members through the private domain"
    reads = ("market.need_cycle_shape", "market.brand_share", "strategy.promotion",
             "strategy.satisfaction", "strategy.membership", "groups.loyalty_lift",
             "groups.neutral_activity")
    columns = (
        Column("need_start", np.float64, 0.0, "day the current need clock started"),
        Column("need_due", np.float64, np.inf, "day the need falls due"),
        Column("need_k", np.int32, 0, "needs so far (the need clock's draw counter)"),
        Column("coupon_until", np.int32, -1, "last day of a promotion coupon a member shared "
               "with this prospect, -1 = none"),
        Column("deal_drift", np.float32, 0.0, "deal-proneness gained from promotion purchases "
               "(Mela et al. 1997); lowers full-price brand choice"),
    )
    results = (
        Result("store_buyers", "user ids", "prospects who bought the brand in store today "
               "(the pool store staff recruit from)", SIGNAL, None),
        Result("new_promo_purchases", "purchases", "member purchases on a promotion day", COUNT),
        Result("new_promo_accelerated", "purchases", "of which the need came early only "
               "because of the promotion (acceleration)", COUNT, total="promo_accelerated"),
        Result("new_promo_switched", "purchases", "of which the member would have bought "
               "another brand (switching)", COUNT, total="promo_switched"),
        Result("new_promo_stockpiled", "units", "extra units bought ahead of need "
               "(stockpiling)", COUNT, 0.0, total="promo_stockpiled"),
        Result("new_promo_expansion", "units", "extra units consumed (category expansion)",
               COUNT, 0.0, total="promo_expansion"),
        Result("new_coupons_shared", "users", "prospects a member forwarded a promotion coupon "
               "to today", COUNT, total="coupons_shared"),
        Result("new_coupon_purchases", "purchases", "prospects' brand purchases with a shared "
               "coupon", COUNT, total="coupon_purchases"),
        Result("new_lost_sales", "users", "members whose need arrived and who bought elsewhere",
               COUNT),
        Result("new_public_purchases", "purchases", "brand purchases outside the private "
               "domain (prospects in store, owners and former members)", COUNT,
               total="public_purchases"),
        Result("new_public_revenue", "yuan", "revenue of those purchases (list price)", MONEY,
               0.0, total="public_revenue"),
    )

    scan_all = False  # True: check the calendar against a scan of every user (tests)

    def __init__(self, model):
        super().__init__(model)
        self.shape = float(self.cfg.market.need_cycle_shape)
        self.mean_cycle = gamma(1 + 1 / self.shape)  # x need_scale: a user's mean cycle
        self.threshold = self.stream("need")
        self._booking = False  # True while this mechanism books the needs it fired
        self.coupon_depth = 0.0  # the depth of the last promotion whose coupons were shared
        # users filed by the day their need falls due: a day looks only at those due
        self.calendar = DueCalendar(first_day=model.steps + 1)
        self._id_dtype = np.int32 if model.users.n < 2**31 else np.int64

    def init_state(self) -> None:
        # stationary start: the age of each user's current product is uniform over one mean
        # cycle (assumption), and the threshold is drawn conditional on no need yet
        u = self.users
        ids = np.arange(u.n)
        scale = u.need_scale.astype(np.float64)
        age = np.floor(self.stream("initial_age").uniform(ids, 0) * scale * self.mean_cycle)
        e = (age / scale) ** self.shape + self.threshold.exponential(ids, 0)
        u.need_start[:] = -age
        u.need_due[:] = -age + scale * e ** (1 / self.shape)
        self.calendar.add(ids.astype(self._id_dtype), u.need_due)

    def restart(self, ids: np.ndarray, day: int, ahead: np.ndarray | None = None) -> None:
        """The need was met on ``day``: draw the next need, ``ahead`` extra units later.

        A VIP's need hazard is ``vip_frequency_mult`` x: for a Weibull that is the same as a
        scale smaller by ``mult^(1/shape)``. Units stockpiled last ``ahead`` mean cycles.
        """
        if len(ids) == 0:
            return
        u = self.users
        u.need_k[ids] += 1
        e = self.threshold.exponential(ids, u.need_k[ids])
        scale = u.need_scale[ids].astype(np.float64)
        mult = self.cfg.strategy.membership.vip_frequency_mult
        if mult != 1.0:
            scale = np.where(u.vip_until[ids] >= day, scale * mult ** (-1 / self.shape), scale)
        start = day if ahead is None else day + ahead * scale * self.mean_cycle
        due = start + scale * e ** (1 / self.shape)
        u.need_start[ids] = start
        u.need_due[ids] = due
        self.calendar.add(ids.astype(self._id_dtype), due)

    def on_purchase(self, ids: np.ndarray, net: np.ndarray, day: int) -> None:
        """A purchase outside the need clock (a referred lead converting) meets the need."""
        if not self._booking:
            self.restart(ids, day)

    def _pull_forward(self, ids: np.ndarray, day: int, mult: np.ndarray) -> None:
        """Move the effective age of ``ids`` forward by the extra hazard of a promo day."""
        u = self.users
        scale = u.need_scale[ids].astype(np.float64)
        a0 = np.maximum(day - 1 - u.need_start[ids], 0.0)
        shift = self._shift(scale, a0, mult)
        u.need_start[ids] -= shift
        before = u.need_due[ids]
        after = before - shift
        u.need_due[ids] = after
        moved = np.ceil(after) != np.ceil(before)  # now due on another day: file it there
        self.calendar.add(ids[moved].astype(self._id_dtype), after[moved])

    def _shift(self, scale: np.ndarray, a0: np.ndarray, mult: np.ndarray) -> np.ndarray:
        """How far a promo day moves effective ages ``a0`` forward (hazard x ``mult``)."""
        h0 = (a0 / scale) ** self.shape
        h1 = ((a0 + 1) / scale) ** self.shape
        a_end = scale * (h0 + mult * (h1 - h0)) ** (1 / self.shape)
        return a_end - (a0 + 1)

    def _pull_forward_kernels(self, ids: np.ndarray, day: int, accel: float) -> np.ndarray:
        """``_pull_forward(ids, day, 1.0 + accel * _deal(ids))`` with its gathers and
        scatters compiled (the powers stay numpy's); returns ``need_due[ids]`` before."""
        u, n = self.users, len(ids)
        scale, a0, due = np.empty(n), np.empty(n), np.empty(n)
        mult = np.empty(n, dtype=np.float32)
        _pull_gather(ids, u.need_scale, u.need_start, u.need_due, u.deal_prone, u.deal_drift,
                     np.float64(day - 1), np.float32(accel), scale, a0, mult, due)
        shift = jit.split(self._shift, scale, a0, mult)  # the powers on every thread
        moved = np.empty(n, dtype=self._id_dtype)
        after = np.empty(n)
        counts = _pull_scatter(ids, shift, u.need_start, u.need_due, moved, after)
        k = jit.join(moved, counts)
        jit.join(after, counts)
        self.calendar.add(moved[:k].copy(), after[:k].copy())  # the calendar keeps its ids
        return due

    def _share_coupons(self, day: int, depth: float) -> None:
        """Members forward the day's coupon to a friend (seed 000/002: coupons shared to
        friends, group-buying); a prospect who gets one may use it for ``coupon_days``."""
        u, pr = self.users, self.cfg.strategy.promotion
        members = self.model.members()
        if len(members) == 0:
            return
        draws = self.stream("share").uniform(members, day)
        if jit.use(len(members)):
            share = np.empty(len(members), dtype=members.dtype)
            share = share[:jit.join(share, _below_deal(members, draws, u.deal_prone,
                                                       u.deal_drift, np.float32(pr.share_prob),
                                                       share))]
        else:
            share = members[draws < pr.share_prob * self._deal(members)]
        if len(share) == 0:
            return
        friend, sharer = prospect_friends(self.model.graph, u.state, share,
                                          self.stream("share_to").uniform(share, day))
        u.coupon_until[friend] = day + pr.coupon_days
        fresh = u.recommended_by[friend] < 0
        u.recommended_by[friend[fresh]] = sharer[fresh]
        self.coupon_depth = depth
        self.model.today.new_coupons_shared += len(friend)

    def _deal(self, ids: np.ndarray) -> np.ndarray:
        """Deal-proneness now: the trait plus what earlier promotions taught (0-1)."""
        u = self.users
        return np.minimum(u.deal_prone[ids] + u.deal_drift[ids], np.float32(1.0))

    def step(self, day: int) -> None:
        u, today, cfg = self.users, self.model.today, self.cfg
        pr, sat_cfg = cfg.strategy.promotion, cfg.strategy.satisfaction
        promo, depth = today.promo, today.promo_depth
        due_before = None
        if promo and pr.acceleration > 0:
            members = self.model.members()
            if len(members) and jit.use(len(members)):
                due_before = self._pull_forward_kernels(members, day, pr.acceleration * depth)
            elif len(members):
                due_before = u.need_due[members].copy()
                self._pull_forward(members, day,
                                   1.0 + pr.acceleration * depth * self._deal(members))
        if promo and pr.share_prob > 0:
            self._share_coupons(day, depth)
        # everyone whose need is due by today (== np.flatnonzero(u.need_due <= day), sorted):
        # the calendar's entries for today, less those whose due day has moved since
        fired = unique(self.calendar.take(day)).astype(np.int64)
        fired = fired[u.need_due[fired] <= day]
        if self.scan_all:  # the reference (tests): one comparison per user
            ref = np.flatnonzero(u.need_due <= day)
            if not np.array_equal(ref, fired):
                raise AssertionError(f"day {day}: the need calendar missed or added users")
        if len(fired) == 0:
            return
        st = u.state[fired]
        owner = u.owner[fired]
        # everyone's baseline: loyalty for owners, the brand's share for the others, x what
        # friends said and recommended
        loyal = sat_cfg.loyalty_base + sat_cfg.loyalty_slope * (
            u.satisfaction[fired] - sat_cfg.loyalty_pivot)
        p = np.where(owner, loyal, cfg.market.brand_share)
        p = p * np.clip(1.0 + u.wom[fired] + u.recommended[fired], 0.0, 2.0)
        m = st == MEMBER
        coupon = ~m & (u.coupon_until[fired] >= day)
        if coupon.any():  # a coupon a member shared pulls a prospect to the brand
            c = fired[coupon]
            p[coupon] = p[coupon] + pr.switching * self.coupon_depth * self._deal(c)
        full_price = ~m if promo else np.ones(len(fired), dtype=bool)
        if pr.full_price_penalty:
            p = np.where(full_price, p - pr.full_price_penalty * u.deal_drift[fired], p)
        # the private domain's influence on its members
        pm = p[m] + cfg.groups.loyalty_lift * (self.model.group_activity(fired[m])
                                               - np.float32(cfg.groups.neutral_activity))
        pm = pm + cfg.strategy.membership.tier_loyalty * u.tier[fired[m]]
        p_base_m = pm
        if promo:
            deal_m = self._deal(fired[m])
            pm = pm + pr.switching * depth * deal_m
        p[m] = pm
        draw = self.stream("choice").uniform(fired, u.need_k[fired])
        buy = draw < np.clip(p, 0.0, 1.0)
        # members: through the private domain
        buyers_m = fired[m]
        got = buy[m]
        bought = buyers_m[got]
        today.new_lost_sales += int(len(buyers_m) - len(bought))
        ahead = None
        units = None
        if promo and len(bought):
            deal_b = deal_m[got]
            stock = pr.stockpiling * depth * deal_b
            expand = pr.expansion * depth * deal_b
            units = 1.0 + stock + expand
            ahead = np.zeros(len(fired))
            ahead[np.flatnonzero(m)[got]] = stock
            today.new_promo_purchases += len(bought)
            today.new_promo_switched += int(np.count_nonzero(
                draw[m][got] >= np.clip(p_base_m[got], 0.0, 1.0)))
            if due_before is not None:
                members = self.model.members()
                early = due_before[np.searchsorted(members, bought)] > day
                today.new_promo_accelerated += int(np.count_nonzero(early))
            today.new_promo_stockpiled += float(stock.sum())
            today.new_promo_expansion += float(expand.sum())
            drift = u.deal_drift[bought] + np.float32(pr.deal_drift * depth)
            u.deal_drift[bought] = np.minimum(drift, np.float32(1.0))
        self._booking = True
        try:
            self.model.book(bought, day, depth if promo else 0.0, units)
        finally:
            self._booking = False
        # everyone else: public channels, at list price (or with a coupon a member shared)
        public = fired[~m & buy]
        if len(public):
            coupon = np.where(u.coupon_until[public] >= day, self.coupon_depth, 0.0)
            today.new_coupon_purchases += int(np.count_nonzero(coupon))
            self.model.book_public(public, day, coupon)
            today.store_buyers = public[(u.state[public] == PROSPECT) & (coupon == 0)]
        self.restart(fired, day, ahead)
