"""The lead funnel: registration -> trial -> purchase (Zeekr: referral registration ->
test drive 27%, -> purchase 20%; DOMAIN.md).

A prospect referred by a friend or brought to an event registers (joins the private domain
as a lead: a member who has not bought). After a delay (exponential, mean
``trial_delay_days``) a lead takes a trial (test drive, store visit, first sample) with
probability ``trial_prob``; after another delay a trialled lead buys with probability
``purchase_prob``. A lead who drops out stays a member who has not bought; a lead whose own need
arrives first and who buys the brand becomes a customer then and leaves the funnel. Leads
and their conversion to customers are the model's own accounting (``lead_stage``,
:meth:`SiyuModel.book`): switched off, the funnel takes no one to a trial, and leads stay
leads until they buy on their own need.
"""

from __future__ import annotations

import numpy as np

from sim.core.clocks import DueCalendar
from sim.core.columns import MEMBER, unique
from sim.core.mechanisms.base import COUNT, Column, Mechanism, Result
from sim.core.mechanisms.shared import LEAD_SOURCES


class Funnel(Mechanism):
    name = "funnel"
    doc = "leads move on: registration -> trial -> purchase"
    reads = ("market.funnel",)
    columns = (Column("lead_due", np.float64, np.inf, "day the lead's next funnel step is due"),)
    results = (Result("new_trials", "users", "leads who took a trial today", COUNT),)

    scan_all = False  # True: check the calendar against a scan of every member (tests)

    def __init__(self, model):
        super().__init__(model)
        self.f = self.cfg.market.funnel
        # leads filed by the day their next step falls due: a day looks only at those due
        self.calendar = DueCalendar(first_day=model.steps + 1)

    def init_state(self) -> None:
        u = self.users
        ids = np.flatnonzero(u.lead_due < np.inf)
        self.calendar.add(ids, u.lead_due[ids])

    def on_join(self, ids: np.ndarray, day: int, source: int) -> None:
        """Friends brought by a referral or an event joined as leads: their trial comes due."""
        if source not in LEAD_SOURCES:
            return
        wait = self.f.trial_delay_days * self.stream("trial_wait").exponential(ids, 0)
        due = day + np.ceil(wait)
        self.users.lead_due[ids] = due
        self.calendar.add(ids, due)

    def on_purchase(self, ids: np.ndarray, net: np.ndarray, day: int) -> None:
        """A lead who bought (through the funnel or on its own need) leaves the funnel."""
        self.users.lead_due[ids] = np.inf

    def on_leave(self, ids: np.ndarray, day: int) -> None:
        self.users.lead_due[ids] = np.inf

    def step(self, day: int) -> None:
        u, f, today = self.users, self.f, self.model.today
        # the members whose next step is due by today (== members[lead_due[members] <= day]):
        # the calendar's entries for today, less those whose due day has moved since
        due = unique(self.calendar.take(day))
        due = due[u.lead_due[due] <= day]
        if self.scan_all:  # the reference (tests): scan every member
            members = self.model.members()
            ref = members[u.lead_due[members] <= day]
            if not np.array_equal(ref, due[u.state[due] == MEMBER]):
                raise AssertionError(f"day {day}: the lead calendar missed or added leads")
        if len(due) == 0:
            return
        member = u.state[due] == MEMBER
        if not member.all():  # not a lead now: looked at again tomorrow, as before
            self.calendar.add(due[~member], np.full(np.count_nonzero(~member), day + 1.0))
            due = due[member]
        stage = u.lead_stage[due]
        idle = (stage != 1) & (stage != 2)
        if idle.any():  # due but at no stage: looked at again tomorrow, as before
            self.calendar.add(due[idle], np.full(np.count_nonzero(idle), day + 1.0))
        reg = due[stage == 1]
        if len(reg):
            go = self.stream("trial").uniform(reg, 0) < f.trial_prob
            tried, dropped = reg[go], reg[~go]
            u.lead_stage[tried] = 2
            wait = f.purchase_delay_days * self.stream("buy_wait").exponential(tried, 0)
            next_due = day + np.maximum(1.0, np.ceil(wait))
            u.lead_due[tried] = next_due
            self.calendar.add(tried, next_due)
            u.lead_stage[dropped] = 0
            u.lead_due[dropped] = np.inf
            today.new_trials += len(tried)
        trial = due[stage == 2]
        if len(trial):
            buy = trial[self.stream("buy").uniform(trial, 0) < f.purchase_prob]
            # booking makes the leads customers (SiyuModel.book) and meets their need
            self.model.book(buy, day, today.promo_depth if today.promo else 0.0)
            u.lead_stage[trial] = 0
            u.lead_due[trial] = np.inf
