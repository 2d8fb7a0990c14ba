"""Offline events and clubs (NIO: 15k users a week at offline events, bringing thousands of
new users and 1,000+ leads weekly; DOMAIN.md).

On each event day (``per_week``, evenly spaced) the members most drawn to it attend, up to
``capacity`` real attendees (scaled): the draw weighs need for recognition / co-creation
and satisfaction (and, with ``focus_super_users``, spend). Attending raises satisfaction in
proportion to recognition need. Each attendee brings a friend (a graph neighbour who is still
a prospect) with probability ``guest_prob``; the friend joins as a lead (source: event) and
enters the funnel.
"""

from __future__ import annotations

import numpy as np

from sim.core.columns import SOURCE_EVENT
from sim.core.mechanisms.base import COUNT, MONEY, Mechanism, Result
from sim.core.mechanisms.shared import on_calendar, prospect_friends, super_users
from sim.core.population import segment_values


class Events(Mechanism):
    name = "events"
    doc = "offline events: attendees are pleased and bring friends (leads)"
    reads = ("strategy.events", "strategy.focus_super_users", "strategy.super_user_share",
             "population.scale", "market.segments")
    results = (
        Result("new_attendees", "users", "members who attended an event today", COUNT),
        Result("new_cost_events", "yuan", "event attendees", MONEY, 0.0, total="cost_events"),
    )

    def __init__(self, model):
        super().__init__(model)
        s = self.cfg.strategy
        self.e = s.events
        self.capacity = max(1, self.e.capacity // self.cfg.population.scale)
        self.recognition = segment_values(self.cfg.market.segments.profiles(),
                                          "recognition_need", np.float32)
        self.top = super_users(self.users.spend, s.super_user_share)

    def step(self, day: int) -> None:
        e, u, today = self.e, self.users, self.model.today
        if not on_calendar(day, e.per_week):
            return
        members = self.model.members()
        if len(members) == 0:
            return
        score = (self.recognition[u.segment[members]] * u.satisfaction[members]
                 * self.stream("attend").uniform(members, day))
        f = self.cfg.strategy.focus_super_users
        if f:  # invitations go to the biggest spenders first
            score = score * (1 + e.super_user_invite_boost * f * self.top[members])
        k = min(self.capacity, len(members))
        guests_of = members[np.argpartition(-score, k - 1)[:k]]
        attendees = np.sort(guests_of)
        sat = u.satisfaction[attendees]
        gain = e.gain * self.recognition[u.segment[attendees]]
        u.satisfaction[attendees] = np.clip(sat + gain * (1 - sat), 0.0, 1.0)
        today.new_attendees += len(attendees)
        today.new_cost_events += len(attendees) * e.cost_per_attendee
        bring = attendees[self.stream("guest").uniform(attendees, day) < e.guest_prob]
        if len(bring) == 0:
            return
        friend, host = prospect_friends(self.model.graph, u.state, bring,
                                        self.stream("friend").uniform(bring, day))
        self.model.join(friend, day, SOURCE_EVENT, by=host)
