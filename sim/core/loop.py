"""The step order, written once. Each simulated day runs these phases in this order:

1.  ``koc``         the KOC program tops up, rewards and recognises its KOCs
2.  ``messaging``   the brand's promotions and content go out; fatigue decays and builds
3.  ``groups``      group activity moves (staff, brand, KOC posts, members' own talk, spam)
4.  ``events``      offline events: attendees are pleased and bring friends (leads)
5.  ``service``     incidents arise and are answered within capacity or not; word of mouth
6.  ``membership``  task points, tiers, redemptions, VIP upgrades and renewals
7.  ``purchase``    need clocks fire: members buy the brand or elsewhere; prospects buy in store
8.  ``funnel``      leads move on: registration -> trial -> purchase
9.  ``acquisition`` store staff add today's in-store buyers, within caps, risking bans
10. ``referral``    customers recommend the brand to graph neighbours; prospects register
11. ``adoption``    (validation only, ``bass.enabled``) Bass advertising + word of mouth
12. ``churn``       members leave on channel churn, fatigue, dissatisfaction, dead groups
13. ``metrics``     the day's reporters are computed from the columns and collected

So a promotion lands before the purchase decision it pulls forward, a service failure
before the churn decision it provokes, and a user recruited today can churn today. A
mechanism switched off in ``mechanisms.*`` is simply absent from the plan; the state it
would have changed keeps its neutral value (e.g. group activity 0.5 with no groups).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sim.core.mechanisms.acquisition import Acquisition
from sim.core.mechanisms.adoption import Adoption
from sim.core.mechanisms.churn import Churn
from sim.core.mechanisms.events import Events
from sim.core.mechanisms.funnel import Funnel
from sim.core.mechanisms.groups import Groups
from sim.core.mechanisms.koc import KocProgram
from sim.core.mechanisms.membership import Membership
from sim.core.mechanisms.messaging import Messaging
from sim.core.mechanisms.purchase import Purchase
from sim.core.mechanisms.referral import Referral
from sim.core.mechanisms.service import Service

PHASES = (
    ("koc", KocProgram),
    ("messaging", Messaging),
    ("groups", Groups),
    ("events", Events),
    ("service", Service),
    ("membership", Membership),
    ("purchase", Purchase),
    ("funnel", Funnel),
    ("acquisition", Acquisition),
    ("referral", Referral),
    ("adoption", Adoption),
    ("churn", Churn),
)


@dataclass
class PhaseTimer:
    """Wall time spent in each phase, summed over the run (seconds)."""

    seconds: dict[str, float] = field(default_factory=dict)

    def run(self, name: str, fn, *args) -> None:
        t0 = time.perf_counter()
        fn(*args)
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0
