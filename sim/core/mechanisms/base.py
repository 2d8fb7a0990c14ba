"""The mechanism contract (after Starsim's modules): what a mechanism declares and receives.

A mechanism is a class that declares, as class attributes,

* ``reads``: the config keys it reads (dotted prefixes: ``"strategy.promotion"`` covers every
  key under it). ``self.cfg`` is a view of the config that refuses any other key, so an
  undeclared read fails the first time it runs (``tests/test_contract.py`` runs them all);
* ``columns``: the user columns it owns (name, dtype, fill, doc). A column shared with other
  mechanisms is declared by the one that writes it; the table holds every declared column of
  every mechanism, switched on or off, so a reader of a switched-off writer sees the neutral
  fill value;
* ``results``: what it reports for the day (name, unit, kind, doc). ``model.today`` has one
  attribute per result, the daily series one column per reported result, and the docs table
  (docs/mechanisms.md) one row: all generated from these declarations.

and receives these hooks from the model, every one a no-op unless overridden:

* ``init_state()`` once every column exists and before day 1;
* ``on_join(ids, day, source)`` users entered the private domain (:meth:`SiyuModel.join`);
* ``on_leave(ids, day)`` members left it;
* ``on_purchase(ids, net, day)`` members bought the brand (:meth:`SiyuModel.book`);
* ``on_own(ids, day)`` users became brand owners: a first purchase, in any channel;
* ``report(day, members)`` the stock results it owns, computed from columns at day's end;
* ``step(day)`` its phase of the day. The order of phases is written once, in ``sim.core.loop``.

Mechanisms never look each other up: what one publishes for others is a column (group
activity, the KOC flag), a result on ``model.today`` (today's promotion, store buyers) or a
function of the shared module :mod:`sim.core.mechanisms.shared` (calendars, KOC effects,
staff effort).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from sim.core.clocks import Clock

if TYPE_CHECKING:
    from sim.core.model import SiyuModel

# kinds of result: how the day's value is kept and reported
COUNT = "count"    # users or events of the day, summed; reported x population.scale
MONEY = "money"    # yuan of the day from per-user amounts, summed; reported x population.scale
FIXED = "fixed"    # summed, not scaled: real accounts, groups, fixed costs (already real units)
LEVEL = "level"    # a value set once a day (a mean, a share, a flag); not scaled
STOCK = "stock"    # computed from columns at the day's end by ``report``; counts x scale
SIGNAL = "signal"  # passed between phases within the day; not in the series
KINDS = (COUNT, MONEY, FIXED, LEVEL, STOCK, SIGNAL)


@dataclass(frozen=True)
class Column:
    """A user column: one typed numpy array over all users. ``fill`` is a value, or a
    function of the config giving it (a neutral value that is itself a parameter)."""

    name: str
    dtype: Any
    fill: Any
    doc: str


@dataclass(frozen=True)
class Result:
    """A named result of the day (a flow, a level, a stock or a signal between phases)."""

    name: str
    unit: str
    doc: str
    kind: str = COUNT
    default: Any = 0
    total: str | None = None  # the summary.json key of its run total (sum over days), if any

    @property
    def is_cost(self) -> bool:
        """Costs are the results named ``new_cost_<kind>``: the day's ``new_cost`` sums them."""
        return self.name.startswith("new_cost_")

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"result {self.name}: kind {self.kind!r} not in {KINDS}")

    @property
    def in_series(self) -> bool:
        return self.kind != SIGNAL

    @property
    def scaled(self) -> bool:
        return self.kind in (COUNT, MONEY, STOCK)


def clock_columns(name: str, what: str) -> tuple[Column, Column]:
    """The two columns of an integrated-hazard clock (:class:`sim.core.clocks.Clock`)."""
    return (Column(f"{name}_R", np.float64, np.inf, f"hazard left until the next {what} "
                   "(inf: clock stopped)"),
            Column(f"{name}_k", np.int32, 0, f"{what} events so far (the clock's draw counter)"))


