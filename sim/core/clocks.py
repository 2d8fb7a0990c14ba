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

from sim.core import jit
from sim.core.columns import Columns, stable_order
from sim.core.jit import NCHUNK, prange
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
        if jit.use(len(ids)):
            fired = advance_column(self.R, ids, hazard)
            if fired is not None:
                return fired
        left = self.R[ids]  # a copy: subtract in place (no second temporary)
        left -= hazard
        self.R[ids] = left
        return ids[left <= 0]

    def fire(self, ids: np.ndarray) -> None:
        """Count the event and re-arm: the next threshold comes from counter k+1."""
        if len(ids) == 0:
            return
        self.k[ids] += 1
        self.start(ids)


@jit.kernel(parallel=True, size=1)
def _advance(R, ids, hazard, one, fired):  # pragma: no cover - compiled
    """Fuses :meth:`Clock.advance`'s ``left = R[ids]; left -= hazard; R[ids] = left;
    ids[left <= 0]`` for strictly increasing ``ids`` (no repeats, so updating ``R`` in
    place reads what the gather would): one subtraction in float64 per id, as numpy's
    (a float32 hazard is widened exactly); ``one``: ``hazard[0]`` for every id. Parallel over
    :data:`NCHUNK` chunks, each listing its fired from its own start in ``fired`` (as long
    as ``ids``); returns how many each fired, for :func:`sim.core.jit.join`, or -1 first if
    ``ids`` is not strictly increasing (nothing is changed then)."""
    n = ids.shape[0]
    nf = np.zeros(NCHUNK, np.int64)
    for j in range(1, n):
        if ids[j] <= ids[j - 1]:
            nf[0] = -1
            return nf
    for c in prange(NCHUNK):
        lo, hi = n * c // NCHUNK, n * (c + 1) // NCHUNK
        ids_c, fired_c = ids[lo:hi], fired[lo:hi]
        h_c = hazard if one else hazard[lo:hi]
        k = 0
        for j in range(ids_c.shape[0]):
            i = ids_c[j]
            left = R[i] - np.float64(h_c[0] if one else h_c[j])
            R[i] = left
            if left <= 0:
                fired_c[k] = i
                k += 1
        nf[c] = k
    return nf


def advance_column(R: np.ndarray, ids: np.ndarray,
                   hazard: np.ndarray | float) -> np.ndarray | None:
    """:meth:`Clock.advance` on the float64 column ``R`` by a kernel: the fired ids, or None
    where the kernel does not apply (ids not strictly increasing or out of range, a hazard
    that is not a float scalar or a float32/float64 array like ``ids``)."""
    h = np.asarray(hazard)
    if (R.dtype != np.float64 or R.ndim != 1 or ids.ndim != 1 or ids.dtype.kind not in "iu"
            or ids[0] < 0 or ids[-1] >= len(R)):
        return None
    fired = np.empty(len(ids), dtype=ids.dtype)
    if h.ndim == 0 and h.dtype.kind in "fiu" and h.dtype.itemsize <= 8:
        # numpy widens the scalar the same way
        counts = _advance(R, ids, np.array([float(h)]), True, fired)
    elif h.shape == ids.shape and h.dtype in (np.float32, np.float64):
        counts = _advance(R, ids, h, False, fired)
    else:
        return None
    return None if counts[0] < 0 else fired[:jit.join(fired, counts)].copy()


