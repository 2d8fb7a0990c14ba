"""Mesa agent classes for every actor kind.

Users, KOCs and community groups are numerous: their state lives in the model's columns
(and the groups mechanism's arrays) and their agents are thin handles onto a row, made on
demand (``model.user(i)``, ``model.group(g)``). A handle is a view, not a registered agent:
making one does not add to ``model.agents``, and dropping it frees it. Store staff and the
brand do not grow with the population and are made at build time, so
``model.agents_by_type[StoreStaff]`` and ``[Brand]`` hold them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from sim.core.columns import KOC as KOC_SEGMENT
from sim.core.columns import SEGMENT_NAMES, SOURCE_NAMES, SOURCE_STORE, STATE_NAMES
from sim.core.mechanisms.shared import staff_effort

if TYPE_CHECKING:
    from sim.core.model import SiyuModel


class _Handle(mesa.Agent):
    """A Mesa agent that views rows of the model's arrays: not registered with the model."""

    def __init__(self, model: SiyuModel):  # no super().__init__: registration is the point
        self.model = model
        self.unique_id = None
        self.pos = None


class User(_Handle):
    """A handle onto one user's row. Attributes read the columns live."""

    def __init__(self, model: SiyuModel, row: int):
        super().__init__(model)
        self.row = int(row)

    def __getattr__(self, name: str) -> Any:
        users = self.__dict__.get("model").users if "model" in self.__dict__ else None
        if users is not None and name in users:
            return getattr(users, name)[self.row].item()
        raise AttributeError(name)

    @property
    def state_name(self) -> str:
        return STATE_NAMES[int(self.model.users.state[self.row])]

    @property
    def segment_name(self) -> str:
        return SEGMENT_NAMES[int(self.model.users.segment[self.row])]

    @property
    def source_name(self) -> str:
        return SOURCE_NAMES[int(self.model.users.source[self.row])]

    @property
    def group_activity(self) -> float:
        """The activity (0-1) of the user's group (the neutral value outside groups)."""
        return float(self.model.group_activity(np.array([self.row]))[0])

    def neighbors(self):
        g = self.model.graph
        if g.is_complete:
            raise ValueError("the complete graph has no stored neighbour lists")
        return g.indices[g.indptr[self.row]:g.indptr[self.row + 1]]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} row={self.row} {self.segment_name} {self.state_name}>"


class KOC(User):
    """A user of the KOC segment: outsized reach, refers at ``referral.koc_mult`` x the rate."""

    def __init__(self, model: SiyuModel, row: int):
        if int(model.users.segment[row]) != KOC_SEGMENT:
            raise ValueError(f"user {row} is not in the KOC segment")
        super().__init__(model, row)


class StoreStaff(mesa.Agent):
    """A shopping guide of one store: recruits in-store buyers into personal accounts.

    Staff act through the acquisition phase, which runs every store's recruiting at once as a
    vectorised kernel (friend caps, daily add limits, bans per store); a per-object ``step``
    would repeat that work store by store. So this agent has no ``step`` of its own: it reads
    its effort (from the dealer mode) and its friends (from the user columns).
    """

    def __init__(self, model: SiyuModel, store: int, friend_cap: int):
        super().__init__(model)
        self.store = int(store)
        self.friend_cap = int(friend_cap)

    @property
    def effort(self) -> float:
        """0-1: how hard this staff member works the private domain, set by the dealer mode's
        attribution of online sales to the store (DOMAIN.md)."""
        return staff_effort(self.model.config.dealer)

    @property
    def friends(self) -> int:
        """This staff member's share of the store's recruited, still-active friends."""
        m = self.model
        members = m.members()
        u = m.users
        mine = (u.store[members] == self.store) & (u.source[members] == SOURCE_STORE)
        per_store = m.config.strategy.acquisition.staff_per_store
        return int(np.count_nonzero(mine)) * m.config.population.scale // per_store


class CommunityGroup(_Handle):
    """A handle onto one community group (groups live in arrays; handles are made on demand)."""

    def __init__(self, model: SiyuModel, gid: int):
        super().__init__(model)
        self.gid = int(gid)

    @property
    def _groups(self):
        groups = self.model.mechanisms.get("groups")
        if groups is None:
            raise ValueError("groups are switched off (mechanisms.groups=false)")
        return groups

    @property
    def activity(self) -> float:
        return float(self._groups.activity[self.gid])

    @property
    def size(self) -> int:
        """Members now in the group (simulated users)."""
        return int(self._groups.size[self.gid])

    @property
    def store(self) -> int:
        return self.gid // self._groups.slots

    @property
    def dead(self) -> bool:
        return self.activity < self.model.config.groups.dead_below

    def __repr__(self) -> str:
        return f"<CommunityGroup {self.gid} size={self.size} activity={self.activity:.2f}>"


class Brand(mesa.Agent):
    """The brand: runs the strategy and carries the money accounts (yuan).

    Its levers act through the mechanisms (messaging, service, events, the KOC program,
    membership), which run them over all members at once; its own ``step``, at the day's
    end, books the day into its accounts.
    """

    def __init__(self, model: SiyuModel):
        super().__init__(model)
        self.strategy = model.config.strategy
        self.revenue = 0.0
        self.cost = 0.0

    def step(self) -> None:
        """Book the day: revenue and cost so far (yuan, real units)."""
        cum = self.model.reporter.cum
        self.revenue = cum["revenue"]
        self.cost = cum["cost"]
