"""Integrated-hazard event clocks: recurring events with state-dependent daily hazards.

Each user holds an accumulated hazard ``H`` and a threshold ``E ~ Exp(1)``; every day the
mechanism adds the day's hazard ``h`` (per day) and the event fires when ``H >= E``. This
is exact for a piecewise-constant hazard: the probability of firing on a day is
``1 - exp(-h)`` (Cox & Oakes 1984, the inverse-cumulative-hazard method). After an event
the clock resets and draws its next threshold from the stream at counter = the user's
event count, so a user's k-th threshold is the same whatever strategy runs: changing a
hazard moves event times monotonically instead of reshuffling everyone's luck (common
random numbers). Cost per day: an add and a compare over the users advanced, and random
draws only for the users whose event fired.
"""

from __future__ import annotations

import numpy as np

from sim.columns import Columns
from sim.rng import Stream


class Clock:
    """Columns ``{name}_H`` (float64), ``{name}_E`` (float64) and ``{name}_k`` (int32)."""

    def __init__(self, table: Columns, name: str, stream: Stream, owner: str = ""):
        self.name = name
        self.table = table
        self.stream = stream
        table.add(f"{name}_H", np.float64, 0.0, owner)
        table.add(f"{name}_E", np.float64, np.inf, owner)
        table.add(f"{name}_k", np.int32, 0, owner)

    @property
    def H(self) -> np.ndarray:
        return getattr(self.table, f"{self.name}_H")

    @property
    def E(self) -> np.ndarray:
        return getattr(self.table, f"{self.name}_E")

    @property
    def k(self) -> np.ndarray:
        return getattr(self.table, f"{self.name}_k")

    def start(self, ids: np.ndarray, offset: np.ndarray | float = 0.0) -> None:
        """Arm the clock for ``ids``: H = offset and a fresh threshold above it."""
        if len(ids) == 0:
            return
        self.H[ids] = offset
        self.E[ids] = offset + self.stream.exponential(ids, self.k[ids])

    def stop(self, ids: np.ndarray) -> None:
        self.E[ids] = np.inf

    def advance(self, ids: np.ndarray, hazard: np.ndarray | float) -> np.ndarray:
        """Add a day's hazard for ``ids``; return the ids whose event fires (sorted)."""
        if len(ids) == 0:
            return ids
        H = self.H[ids] + hazard
        self.H[ids] = H
        return ids[H >= self.E[ids]]

    def fire(self, ids: np.ndarray) -> None:
        """Count the event and re-arm: the next threshold comes from counter k+1."""
        if len(ids) == 0:
            return
        self.k[ids] += 1
        self.start(ids)
