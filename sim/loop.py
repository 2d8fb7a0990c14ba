"""The step order, written once. Each simulated day runs these phases in this order:

1. ``messaging``   the brand's promotions and content go out; fatigue decays and builds
2. ``service``     incidents arise among members and are resolved or not; satisfaction drifts
3. ``purchase``    need clocks fire: members buy the brand or elsewhere; prospects buy in store
4. ``acquisition`` store staff recruit today's in-store buyers, within friend caps
5. ``referral``    customers recommend the brand to graph neighbours; prospects convert
6. ``churn``       members leave on fatigue and dissatisfaction
7. ``metrics``     the day's reporters are computed from the columns and collected

So a promotion lands before the purchase decision it pulls forward, a service failure
before the churn decision it provokes, and a user recruited today can churn today. A
mechanism switched off in ``mechanisms.*`` is simply absent from the plan.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sim.mechanisms.acquisition import Acquisition
from sim.mechanisms.churn import Churn
from sim.mechanisms.messaging import Messaging
from sim.mechanisms.purchase import Purchase
from sim.mechanisms.referral import Referral
from sim.mechanisms.service import Service

PHASES = (
    ("messaging", Messaging),
    ("service", Service),
    ("purchase", Purchase),
    ("acquisition", Acquisition),
    ("referral", Referral),
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
