"""Bass adoption: advertising plus word of mouth, for validation against the Bass model.

Off unless ``bass.enabled``. Each prospect adopts (joins the private domain) with daily
hazard ``p + q x (adopted share of its contacts)``: ``p`` the innovation (advertising)
coefficient, ``q`` the imitation (word of mouth) coefficient, both per day (Bass 1969). On a
complete graph with every other mechanism off, the cumulative adopter share follows the
Bass curve ``F(t) = (1 - e^-(p+q)t) / (1 + (q/p) e^-(p+q)t)`` as the population grows, up to
the discrete-time error of a daily step (Fibich, Golan & Schochet 2023); on sparse graphs
adoption lies below it. The share of contacts is read at the start of the day. Adopters
join like any newcomer (:meth:`SiyuModel.join`), in the landing channel.
"""

from __future__ import annotations

import numpy as np

from sim.core.clocks import Clock
from sim.core.columns import PROSPECT, SOURCE_ADOPTION
from sim.core.mechanisms.base import Mechanism, clock_columns


class Adoption(Mechanism):
    name = "adoption"
    doc = "(validation only, ``bass.enabled``) Bass advertising + word of mouth"
    reads = ("bass",)
    columns = clock_columns("adopt", "adoption")

    def __init__(self, model):
        super().__init__(model)
        self.b = self.cfg.bass
        self.clock = Clock(self.users, "adopt", self.stream("clock"))

    def init_state(self) -> None:
        if self.b.enabled:
            self.clock.start(np.flatnonzero(self.users.state == PROSPECT))

    def on_join(self, ids: np.ndarray, day: int, source: int) -> None:
        """A user who joined by any route is no longer a prospect: nothing left to adopt."""
        self.clock.stop(ids)

    def step(self, day: int) -> None:
        if not self.b.enabled:
            return
        u = self.users
        prospects = np.flatnonzero(u.state == PROSPECT)
        if len(prospects) == 0:
            return
        adopted = u.state != PROSPECT  # members and churned users have adopted
        share = self.model.graph.neighbor_share(adopted)[prospects] if self.b.q > 0 else 0.0
        new = self.clock.advance(prospects, self.b.p + self.b.q * share)
        if len(new) == 0:
            return
        self.model.join(new, day, SOURCE_ADOPTION)