class IndexedClock(Clock):
    """A clock advanced every day over one sorted index of users (the members, the owners),
    which keeps their hazard left compactly, in index order.

    ``advance(ids, hazard)`` with ``ids`` the index (the model's array) subtracts the day's
    hazard from a contiguous array instead of gathering from and scattering back to the
    user column: the same subtraction on the same values, without two passes over a
    population-sized column. When the index changes (users joined or left), the compact array
    follows by inserting the users the clock started and deleting those it stopped (a check
    against the new index falls back to a full gather if anything else changed it).

    The column ``{name}_R`` holds the value of the users outside the index; for those inside
    it is brought up to date by :meth:`sync` (the ``R`` property syncs before returning it).
    """

    check_all = False  # True (tests): check each alignment against the whole new index

    def __init__(self, table: Columns, name: str, stream: Stream):
        super().__init__(table, name, stream)
        self._ids: np.ndarray | None = None  # the index the compact values follow
        self._left = np.zeros(0)
        self._added: list[np.ndarray] = []    # started outside the index since the last alignment
        self._removed: list[np.ndarray] = []  # stopped inside it since
        # [source, compact copy, state?, column name or None]: per-user values
        self._riders: list[list] = []
        self._state: list[int] = []  # handles of the riders that hold state (see follow)

    def follow(self, source, state: bool = False) -> int:
        """Keep a compact copy, in index order, of a per-user array (``source``: the array,
        a function giving it, or the name of a column of the table; read when users enter
        the index); returns its handle for :meth:`rider`.

        Without ``state``, the array does not change while a user is in the index (or the
        owner writes both). With ``state``, the compact copy *is* the value of the users in
        the index: the owner reads and writes it there (:meth:`locate`), the array holds
        the others' (read when they enter) and is brought up to date by :meth:`sync`, as
        the hazard left is (one pass over the compact copy instead of over the array)."""
        name = source if isinstance(source, str) else None
        if name is not None:
            source = (lambda table=self.table, name=name: getattr(table, name))
        self._riders.append([source, None, state, name])
        if state:
            self._state.append(len(self._riders) - 1)
        return len(self._riders) - 1

    def locate(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where users ``ids`` are in the compact arrays (:meth:`rider`, aligned with the
        last advanced index) and which of them are there; a state rider is written at
        ``pos[inside]``, its array for the others."""
        return self._locate(ids)

    def changed(self, column: str, ids: np.ndarray) -> None:
        """Users ``ids``' values of ``column`` were written while they may be in the index:
        copy them into the compact copies that follow that column by name (those outside
        the index are read as they enter)."""
        handles = [h for h, r in enumerate(self._riders) if r[3] == column and not r[2]]
        if len(ids) == 0 or not handles:
            return
        pos, inside = self.locate(ids)
        if inside.any():
            for h in handles:
                self.rider(h)[pos[inside]] = self._source(h)[ids[inside]]

    def rider(self, handle: int) -> np.ndarray:
        """The compact copy of a followed array, aligned with the last advanced index."""
        return self._riders[handle][1]

    @property
    def _column(self) -> np.ndarray:
        return getattr(self.table, f"{self.name}_R")

    @property
    def R(self) -> np.ndarray:
        self.sync()
        return self._column

    def sync(self) -> None:
        """Write the compact values back to the column (and the state riders' to theirs)."""
        if self._ids is not None and len(self._ids):
            self._column[self._ids] = self._left
            for h in self._state:
                r = self._riders[h]
                if r[1] is not None:
                    self._source(h)[self._ids] = r[1]

    def _source(self, handle: int) -> np.ndarray:
        src = self._riders[handle][0]
        return src() if callable(src) else src

    def _locate(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions of ``ids`` in the index, and which of them are in it."""
        idx = self._ids
        if idx is None or len(idx) == 0:
            return np.zeros(len(ids), np.int64), np.zeros(len(ids), bool)
        pos = np.minimum(np.searchsorted(idx, ids), len(idx) - 1)
        return pos, idx[pos] == ids

    def start(self, ids: np.ndarray) -> None:
        if len(ids) == 0:
            return
        values = self.stream.exponential(ids, self.k[ids])
        self._column[ids] = values
        pos, inside = self._locate(ids)
        if inside.any():
            self._left[pos[inside]] = values[inside]
        if not inside.all():
            self._added.append(ids[~inside])

    def stop(self, ids: np.ndarray) -> None:
        self.halt(ids)

    def halt(self, ids: np.ndarray, leaving: bool = True) -> np.ndarray:
        """Stop the clock of ``ids``; with ``leaving`` they also leave the index at the next
        alignment (else they stay in it, stopped: inf). Returns their positions in the index."""
        if len(ids) == 0:
            return np.zeros(0, np.int64)
        self._column[ids] = np.inf
        pos, inside = self._locate(ids)
        at = pos[inside]
        if len(at):
            self._left[at] = np.inf
            if leaving:
                self._removed.append(ids[inside])
                self._write_back(ids[inside], at)
        return at

    def _write_back(self, ids: np.ndarray, at: np.ndarray) -> None:
        """The state riders' values of users ``ids`` (at ``at``) into their arrays, as the
        users leave the layout (their values outside it are the arrays')."""
        for h in self._state:
            self._source(h)[ids] = self.rider(h)[at]

    def _align(self, ids: np.ndarray) -> None:
        """Make the compact values follow the index ``ids`` (sorted, unique): delete the
        users stopped inside the old index, insert those started outside it that are in the
        new one. The new index must be the old one less the first plus the second (which the
        model's join, leave and own guarantee, each calling the hooks that start and stop
        the clock); counts and positions are checked, and with ``check_all`` (tests) the
        whole rebuilt index. Anything else (the first alignment, a user who left and came
        back in between) gathers the values from the column."""
        col = self._column
        old, left = self._ids, self._left
        added = jit.sorted_unique(self._added, ids[:0])
        removed = jit.sorted_unique(self._removed, ids[:0])
        self._added, self._removed = [], []
        riders = [(r, r[0]() if callable(r[0]) else r[0]) for r in self._riders]
        follow = [r[1] for r, _ in riders]
        ok = old is not None
        if ok and len(added) and len(ids):  # started but already gone again: not in the index
            pos = np.minimum(np.searchsorted(ids, added), len(ids) - 1)
            added = added[ids[pos] == added]
        elif ok and len(added):
            added = added[:0]
        if ok:
            gone = np.searchsorted(old, removed)
            at = np.searchsorted(ids, added)  # where the added land in the new index
            ok = (len(old) - len(removed) + len(added) == len(ids)
                  and np.array_equal(old[np.minimum(gone, max(len(old) - 1, 0))], removed))
        if ok:
            at = at - np.arange(len(added))  # the same places in the old index less the gone
            if len(removed) or len(added):  # one merge pass per array: delete, then insert
                left = jit.splice(left, gone, at, col[added])
                follow = [jit.splice(f, gone, at, full[added])
                          for f, (_, full) in zip(follow, riders, strict=True)]
            if self.check_all and not np.array_equal(np.insert(np.delete(old, gone), at, added),
                                                     ids):
                raise AssertionError(f"clock {self.name}: the index changed without start/stop")
        if not ok:  # first alignment, or the index changed some other way: gather it all
            self.sync()
            left = col[ids]
            follow = [full[ids] for _, full in riders]
        self._ids, self._left = ids, left
        for (r, _), f in zip(riders, follow, strict=True):
            r[1] = f

    def align(self, ids: np.ndarray) -> None:
        """Make the compact values and riders follow the index ``ids`` (the model's array)."""
        if ids is not self._ids or len(ids) != len(self._left):
            self._align(ids)

    def advance(self, ids: np.ndarray, hazard: np.ndarray | float) -> np.ndarray:
        """Add a day's hazard for the index ``ids``; return the ids whose event fires."""
        if len(ids) == 0:
            return ids
        self.align(ids)
        left = self._left
        left -= hazard
        return ids[left <= 0]


@jit.kernel(parallel=True)
def _number(ids, pos):  # pragma: no cover - compiled
    """``pos[ids] = np.arange(len(ids))`` for unique ``ids`` (int32 ``pos``), in parallel
    over :data:`NCHUNK` chunks."""
    n = ids.shape[0]
    for c in prange(NCHUNK):
        for j in range(n * c // NCHUNK, n * (c + 1) // NCHUNK):
            pos[ids[j]] = j


def room(n: int) -> int:
    """A growable buffer's capacity for ``n`` elements (a quarter spare)."""
    return n + n // 4 + 1024


def id_dtype(n_users: int) -> type:
    """int32 for the ids of a population that fits (half the bytes a pass reads), else int64."""
    return np.int32 if n_users < 2**31 else np.int64


class AppendClock(IndexedClock):
    """An :class:`IndexedClock` with a second layout for the kernels, in which the index's
    changes cost what changed, not a pass over the whole arrays.

    In the *index* layout (the numpy path, the reference) the compact values follow the
    model's sorted index (:meth:`IndexedClock.align`: a merge of the whole arrays each time
    the index changed). In the *append* layout (:meth:`to_append`, the kernels) they keep
    their own order: the users sorted at the last :meth:`compact`, then each later one
    appended as its clock starts (growable buffers: O(new users) a day, no copy of the whole
    arrays); a user who leaves the index leaves a dead slot (id -1, hazard left inf: it never
    fires) until the next compaction. A day's hazard is elementwise, so the order changes no value;
    the ids that fire come out sorted, as from the index (:meth:`fired_at`); :meth:`compact`
    (every few weeks) drops the dead slots and merges the appended into the sorted part,
    which keeps the kernels' gathers from the population columns mostly sequential.
    :meth:`to_index` goes back. The column ``{name}_R`` gets the same writes in both layouts
    (each threshold drawn; :meth:`sync`, which the ``R`` property runs, writes the compact
    values), riders are kept in both.

    In the append layout :meth:`start`, :meth:`fire`, :meth:`stop` and :meth:`halt` write at
    the users' slots (``_pos``: each user's slot, -1 outside the layout); :meth:`advance`
    takes the layout's own ids (:attr:`ids`)."""

    def __init__(self, table, name, stream):
        super().__init__(table, name, stream)
        self.appending = False
        self._n = 0       # slots in the append layout
        self._sorted = 0  # of which the first ones sorted by id
        self._aids = np.zeros(0, dtype=np.int64)
        self._aleft = np.zeros(0)
        self._ariders: list[np.ndarray] = []
        self._fired: np.ndarray | None = None  # the ids fired_at returned, and their positions
        self._fired_pos = np.zeros(0, dtype=np.int64)
        # in the append layout: each user's slot in it, -1 outside it (a removed user's slot
        # stays, dead, until the next compaction: id -1, hazard left inf, it never fires)
        self._pos: np.ndarray | None = None
        self._dead = 0
        self.before_index = None  # called before leaving the append layout

    @property
    def live(self) -> int:
        """Users in the append layout (not counting dead slots)."""
        return self._n - self._dead

    @property
    def ids(self) -> np.ndarray:
        """The users in the append layout, in its order (a dead slot holds -1: a kernel that
        writes to the users' columns skips it)."""
        return self._aids[:self._n]

    @property
    def left(self) -> np.ndarray:
        """Their hazard left (a view: the kernels subtract from it in place)."""
        return self._aleft[:self._n]

    def rider(self, handle: int) -> np.ndarray:
        if self.appending:
            return self._ariders[handle][:self._n]
        return super().rider(handle)

    def _sources(self) -> list[np.ndarray]:
        return [r[0]() if callable(r[0]) else r[0] for r in self._riders]

    def to_append(self, ids: np.ndarray) -> None:
        """Switch to the append layout, from the index ``ids`` (the model's)."""
        self.align(ids)
        n, cap = len(ids), room(len(ids))
        self._aids = np.empty(cap, dtype=id_dtype(len(self._column)))
        self._aids[:n] = ids
        self._aleft = np.empty(cap)
        self._aleft[:n] = self._left
        self._ariders = []
        for r in self._riders:
            buf = np.empty(cap, dtype=r[1].dtype)
            buf[:n] = r[1]
            self._ariders.append(buf)
            r[1] = None
        self._n = self._sorted = n
        self._ids, self._left = None, np.zeros(0)
        self._fired = None
        self._pos = np.full(len(self._column), -1, dtype=np.int32)
        self._pos[ids] = np.arange(n, dtype=np.int32)
        self._dead = 0
        self.appending = True

    def to_index(self) -> None:
        """Switch back to the index layout (sorted by id; the next :meth:`align` checks it
        against the model's index)."""
        if not self.appending:
            return
        if self.before_index is not None:
            self.before_index()
        n = self._n
        order = self._alive()
        order = order[np.argsort(self._aids[:n][order], kind="stable")]
        self._ids = self._aids[:n][order].astype(np.int64)
        self._left = self._aleft[:n][order]
        for r, buf in zip(self._riders, self._ariders, strict=True):
            r[1] = buf[:n][order]
        self._added, self._removed = [], []
        self._aids, self._aleft, self._ariders = self._aids[:0], self._aleft[:0], []
        self._n = self._sorted = self._dead = 0
        self._pos = None
        self._fired = None
        self.appending = False

    def over(self, index, day: int, size: int | None = None, every: int = 32) -> np.ndarray:
        """The slots' ids for a day's pass in the append layout over the users of ``index``
        (the model's sorted index, or a function giving it, called only when it is needed: to
        switch to the layout, or with ``check_all``; ``size``: its length, if a function):
        switch to the layout first if needed, compact it every ``every`` days, and check that
        its live users are the index's (their count; all of them with ``check_all``)."""
        if not callable(index):
            index, size = (lambda ids=index: ids), len(index)
        if not self.appending:
            self.to_append(index())
        elif day % every == 0:
            self.compact()
        if self.live != size or (self.check_all and not np.array_equal(
                np.sort(self.ids[self._alive()]), index())):
            raise AssertionError(f"day {day}: clock {self.name}'s users are not the index's")
        if self.check_all:
            self.check_riders(day)
        return self.ids

    def check_riders(self, day: int) -> None:
        """(tests) Every static rider holds its array's values at the live slots."""
        alive = self._alive()
        ids = self._aids[alive]
        for h, r in enumerate(self._riders):
            if not r[2] and not np.array_equal(self._ariders[h][alive], self._source(h)[ids]):
                raise AssertionError(f"day {day}: clock {self.name}'s rider {h} is stale")

    def _alive(self) -> np.ndarray:
        """Positions of the append layout's live slots (all when none is dead)."""
        n = self._n
        if not self._dead:
            return np.arange(n)
        return np.flatnonzero(self._aids[:n] >= 0)

    def remove(self, ids: np.ndarray) -> np.ndarray:
        """Take users ``ids`` (in the append layout) out of it; their hazard left is returned
        (their slots die: inf left, never firing, dropped at the next compaction)."""
        pos = self._pos[ids]
        if len(pos) and pos.min() < 0:
            raise ValueError(f"clock {self.name}: removing users not in the append layout")
        self._write_back(ids, pos)
        left = self._aleft[pos]
        self._aleft[pos] = np.inf
        self._aids[pos] = -1
        self._pos[ids] = -1
        self._dead += len(ids)
        self._fired = None
        return left

    def insert(self, ids: np.ndarray, left: np.ndarray) -> None:
        """Append users ``ids`` (not in the layout) with their hazard left ``left``."""
        if len(ids):
            self._append(ids, left)

    def _append(self, ids: np.ndarray, values: np.ndarray) -> None:
        n, m = self._n, len(ids)
        if n + m > len(self._aids):  # grow (a copy, with room for many days' users)
            cap = room(n + m)
            bufs = []
            for a in (self._aids, self._aleft, *self._ariders):
                out = np.empty(cap, dtype=a.dtype)
                out[:n] = a[:n]
                bufs.append(out)
            self._aids, self._aleft, *self._ariders = bufs
        self._aids[n:n + m] = ids
        self._aleft[n:n + m] = values
        for buf, full in zip(self._ariders, self._sources(), strict=True):
            buf[n:n + m] = full[ids]
        self._pos[ids] = np.arange(n, n + m, dtype=np.int32)
        self._n = n + m

    def compact(self) -> None:
        """Drop the dead slots and merge the users appended since the last compaction into
        the sorted part: one splice per array (the sorted part less its dead slots, the live
        appended inserted in id order), into fresh buffers with room to grow."""
        n, s = self._n, self._sorted
        if not self.appending or (n == s and not self._dead):
            return
        head, tail = self._aids[:s], self._aids[s:n]
        gone = np.flatnonzero(head < 0)  # the sorted part's dead slots
        live = np.flatnonzero(tail >= 0)
        order = s + live[np.argsort(tail[live], kind="stable")]  # the appended, by id
        kept = jit.delete(head, gone) if len(gone) else head
        at = np.searchsorted(kept, self._aids[order])  # their places in the sorted part
        m = len(kept) + len(order)
        cap = room(m)
        bufs = []
        for a in (self._aids, self._aleft, *self._ariders):
            out = np.empty(cap, dtype=a.dtype)
            jit.splice(a[:s], gone, at, a[order], out=out[:m])
            bufs.append(out)
        self._aids, self._aleft, *self._ariders = bufs
        self._n = self._sorted = m
        self._dead = 0
        if jit.use(m):
            _number(self._aids[:m], self._pos)
        else:
            self._pos[self._aids[:m]] = np.arange(m, dtype=np.int32)
        self._fired = None

    def sync(self) -> None:
        if self.appending:
            alive = self._alive()
            if len(alive):
                ids = self._aids[alive]
                self._column[ids] = self._aleft[alive]
                for h in self._state:
                    self._source(h)[ids] = self._ariders[h][alive]
            return
        super().sync()

    def locate(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not self.appending:
            return super().locate(ids)
        pos = self._pos[ids]
        return pos, pos >= 0

    def start(self, ids: np.ndarray) -> None:
        if not self.appending:
            super().start(ids)
            return
        if len(ids) == 0:
            return
        values = self.draw(ids)
        pos = self._pos[ids]
        inside = pos >= 0
        if inside.any():  # re-armed where they are
            self._aleft[pos[inside]] = values[inside]
            if not inside.all():
                ids, values = ids[~inside], values[~inside]
            else:
                return
        self._append(ids, values)

    def draw(self, ids: np.ndarray) -> np.ndarray:
        """New thresholds for ``ids`` (their draw counter ``k``), kept in the column too."""
        values = self.stream.exponential(ids, self.k[ids])
        self._column[ids] = values
        return values

    def holds(self, ids: np.ndarray) -> np.ndarray:
        """Which of ``ids`` are in the append layout (live)."""
        return self._pos[ids] >= 0

    def halt(self, ids: np.ndarray, leaving: bool = True) -> np.ndarray:
        if not self.appending:
            return super().halt(ids, leaving)
        if len(ids) == 0:
            return np.zeros(0, np.int64)
        self._column[ids] = np.inf
        pos = self._pos[ids]
        at = pos[pos >= 0].astype(np.int64)
        if len(at):
            self._aleft[at] = np.inf
            if leaving:
                self._write_back(ids[pos >= 0], at)
                self._aids[at] = -1
                self._pos[ids[pos >= 0]] = -1
                self._dead += len(at)
        return at

    def align(self, ids: np.ndarray) -> None:
        self.to_index()
        super().align(ids)

    def fired_at(self, pos: np.ndarray) -> np.ndarray:
        """The ids at positions ``pos`` (ascending) of the append layout, sorted as the index
        layout gives them (int64, as the model's index); :meth:`fire` restarts their clocks
        at those positions."""
        ids = self._aids[pos].astype(np.int64)
        if len(ids) > 1 and not bool((ids[1:] > ids[:-1]).all()):
            order = np.argsort(ids, kind="stable")
            ids, pos = ids[order], pos[order]
        self._fired, self._fired_pos = ids, pos
        return ids

    def advance(self, ids: np.ndarray, hazard: np.ndarray | float) -> np.ndarray:
        """Over the append layout when ``ids`` are its own (:attr:`ids`); over an index (the
        model's) in the index layout otherwise (switching to it)."""
        if not (self.appending and ids.base is self._aids and len(ids) == self._n):
            return super().advance(ids, hazard)
        left = self._aleft[:self._n]
        left -= hazard
        return self.fired_at(np.flatnonzero(left <= 0))

    def fire(self, ids: np.ndarray) -> None:
        """Count the event and re-arm, at the slots :meth:`fired_at` listed for ``ids`` (or
        found by ``_pos``); users not in the append layout go through the index layout."""
        if not self.appending:
            super().fire(ids)
            return
        if ids is self._fired:
            pos = self._fired_pos
            self._fired = None
        else:
            pos = self._pos[ids]
            if len(pos) and pos.min() < 0:
                self.to_index()
                super().fire(ids)
                return
        if len(ids) == 0:
            return
        self.k[ids] += 1
        self._aleft[pos] = self.draw(ids)


class DueCalendar:
    """Ids filed by the day their event falls due, so a day touches only those due that day.

    A calendar queue (Brown 1988) over whole days: ``add(ids, due)`` files each id under day
    ``ceil(due)`` (an event due at 12.3 fires on day 13, the first day ``due <= day``; never
    earlier than the first day not yet taken); ``take(day)`` returns every id filed under the
    days up to ``day`` not taken yet. Ids whose due day moves are filed again (the old entry
    goes stale): the caller checks what it takes against its own column, so a stale entry
    costs one comparison and the calendar never has to find and remove it. Days further
    ahead than the current block of ``2**shift`` days are kept per block and sorted into
    days when their block begins (a two-level calendar: filing costs no Python work per day).
    """

    def __init__(self, first_day: int = 1, shift: int = 5):
        self.next_day = int(first_day)  # the first day not taken yet
        self.shift = shift
        self._block = self.next_day >> shift  # the block whose days are filed one by one
        self._days: dict[int, list[np.ndarray]] = {}
        self._blocks: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}

    def add(self, ids: np.ndarray, due: np.ndarray) -> None:
        """File ``ids`` under the days their ``due`` (float, days) falls on; inf: not filed."""
        keep = due < np.inf
        if not keep.all():
            ids, due = ids[keep], due[keep]
        if len(ids) == 0:
            return
        day = np.maximum(np.ceil(due), self.next_day)
        day = np.minimum(day, 2.0**52).astype(np.int64)
        block = day >> self.shift
        now = block == self._block
        if now.all():
            self._file(ids, day)
            return
        if now.any():
            self._file(ids[now], day[now])
        later = ~now
        ids, day, block = ids[later], day[later], block[later]
        order = stable_order(block)
        ids, day, block = ids[order], day[order], block[order]
        cut = np.flatnonzero(block[1:] != block[:-1]) + 1
        for a, b in zip(np.r_[0, cut].tolist(), np.r_[cut, len(ids)].tolist(), strict=True):
            self._blocks.setdefault(int(block[a]), []).append((ids[a:b], day[a:b]))

    def _file(self, ids: np.ndarray, day: np.ndarray) -> None:
        if day[0] == day[-1] and (len(day) < 3 or (day == day[0]).all()):
            self._days.setdefault(int(day[0]), []).append(ids)
            return
        order = stable_order(day)
        ids, day = ids[order], day[order]
        cut = np.flatnonzero(day[1:] != day[:-1]) + 1
        for a, b in zip(np.r_[0, cut].tolist(), np.r_[cut, len(ids)].tolist(), strict=True):
            self._days.setdefault(int(day[a]), []).append(ids[a:b])

    def take(self, day: int) -> np.ndarray:
        """Every id filed under the days up to ``day`` not taken yet (unsorted, may repeat)."""
        out: list[np.ndarray] = []
        while self.next_day <= day:
            d = self.next_day
            block = d >> self.shift
            if block != self._block:
                self._block = block
                chunks = self._blocks.pop(block, None)
                if chunks:
                    self._file(np.concatenate([c[0] for c in chunks]),
                               np.concatenate([c[1] for c in chunks]))
            out.extend(self._days.pop(d, ()))
            self.next_day = d + 1
        if not out:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate(out) if len(out) > 1 else out[0]
