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

from sim.core.agents import KOC, Brand, CommunityGroup, StoreStaff, User
from sim.core.columns import CHURNED, MEMBER, SOURCE_REFERRAL, SOURCE_STORE
from sim.core.columns import KOC as KOC_SEGMENT
from sim.config import CHANNELS, Config, to_config
from sim.core.flows import Today, book_purchases
from sim.core.graph import SocialGraph, build_graph
from sim.core.loop import PHASES, PhaseTimer
from sim.core.mechanisms.base import Mechanism
from sim.core.metrics import SERIES, Reporter, summarize
from sim.core.population import build_population
from sim.core.rng import Streams


class SiyuModel(mesa.Model):
    """Build with a validated :class:`~sim.config.Config` (or a dict of its fields)."""

    def __init__(self, config: Config | dict | None = None, *, graph: SocialGraph | None = None):
        cfg = to_config(config if config is not None else Config())
        super().__init__(rng=cfg.seed)
        self.config = cfg
        self.streams = Streams(cfg.seed)
        self.users = build_population(cfg, self.streams)
        self.graph = graph if graph is not None else build_graph(cfg, self.streams)
        if self.graph.n != self.users.n:
            raise ValueError(f"graph has {self.graph.n} nodes, population.n_users is {self.users.n}")
        self.today = Today()
        self.day = 0
        self._members: np.ndarray | None = None
        self.timer = PhaseTimer()
        # (ids, day, amount) chunks of every private-domain purchase, when exported
        self.transactions: list | None = [] if cfg.export.transactions else None

        enabled = cfg.mechanisms
        self.mechanisms: dict[str, Mechanism] = {
            name: cls(self) for name, cls in PHASES if getattr(enabled, name)
        }
        for mech in self.mechanisms.values():
            mech.init_state()
        self.members_start = int((self.users.state == MEMBER).sum())

        self.brand = Brand(self)
        a = cfg.strategy.acquisition
        n_stores = int(self.users.store.max()) + 1
        cap = cfg.channels.profiles()[CHANNELS.index(cfg.channel.landing)].friend_cap
        for store in range(n_stores):  # stores do not scale per user: one object each is fine
            for _ in range(a.staff_per_store):
                StoreStaff(self, store, cap)

        self.reporter = Reporter(scale=cfg.population.scale,
                                 kocs=cfg.strategy.koc_program.enabled and cfg.mechanisms.koc,
                                 vip=cfg.strategy.membership.vip and cfg.mechanisms.membership)
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in SERIES})

    # ------------------------------------------------------------------ lifecycle hooks

    def mechanism(self, name: str) -> Mechanism | None:
        return self.mechanisms.get(name)

    def members(self) -> np.ndarray:
        """Sorted ids of current members, kept up to date as users join and churn."""
        if self._members is None:
            self._members = np.flatnonzero(self.users.state == MEMBER)
        return self._members

    def joined(self, ids: np.ndarray, day: int) -> None:
        """Users who entered the private domain today: mechanisms arm their clocks."""
        # callers set the state first; with no index yet, building it picks the newcomers up
        if self._members is not None:  # insert the sorted new ids: O(members), no rescan
            m = self._members
            self._members = np.insert(m, np.searchsorted(m, ids), ids)
        for mech in self.mechanisms.values():
            hook = getattr(mech, "on_join", None)
            if hook is not None:
                hook(ids)

    def churned(self, ids: np.ndarray, day: int) -> None:
        if self._members is not None:
            m = self._members
            self._members = np.delete(m, np.searchsorted(m, ids))
        for mech in self.mechanisms.values():
            hook = getattr(mech, "on_churn", None)
            if hook is not None:
                hook(ids)

    def register_leads(self, ids: np.ndarray, by: np.ndarray, source: int, day: int) -> None:
        """Prospects ``ids`` (sorted, unique) register as leads, brought by users ``by``."""
        if len(ids) == 0:
            return
        u = self.users
        u.state[ids] = MEMBER
        u.source[ids] = source
        u.join_day[ids] = day
        u.recruited_by[ids] = by
        u.channel[ids] = CHANNELS.index(self.config.channel.landing)
        u.lead_stage[ids] = 1
        self.today.new_leads += len(ids)
        if source == SOURCE_REFERRAL:
            self.today.new_members_referral += len(ids)
        else:
            self.today.new_members_event += len(ids)
        funnel = self.mechanisms.get("funnel")
        if funnel is not None:
            funnel.on_register(ids, day)
        self.joined(ids, day)

    def book(self, ids: np.ndarray, day: int, discount: float) -> None:
        """Book brand purchases by members ``ids``: VIP discount, points, channel moves."""
        if len(ids) == 0:
            return
        vip = self.config.strategy.membership
        d: float | np.ndarray = discount
        if vip.vip:
            d = np.where(self.users.vip_until[ids] >= day,
                         1 - (1 - discount) * (1 - vip.vip_discount), discount)
        net = book_purchases(self.users, self.today, ids, day, self.config.market.price, d)
        if self.transactions is not None:
            self.transactions.append((ids.astype(np.int64), np.full(len(ids), day, np.int32), net))
        for mech in self.mechanisms.values():
            hook = getattr(mech, "on_purchase", None)
            if hook is not None:
                hook(ids, net)

    def leave(self, ids: np.ndarray, day: int, banned: bool = False) -> None:
        """Members ``ids`` leave the private domain for good (churn, or a banned account)."""
        if len(ids) == 0:
            return
        u = self.users
        u.state[ids] = CHURNED
        u.churn_day[ids] = day
        self.today.churned += len(ids)
        np.add.at(self.today.churned_by_channel, u.channel[ids], 1)
        if banned:
            self.today.banned_lost += len(ids)
        self.churned(ids, day)

    def bought_outside_clock(self, ids: np.ndarray, day: int) -> None:
        """A purchase booked outside the need clock (referral) restarts the need."""
        purchase = self.mechanisms.get("purchase")
        if purchase is not None:
            purchase.restart(ids, day)

    # ------------------------------------------------------------------ the day

    def step(self) -> None:
        self.day += 1
        self.today.reset()
        for name, mech in self.mechanisms.items():
            self.timer.run(name, mech.step, self.day)
        self.timer.run("metrics", self._collect)

    def _collect(self) -> None:
        self.reporter.compute(self.day, self.users, self.today, self.members())
        self.brand.revenue = self.reporter.cum["revenue"]
        self.brand.cost = self.reporter.cum["cost"]
        self.datacollector.collect(self)

    def run(self, days: int | None = None, progress=None) -> None:
        """Run ``days`` (default: config.days) steps; ``progress(day, days)`` is called daily."""
        days = self.config.days if days is None else days
        for _ in range(days):
            self.step()
            if progress is not None:
                progress(self.day, days)

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

    def summary(self) -> dict[str, Any]:
        cfg = self.config
        s = summarize(self.users, self.series(), cfg.market.gross_margin, self.members_start,
                      cfg.population.scale)
        # mini-program sales by store-recruited customers credited to their stores (DOMAIN.md)
        u = self.users
        store_rev = float(u.revenue[u.source == SOURCE_STORE].sum()) * cfg.population.scale
        s["store_attributed_revenue"] = store_rev * cfg.dealer.attribution
        return s

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
