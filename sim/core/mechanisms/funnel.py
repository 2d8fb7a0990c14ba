"""The lead funnel: registration -> trial -> purchase (Zeekr: referral registration ->
test drive 27%, -> purchase 20%; DOMAIN.md).

A prospect referred by a friend or brought to an event registers (joins the private domain
as a lead: a member who has not bought). After a delay (exponential, mean
``trial_delay_days``) a lead takes a trial (test drive, store visit, first sample) with
probability ``trial_prob``; after another delay a trialled lead buys with probability
``purchase_prob``. A lead who drops out stays a member who has not bought; a lead whose own need
arrives first and who buys the brand becomes a customer then and leaves the funnel. Switched
off, leads stay leads until they buy on their own.
"""

from __future__ import annotations

import numpy as np

from sim.core.columns import SOURCE_EVENT, SOURCE_REFERRAL
from sim.core.mechanisms.base import Mechanism


class Funnel(Mechanism):
    name = "funnel"

    def __init__(self, model):
        super().__init__(model)
        self.users.add("lead_due", np.float64, np.inf, self.name)
        self.f = self.cfg.market.funnel

    def on_register(self, ids: np.ndarray, day: int) -> None:
        wait = self.f.trial_delay_days * self.stream("trial_wait").exponential(ids, 0)
        self.users.lead_due[ids] = day + np.ceil(wait)

    def on_purchase(self, ids: np.ndarray, net: np.ndarray) -> None:
        """A lead's first purchase (through the funnel or on its own need) makes a customer."""
        u, today = self.users, self.model.today
        leads = ids[u.lead_stage[ids] > 0]
        if len(leads) == 0:
            return
        u.lead_stage[leads] = 0
        u.lead_due[leads] = np.inf
        src = u.source[leads]
        referred = int(np.count_nonzero(src == SOURCE_REFERRAL))
        today.new_customers_referral += referred
        today.new_customers_event += int(np.count_nonzero(src == SOURCE_EVENT))
        today.cost += referred * self.cfg.strategy.referral.reward

    def on_churn(self, ids: np.ndarray) -> None:
        self.users.lead_due[ids] = np.inf
        self.users.lead_stage[ids] = 0

    def step(self, day: int) -> None:
        u, f, today = self.users, self.f, self.model.today
        members = self.model.members()  # leads are members: scan them, not every user
        due = members[u.lead_due[members] <= day]
        if len(due) == 0:
            return
        stage = u.lead_stage[due]
        reg = due[stage == 1]
        if len(reg):
            go = self.stream("trial").uniform(reg, 0) < f.trial_prob
            tried, dropped = reg[go], reg[~go]
            u.lead_stage[tried] = 2
            wait = f.purchase_delay_days * self.stream("buy_wait").exponential(tried, 0)
            u.lead_due[tried] = day + np.maximum(1.0, np.ceil(wait))
            u.lead_stage[dropped] = 0
            u.lead_due[dropped] = np.inf
            today.trials += len(tried)
        trial = due[stage == 2]
        if len(trial):
            buy = trial[self.stream("buy").uniform(trial, 0) < f.purchase_prob]
            if len(buy):  # booking calls on_purchase, which turns the leads into customers
                self.model.book(buy, day, today.promo_depth if today.promo else 0.0)
                self.model.bought_outside_clock(buy, day)
            u.lead_stage[trial] = 0
            u.lead_due[trial] = np.inf
