"""Win-back: recall campaigns to lapsed former members (seed 002; DOMAIN.md "Measurement").

Leaving the private domain is not leaving the brand, and a former member can come back.
Seed 002 surveys and recalls lost high-value users (10+ purchases, none in six months). Once
a week the brand contacts each lapsed former member (left the private domain, bought the
brand at least ``min_purchases`` times in any channel, none in the last ``lapsed_days``) with
probability ``per_year / 52``; a contact costs ``cost_per_contact`` and brings the user back
(re-joins through :meth:`SiyuModel.join`, source ``recall``) with probability
``rejoin_prob x (satisfaction / pivot)`` (capped at 1): the unhappy ones rarely return.
"""

from __future__ import annotations

import numpy as np

from sim.core.columns import CHURNED, SOURCE_RECALL
from sim.core.mechanisms.base import COUNT, MONEY, Mechanism, Result
from sim.core.mechanisms.shared import on_calendar


class Recall(Mechanism):
    name = "recall"
    doc = "recall campaigns contact lapsed former members; some come back"
    reads = ("strategy.recall", "strategy.satisfaction.pivot")
    results = (
        Result("new_recall_contacts", "users", "lapsed former members contacted today", COUNT,
               total="recall_contacts"),
        Result("new_cost_recall", "yuan", "recall contacts", MONEY, 0.0, total="cost_recall"),
    )

    def step(self, day: int) -> None:
        r = self.cfg.strategy.recall
        if r.per_year <= 0 or not on_calendar(day, 1.0):
            return
        u, today = self.users, self.model.today
        gone = np.flatnonzero(u.state == CHURNED)  # weekly: one scan of the state column
        if len(gone) == 0:
            return
        bought = u.n_buy[gone] + u.public_buys[gone] + u.owned_before[gone]
        last = np.maximum(u.last_buy_day[gone], u.last_public_day[gone])
        lapsed = gone[(bought >= r.min_purchases) & (day - last >= r.lapsed_days)]
        contact = lapsed[self.stream("contact").uniform(lapsed, day) < min(1.0, r.per_year / 52)]
        if len(contact) == 0:
            return
        today.new_recall_contacts += len(contact)
        today.new_cost_recall += len(contact) * r.cost_per_contact
        p = r.rejoin_prob * u.satisfaction[contact] / self.cfg.strategy.satisfaction.pivot
        back = contact[self.stream("rejoin").uniform(contact, day) < np.minimum(p, 1.0)]
        self.model.join(back, day, SOURCE_RECALL)
