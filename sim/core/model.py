"""The siyu-sim Mesa model: a brand's private domain over a social graph.

Users live in numpy columns (:mod:`sim.core.columns`); each mechanism is a module run as
vectorised kernels in the order written in :mod:`sim.core.loop`; randomness comes from named
common-random-number streams (:mod:`sim.core.rng`). The model is a ``mesa.Model``: ``step()``
advances one day, ``datacollector`` holds the daily series, and
``agents_by_type[StoreStaff]`` / ``[Brand]`` hold the actors that do not scale with the
population (users and KOCs are handles made on demand by :meth:`SiyuModel.user`).
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np

from sim.config import CHANNELS, Config, to_config
from sim.core import jit
from sim.core.agents import KOC, Brand, CommunityGroup, StoreStaff, User
from sim.core.columns import CHURNED, MEMBER, SOURCE_STORE
from sim.core.columns import KOC as KOC_SEGMENT
from sim.core.counterfactual import counterfactual_config, incremental
from sim.core.flows import JOIN_COUNTS, book_public, book_purchases, today_class
from sim.core.graph import SocialGraph, build_graph
from sim.core.loop import PHASES, PhaseTimer
from sim.core.mechanisms.base import Mechanism
from sim.core.mechanisms.shared import LEAD_SOURCES
from sim.core.metrics import RESULTS, SERIES, Reporter, summarize
from sim.core.population import build_population, touch_of_channel
from sim.core.rng import Streams


class _CommonRandomNumbersOnly:
    """Stands in for Mesa's ``model.rng`` / ``model.random``: a sequential generator would
    give an agent different draws under different strategies (its draws would depend on how
    many were drawn before), breaking common random numbers without a word. Draw instead from
    a named stream, indexed by user id and a counter."""

    def __init__(self, attr: str):
        self._attr = attr

    def __getattr__(self, name: str):
        raise AttributeError(
            f"SiyuModel.{self._attr} is not used: every draw comes from a named common-random-"
            f"number stream, e.g. model.streams['myagent.decision'].uniform(ids, day) (a pure "
            f"function of seed, stream, id and counter; sim/core/rng.py). For construction-time "
            f"draws use model.streams.generator('myagent.build').")


class SiyuModel(mesa.Model):
    """Build with a validated :class:`~sim.config.Config` (or a dict of its fields).

    ``model.steps`` is the day counter (Mesa's: day 1 is the first step); ``run_model()``
    runs until ``config.days`` and clears ``running``.
    """

    def __init__(self, config: Config | dict | None = None, *, graph: SocialGraph | None = None):
        cfg = to_config(config if config is not None else Config())
        super().__init__(rng=cfg.seed)
        self.rng = _CommonRandomNumbersOnly("rng")
        self.random = _CommonRandomNumbersOnly("random")
        self.config = cfg
        self.streams = Streams(cfg.seed)
        self.users = build_population(cfg, self.streams)
        for cls in PHASES:  # every declared column exists, the mechanism switched on or not
            for col in cls.columns:
                fill = col.fill(cfg) if callable(col.fill) else col.fill
                self.users.add(col.name, col.dtype, fill, cls.name)
        self.graph = graph if graph is not None else build_graph(cfg, self.streams)
        if self.graph.n != self.users.n:
            raise ValueError(f"graph has {self.graph.n} nodes, population.n_users is {self.users.n}")
        self.n_stores = int(self.users.store.max()) + 1  # store ids are 0..n_stores-1
        self.today = today_class(RESULTS)()
        self.landing = CHANNELS.index(cfg.channel.landing)
        self._members: np.ndarray | None = None
        self._neutral_table: np.ndarray | None = None  # activity_table with groups off
        # joins (True) and leaves (False) since the members index was last merged, in order
        self._pending: list[tuple[bool, np.ndarray]] = []
        self._owners: np.ndarray | None = None
        self._new_owners: list[np.ndarray] = []  # owners since the index was last merged
        self.timer = PhaseTimer()
        # (ids, day, amount) chunks of every private-domain purchase, when exported
        self.transactions: list | None = [] if cfg.export.transactions else None

        enabled = cfg.mechanisms
        self.mechanisms: dict[str, Mechanism] = {
            cls.name: cls(self) for cls in PHASES if getattr(enabled, cls.name)
        }
        self._hooks = tuple(self.mechanisms.values())
        for mech in self._hooks:
            mech.init_state()
        self.members_start = len(self.members())

        self.brand = Brand(self)
        a = cfg.strategy.acquisition
        cap = cfg.channels.profiles()[self.landing].friend_cap
        for store in range(self.n_stores):  # stores do not scale per user: one object each is fine
            for _ in range(a.staff_per_store):
                StoreStaff(self, store, cap)

        self.reporter = Reporter(scale=cfg.population.scale)
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in SERIES})

    @property
    def day(self) -> int:
        """The current simulated day (``model.steps``)."""
        return self.steps

    @property
    def activity_table(self) -> np.ndarray:
        """The groups' activity (float32) and, last, the neutral value: a user's group
        activity is ``activity_table[users.group]`` (group -1, no group, reads the last)."""
        groups = self.mechanisms.get("groups")
        if groups is not None:
            return groups.table
        if self._neutral_table is None:
            self._neutral_table = np.array([self.config.groups.neutral_activity],
                                           dtype=np.float32)
        return self._neutral_table

    def group_activity(self, ids: np.ndarray) -> np.ndarray:
        """The activity (0-1, float32) of the groups of users ``ids``;
        ``groups.neutral_activity`` for a user in no group, or with groups off."""
        return self.activity_table[self.users.group[ids]]

    @property
    def n_members(self) -> int:
        """How many members there are (without merging the index)."""
        if self._members is None:
            return len(self.members())
        return len(self._members) + sum(len(ids) if joined else -len(ids)
                                        for joined, ids in self._pending)

    def members(self) -> np.ndarray:
        """Sorted ids of current members, kept up to date as users join and leave.

        Joins and leaves are merged into the index here, when it is next read, not as they
        happen: all of them since the last read in one pass over the index (a day's store
        recruits, referrals and leavers: one pass instead of three). Each user touched ends
        in or out as their last join or leave says."""
        if self._members is None:
            self._members = np.flatnonzero(self.users.state == MEMBER)
            self._pending = []
        elif self._pending:
            m, pending = self._members, self._pending
            self._pending = []
            ids = np.concatenate([p[1] for p in pending]).astype(m.dtype, copy=False)
            joined = np.concatenate([np.full(len(p[1]), p[0]) for p in pending])
            order = np.argsort(ids, kind="stable")  # each user's ops in the order they came
            ids, joined = ids[order], joined[order]
            last = np.ones(len(ids), dtype=bool)
            np.not_equal(ids[1:], ids[:-1], out=last[:-1])
            ids, joined = ids[last], joined[last]  # each user once, with their last op
            pos = np.minimum(np.searchsorted(m, ids), max(len(m) - 1, 0))
            was = m[pos] == ids if len(m) else np.zeros(len(ids), bool)
            gone = pos[was & ~joined]
            new = ids[~was & joined]
            at = np.searchsorted(m, new)
            at -= np.searchsorted(gone, at)  # their places once the leavers are out
            self._members = jit.splice(m, gone, at, new)
        return self._members

    # ------------------------------------------------------------------ joining and leaving

    def join(self, ids: np.ndarray, day: int, source: int, *, by: np.ndarray | None = None,
             channel: int | None = None) -> None:
        """The one way into the private domain: users ``ids`` (sorted, unique prospects) join
        on ``day`` from ``source`` (a ``SOURCE_*`` code), brought by users ``by`` (a referral
        or an event host, if any), in ``channel`` (default: the landing channel).

        Sets their lifecycle columns, counts them by source, keeps the members index and calls
        every mechanism's ``on_join`` (clocks armed, group placed, lead registered, ...).
        """
        if len(ids) == 0:
            return
        u = self.users
        u.state[ids] = MEMBER
        u.source[ids] = source
        u.join_day[ids] = day
        u.churn_day[ids] = -1  # a former member won back starts a new tenure
        u.channel[ids] = self.landing if channel is None else channel
        self.changed("channel", ids)  # (a member back before a clock let their slot go)
        u.touch[ids] = touch_of_channel(u.channel[ids])
        if by is not None:
            u.recruited_by[ids] = by
        counter = JOIN_COUNTS.get(source)
        if counter is not None:
            setattr(self.today, counter, getattr(self.today, counter) + len(ids))
        if source in LEAD_SOURCES:  # friends brought by a user join as leads
            u.lead_stage[ids] = 1
            self.today.new_leads += len(ids)
        if self._members is not None:  # merged into the index when next read: no rescan
            self._pending.append((True, ids.copy()))
        for mech in self._hooks:
            mech.on_join(ids, day, source)

    def leave(self, ids: np.ndarray, day: int, banned: bool = False) -> None:
        """Members ``ids`` (sorted) leave the private domain (churn, or a banned account)."""
        if len(ids) == 0:
            return
        u, t = self.users, self.today
        u.state[ids] = CHURNED
        u.churn_day[ids] = day
        u.lead_stage[ids] = 0
        t.new_churned += len(ids)
        for i, n in enumerate(np.bincount(u.channel[ids], minlength=3)):
            if n:
                name = f"new_churned_{CHANNELS[i]}"
                setattr(t, name, getattr(t, name) + int(n))
        if banned:
            t.new_banned_lost += len(ids)
        if self._members is not None:
            self._pending.append((False, ids.copy()))
        for mech in self._hooks:
            mech.on_leave(ids, day)
        u.touch[ids] = 0

    def changed(self, column: str, ids: np.ndarray) -> None:
        """Users ``ids``' values of ``column`` have just been written (a joiner's channel, a
        group placed or quit, a member moved to another channel): every mechanism's
        ``on_change`` (clocks keep copies of ``group`` and ``channel`` in their order)."""
        if len(ids):
            for mech in self._hooks:
                mech.on_change(column, ids)

    def owners(self) -> np.ndarray:
        """Sorted ids of brand owners (before the run, or buyers since in any channel).

        New owners are merged in here, once for all the bookings since the last call (a
        day's bookings come from several phases), not at each booking."""
        if self._owners is None:
            self._owners = np.flatnonzero(self.users.owner)
            self._new_owners = []
        elif self._new_owners:
            new = jit.sorted_unique(self._new_owners, self._owners[:0])
            self._new_owners = []
            o = self._owners
            self._owners = jit.insert(o, np.searchsorted(o, new), new)
        return self._owners

    def _own(self, ids: np.ndarray, day: int) -> None:
        """Buyers ``ids`` (sorted): the first-time ones become owners (``on_own``)."""
        u, t = self.users, self.today
        new = ids[~u.owner[ids]]
        if len(new) == 0:
            return
        u.owner[new] = True
        t.new_brand_buyers += len(new)
        t.new_brand_buyers_referral += int(np.count_nonzero(
            (u.recruited_by[new] >= 0) | (u.recommended_by[new] >= 0)))
        if self._owners is not None:
            self._new_owners.append(new)
        for mech in self._hooks:
            mech.on_own(new, day)

    def book_public(self, ids: np.ndarray, day: int, discount: float | np.ndarray = 0.0) -> None:
        """Book brand purchases outside the private domain (sorted non-members ``ids``) at
        list price less ``discount`` (a coupon a member shared): prospects in store, owners
        and former members through public channels."""
        if len(ids) == 0:
            return
        book_public(self.users, self.today, ids, day, self.config.market.price, discount)
        self._own(ids, day)

    def book(self, ids: np.ndarray, day: int, discount: float,
             units: np.ndarray | None = None) -> None:
        """Book private-domain purchases by members ``ids`` (sorted) of ``units`` each
        (default 1): VIP discount, the ledger, every mechanism's ``on_purchase`` (points,
        lead conversion, channel moves, need met)."""
        if len(ids) == 0:
            return
        vip = self.config.strategy.membership
        d: float | np.ndarray = discount
        if vip.vip:
            d = np.where(self.users.vip_until[ids] >= day,
                         1 - (1 - discount) * (1 - vip.vip_discount), discount)
        net = book_purchases(self.users, self.today, ids, day, self.config.market.price, d,
                             self.config.strategy.referral.reward, units)
        if self.transactions is not None:
            self.transactions.append((ids.astype(np.int64), np.full(len(ids), day, np.int32), net))
        for mech in self._hooks:
            mech.on_purchase(ids, net, day)
        self._own(ids, day)

    # ------------------------------------------------------------------ the day

    def step(self) -> None:
        """One simulated day (Mesa has already advanced ``steps``): every phase, then metrics."""
        day = self.steps
        self.today.reset()
        for name, mech in self.mechanisms.items():
            self.timer.run(name, mech.step, day)
        self.timer.run("metrics", self._collect)
        if day >= self.config.days:
            self.running = False

    def _collect(self) -> None:
        day, members = self.steps, self.members()
        stocks: dict[str, float] = {}
        for mech in self._hooks:
            stocks.update(mech.report(day, members))
        self.reporter.compute(day, self.users, self.today, members, stocks)
        self.brand.step()
        self.datacollector.collect(self)

    def run(self, days: int | None = None, progress=None) -> None:
        """Run ``days`` more steps (default: up to ``config.days``); ``progress(day, days)``
        is called daily."""
        days = self.config.days - self.steps if days is None else days
        for i in range(days):
            self.step()
            if progress is not None:
                progress(i + 1, days)
        self.sync()

    def sync(self) -> None:
        """Bring every column up to date: a mechanism may keep some users' values of a
        column elsewhere during a run (a member's after-sale hazard, by the incident clock)
        and write them back only here (:meth:`Mechanism.sync`)."""
        for mech in self.mechanisms.values():
            mech.sync()

    # ------------------------------------------------------------------ results

    def series(self) -> dict[str, np.ndarray]:
        """The daily series as columns (one row per simulated day)."""
        df = self.datacollector.get_model_vars_dataframe()
        return {c: df[c].to_numpy() for c in df.columns}

    def transaction_log(self) -> dict[str, np.ndarray]:
        """Every private-domain purchase: customer_id, date (day), amount (yuan, net)."""
        if self.transactions is None:
            raise ValueError("transactions are not recorded: set export.transactions=true")
        chunks = self.transactions or [(np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0))]
        ids, days, amounts = (np.concatenate(c) for c in zip(*chunks, strict=True))
        return {"customer_id": ids, "date": days, "amount": amounts}

    def summary(self, baseline: dict[str, Any] | None = None) -> dict[str, Any]:
        """The headline KPIs (docs/metrics.md); with the ``baseline`` summary of the
        counterfactual run (:mod:`sim.core.counterfactual`), the incremental KPIs too."""
        cfg = self.config
        s = summarize(self.users, self.series(), cfg.market.gross_margin, self.members_start,
                      cfg.population.scale)
        # mini-program sales by store-recruited customers credited to their stores (DOMAIN.md)
        u = self.users
        store_rev = float(u.revenue[u.source == SOURCE_STORE].sum()) * cfg.population.scale
        s["store_attributed_revenue"] = store_rev * cfg.dealer.attribution
        if baseline is not None:
            s.update(incremental(s, baseline))
        return s

    def counterfactual(self) -> SiyuModel:
        """The same seed, population and graph without private-domain operations, built
        (not run): ``model.summary(baseline=model.counterfactual().run()...)``."""
        return SiyuModel(counterfactual_config(self.config), graph=self.graph)

    def group(self, gid: int) -> CommunityGroup:
        """A Mesa agent handle onto community group ``gid``."""
        return CommunityGroup(self, gid)

    def user(self, row: int) -> User:
        """A Mesa agent handle onto user ``row`` (a KOC handle for KOC-segment users)."""
        if not 0 <= row < self.users.n:
            raise IndexError(f"user {row} out of range 0..{self.users.n - 1}")
        cls = KOC if int(self.users.segment[row]) == KOC_SEGMENT else User
        return cls(self, row)


def _reporter(name: str):
    def report(model: SiyuModel) -> float:
        return model.reporter.row[name]

    report.__name__ = f"report_{name}"
    return report