class UndeclaredRead(AttributeError):
    """A mechanism read a config key it does not list in ``reads``."""


class ConfigView:
    """A read-only view of the config that allows only the declared keys (and their parents).

    A key allowed once is kept on the view (the config does not change during a run), so a
    mechanism's step reads ``self.cfg.strategy.service`` at the cost of plain attributes,
    not of the check."""

    def __init__(self, obj: Any, reads: tuple[str, ...], owner: str, path: str = ""):
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_reads", reads)
        object.__setattr__(self, "_owner", owner)

    def __getattr__(self, name: str) -> Any:  # only for names not kept on the view yet
        if name.startswith("__"):
            raise AttributeError(name)
        path = f"{self._path}.{name}" if self._path else name
        covered = any(path == r or path.startswith(r + ".") for r in self._reads)
        value = getattr(self._obj, name)
        if covered:
            pass
        elif dataclasses.is_dataclass(value) and any(r.startswith(path + ".") for r in self._reads):
            value = ConfigView(value, self._reads, self._owner, path)
        else:
            raise UndeclaredRead(f"mechanism {self._owner!r} reads config key {path!r} but does "
                                 f"not declare it; add it to {self._owner}.reads")
        object.__setattr__(self, name, value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("the config is read-only inside the model")


class Mechanism:
    """Base class: declarations (class attributes) and the hooks the model calls."""

    name: ClassVar[str] = "mechanism"
    doc: ClassVar[str] = ""
    reads: ClassVar[tuple[str, ...]] = ()
    columns: ClassVar[tuple[Column, ...]] = ()
    results: ClassVar[tuple[Result, ...]] = ()

    def __init__(self, model: SiyuModel):
        self.model = model
        self.cfg = ConfigView(model.config, self.reads, self.name)
        self.users = model.users

    def stream(self, what: str):
        """The named common-random-number stream ``{mechanism}.{what}``."""
        return self.model.streams[f"{self.name}.{what}"]

    # ------------------------------------------------------------------ hooks (no-ops)

    def init_state(self) -> None:
        """Set initial state once every column exists (before day 1)."""

    def on_join(self, ids: np.ndarray, day: int, source: int) -> None:
        """Users ``ids`` (sorted) entered the private domain on ``day`` from ``source``."""

    def on_leave(self, ids: np.ndarray, day: int) -> None:
        """Members ``ids`` left the private domain on ``day``."""

    def on_purchase(self, ids: np.ndarray, net: np.ndarray, day: int) -> None:
        """Members ``ids`` bought the brand on ``day`` for ``net`` yuan each."""

    def on_own(self, ids: np.ndarray, day: int) -> None:
        """Users ``ids`` (sorted) bought the brand for the first time (any channel)."""

    def on_change(self, column: str, ids: np.ndarray) -> None:
        """Users ``ids``' values of ``column`` were written (``model.changed``)."""

    def report(self, day: int, members: np.ndarray) -> dict[str, float]:
        """The stock results this mechanism declares, in simulated users (scaled by the model)."""
        return {}

    def step(self, day: int) -> None:
        """This mechanism's phase of the day."""

    def sync(self) -> None:
        """Bring the columns this mechanism keeps elsewhere during a run (compactly, by a
        clock) up to date; the model calls it at the end of each ``run``."""


class MemberClockMechanism(Mechanism):
    """A mechanism with one event clock per member (``clock_name``, drawing from stream
    ``{name}.{clock_stream}``): armed when a user joins, stopped when the member leaves."""

    clock_name: ClassVar[str]
    clock_stream: ClassVar[str] = "clock"

    def __init__(self, model: SiyuModel):
        super().__init__(model)
        self.clock = Clock(self.users, self.clock_name, self.stream(self.clock_stream))

    def init_state(self) -> None:
        self.clock.start(self.model.members())

    def on_join(self, ids: np.ndarray, day: int, source: int) -> None:
        self.clock.start(ids)

    def on_leave(self, ids: np.ndarray, day: int) -> None:
        self.clock.stop(ids)
