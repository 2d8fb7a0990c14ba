"""Integrated-hazard event clocks: recurring events with state-dependent daily hazards.

Each user has a threshold ``E ~ Exp(1)`` and accumulates the day's hazard ``h`` (per day);
the event fires when the accumulated hazard reaches ``E``. This is exact for a
piecewise-constant hazard: the probability of firing on a day is ``1 - exp(-h)`` (the
inverse-cumulative-hazard method; Cox & Oakes 1984). The clock stores only what is left,
``R = E - accumulated`` (column ``{name}_R``; inf while stopped), so a day costs one gather,
one subtraction and one scatter over the users advanced.

After an event the clock draws the next threshold from its stream at counter = the user's
event count (``{name}_k``), so a user's k-th threshold is the same whatever strategy runs:
changing a hazard moves event times monotonically instead of reshuffling everyone's luck
(common random numbers), and random draws happen only for the users whose event fired.
"""

from __future__ import annotations

import numpy as np

from sim.core.columns import Columns
from sim.core.rng import Stream


class Clock:
    """On columns ``{name}_R`` (float64, hazard left until the event) and ``{name}_k`` (int32),
    which the owning mechanism declares (:func:`sim.core.mechanisms.base.clock_columns`)."""

    def __init__(self, table: Columns, name: str, stream: Stream):
        self.name = name
        self.table = table
        self.stream = stream
        for col in (f"{name}_R", f"{name}_k"):
            if col not in table:
                raise KeyError(f"clock {name!r}: column {col!r} is not declared")

    @property
    def R(self) -> np.ndarray:
        return getattr(self.table, f"{self.name}_R")

    @property
    def k(self) -> np.ndarray:
        return getattr(self.table, f"{self.name}_k")

    def start(self, ids: np.ndarray) -> None:
        """Arm the clock for ``ids`` with a fresh threshold (draw number k)."""
        if len(ids) == 0:
            return
        self.R[ids] = self.stream.exponential(ids, self.k[ids])

    def stop(self, ids: np.ndarray) -> None:
        self.R[ids] = np.inf

    def advance(self, ids: np.ndarray, hazard: np.ndarray | float) -> np.ndarray:
        """Add a day's hazard for ``ids``; return the ids whose event fires (in ``ids`` order)."""
        if len(ids) == 0:
            return ids
        left = self.R[ids] - hazard
        self.R[ids] = left
        return ids[left <= 0]

    def fire(self, ids: np.ndarray) -> None:
        """Count the event and re-arm: the next threshold comes from counter k+1."""
        if len(ids) == 0:
            return
        self.k[ids] += 1
        self.start(ids)
