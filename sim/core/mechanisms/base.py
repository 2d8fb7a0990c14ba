"""The lifecycle every mechanism follows (after Starsim's modules).

A mechanism declares the columns it owns and the random streams it draws from in
``__init__``, sets initial state in ``init_state`` once every column exists, and acts in
``step`` as vectorised kernels over the user table. It reads and writes the day's flows
through ``model.today``. The order mechanisms run in is written once, in ``sim.core.loop``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.core.model import SiyuModel


class Mechanism:
    name: str = "mechanism"

    def __init__(self, model: SiyuModel):
        self.model = model
        self.cfg = model.config
        self.users = model.users

    def segval(self, attr: str):
        """One value per segment code of a market.segments profile attribute (index by segment)."""
        import numpy as np

        return np.array([getattr(p, attr) for p in self.cfg.market.segments.profiles()],
                        dtype=np.float32)

    def stream(self, what: str):
        """The named random stream ``{mechanism}.{what}``."""
        return self.model.streams[f"{self.name}.{what}"]

    def init_state(self) -> None:
        """Set initial state once every mechanism has declared its columns."""

    def step(self, day: int) -> None:
        raise NotImplementedError
