"""Touchpoints: a member holds several at once, and a launch's presale pulls prospects in.

DOMAIN.md's channel table: the private domain is a staff account (personal WeChat or WeCom),
a group, the official account and the mini-program, held in combination ("official account
-> personal account", "group + personal account", "group + mini-program"). The ``touch``
column holds each member's set (bits, :data:`sim.core.columns.TOUCH_NAMES`):

* landing on a staff account or the official account gives that touchpoint (``SiyuModel.join``);
  a place in a group gives the group (groups); ``follow_official_account`` of newcomers on a
  staff account also follow the official account (seed 003), which adds its reach to theirs
  (messaging); a private-domain purchase goes through the mini-program (seed 003: the
  conversion point of group and guide traffic);
* touchpoints are lost one at a time: quitting a group (groups), a banned staff account
  (acquisition); a member with no staff account, group or official account left has left
  the private domain. Churn (deleting the staff account / unfollowing) still ends them all;
* staff add people through other touchpoints: official-account followers diverted to a staff
  account, group questions escalated 1:1 (acquisition).

**Presale** (seed 000, co-build: "at presale, presale gifts and group-only offers pull
prospects into groups"). A launch comes every ``market.launch_every_days``; over the
``presale_days`` before it (launch day included) each prospect of the catchment joins a
group with probability ``presale_join_prob`` per window (spread evenly over its days), for a
gift of ``presale_gift_cost``. They hold the group only, until a question escalates to a
staff account.
"""

from __future__ import annotations

import numpy as np

from sim.core import jit
from sim.core.columns import (
    MEMBER,
    PROSPECT,
    SOURCE_PRESALE,
    TOUCH_GROUP,
    TOUCH_MINI,
    TOUCH_OFFICIAL,
    TOUCH_REACH,
    TOUCH_STAFF,
)
from sim.core.jit import NCHUNK, prange
from sim.core.mechanisms.base import LEVEL, MONEY, STOCK, Mechanism, Result
from sim.core.mechanisms.shared import per_day, staff_channel

# for each touch set (0-15): which of the four touchpoints it holds, and whether it holds two
# or more of the reachable ones (staff account, group, official account)
SETS = np.arange(16)
HOLDS = [(SETS & bit) > 0 for bit in (TOUCH_STAFF, TOUCH_GROUP, TOUCH_OFFICIAL, TOUCH_MINI)]
MULTI = np.array([bin(s & TOUCH_REACH).count("1") >= 2 for s in range(16)])


@jit.kernel(parallel=True)
def _count_sets(members, touch, counts):  # pragma: no cover - compiled
    """``np.bincount(touch[members])`` in one pass, parallel over :data:`NCHUNK` chunks:
    into ``counts[chunk]`` (one slot per value of the uint8 column), summed by the caller."""
    n = members.shape[0]
    for c in prange(NCHUNK):
        ids, slots = members[n * c // NCHUNK:n * (c + 1) // NCHUNK], counts[c]
        for j in range(ids.shape[0]):
            slots[touch[ids[j]]] += 1


class Touchpoints(Mechanism):
    name = "touchpoints"
    doc = "members hold several touchpoints; presales pull prospects into groups"
    reads = ("touchpoints", "market.launch_every_days", "channel.landing", "mechanisms.groups")
    results = (
        Result("launch", "flag", "1 on a product launch day", LEVEL, False),
        Result("new_cost_presale_gifts", "yuan", "gifts to prospects pulled into groups at "
               "presale", MONEY, 0.0, total="cost_presale_gifts"),
        Result("n_touch_staff", "users", "members holding a staff account (personal WeChat or "
               "WeCom)", STOCK),
        Result("n_touch_group", "users", "members in a group", STOCK),
        Result("n_touch_official_account", "users", "members following the official account",
               STOCK),
        Result("n_touch_mini_program", "users", "members who have bought through the "
               "mini-program", STOCK),
        Result("n_touch_multi", "users", "members holding two or more of staff account, group "
               "and official account", STOCK),
    )

    def __init__(self, model):
        super().__init__(model)
        t = self.cfg.touchpoints
        self.every = self.cfg.market.launch_every_days
        self.presale = (self.every > 0 and t.presale_join_prob > 0 and self.cfg.mechanisms.groups)
        # per day of the window, so that a window pulls presale_join_prob of the prospects
        self.p_day = per_day(t.presale_join_prob, t.presale_days)
        self.group_channel = staff_channel(model.landing)

    def init_state(self) -> None:
        self._follow(self.model.members(), 0)

    def on_join(self, ids: np.ndarray, day: int, source: int) -> None:
        if source == SOURCE_PRESALE:  # in the group only, no staff account yet
            self.users.touch[ids] &= ~np.uint8(TOUCH_STAFF)
        else:
            self._follow(ids, day)

    def _follow(self, ids: np.ndarray, day: int) -> None:
        """Newcomers on a staff account who also follow the official account."""
        u = self.users
        f = self.cfg.touchpoints.follow_official_account
        staff = ids[(u.touch[ids] & TOUCH_STAFF) > 0]
        if f <= 0 or len(staff) == 0:
            return
        follow = staff[self.stream("follow").uniform(staff, day) < f]
        u.touch[follow] |= np.uint8(TOUCH_OFFICIAL)

    def on_purchase(self, ids: np.ndarray, net: np.ndarray, day: int) -> None:
        u = self.users
        u.touch[ids[u.state[ids] == MEMBER]] |= np.uint8(TOUCH_MINI)

    def report(self, day: int, members: np.ndarray) -> dict[str, float]:
        if jit.use(len(members)):
            chunks = np.zeros((NCHUNK, 256), dtype=np.int64)
            _count_sets(members, self.users.touch, chunks)
            counts = chunks.sum(axis=0)
            held = np.flatnonzero(counts)  # bincount's length: minlength, or the largest + 1
            counts = counts[:max(16, held[-1] + 1 if len(held) else 0)]
        else:
            counts = np.bincount(self.users.touch[members], minlength=16)
        staff, group, official, mini = (int(counts[h].sum()) for h in HOLDS)
        return {"n_touch_staff": staff, "n_touch_group": group,
                "n_touch_official_account": official, "n_touch_mini_program": mini,
                "n_touch_multi": int(counts[MULTI].sum())}

    def step(self, day: int) -> None:
        if self.every <= 0:
            return
        until_launch = (-day) % self.every  # 0 on a launch day
        today = self.model.today
        today.launch = until_launch == 0
        if not self.presale or until_launch >= self.cfg.touchpoints.presale_days:
            return
        u = self.users
        prospects = np.flatnonzero(u.state == PROSPECT)
        pulled = prospects[self.stream("presale").uniform(prospects, day) < self.p_day]
        today.new_cost_presale_gifts += len(pulled) * self.cfg.touchpoints.presale_gift_cost
        self.model.join(pulled, day, SOURCE_PRESALE, channel=self.group_channel)
