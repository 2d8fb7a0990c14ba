"""The step order, written once: :data:`PHASES` is the order of a simulated day.

Each day runs the mechanisms below in this order, then the metrics phase computes the day's
row from the columns (docs/mechanisms.md lists each phase with what it does, reads and
writes; that table is generated from the mechanism classes). The order matters: a promotion
(messaging) lands before the purchase decision it pulls forward, a service failure before
the churn decision it provokes, and a user recruited today (acquisition, referral) can churn
today. A mechanism switched off in ``mechanisms.*`` is simply absent from the plan; the state
it would have changed keeps the neutral fill of its columns (e.g. group activity
``groups.neutral_activity`` with no groups).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sim.core.mechanisms.acquisition import Acquisition
from sim.core.mechanisms.adoption import Adoption
from sim.core.mechanisms.base import Mechanism
from sim.core.mechanisms.churn import Churn
from sim.core.mechanisms.events import Events
from sim.core.mechanisms.funnel import Funnel
from sim.core.mechanisms.groups import Groups
from sim.core.mechanisms.koc import KocProgram
from sim.core.mechanisms.membership import Membership
from sim.core.mechanisms.messaging import Messaging
from sim.core.mechanisms.purchase import Purchase
from sim.core.mechanisms.recall import Recall
from sim.core.mechanisms.referral import Referral
from sim.core.mechanisms.service import Service
from sim.core.mechanisms.touchpoints import Touchpoints

PHASES: tuple[type[Mechanism], ...] = (
    KocProgram,   # the KOC program tops up, rewards and recognises its KOCs
    Messaging,    # the brand's promotions and content go out
    Groups,       # group activity moves; members quit groups
    Touchpoints,  # presales pull prospects into groups (launch calendar)
    Events,       # offline events; guests join as leads
    Service,      # incidents are answered or not; word of mouth
    Membership,   # points, tiers, VIP
    Purchase,     # need clocks fire: members buy the brand or elsewhere
    Funnel,       # leads move on: registration -> trial -> purchase
    Acquisition,  # store staff add today's in-store buyers
    Referral,     # customers recommend the brand; friends register
    Adoption,     # Bass validation only
    Recall,       # recall campaigns win back lapsed former members
    Churn,        # members leave
)


@dataclass
class PhaseTimer:
    """Wall time spent in each phase, summed over the run (seconds)."""

    seconds: dict[str, float] = field(default_factory=dict)

    def run(self, name: str, fn, *args) -> None:
        t0 = time.perf_counter()
        fn(*args)
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0
