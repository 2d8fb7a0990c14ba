"""Compiled kernels for the hot loops (numba), with the numpy code as the reference.

A day of a large private domain is a few dozen passes of numpy over the members (gathers
from population-sized columns, masks, compressions, scatters), each one a full trip through
memory. A kernel fuses a phase's passes into one loop per member. Every kernel does the
same floating-point operations in the same order and precision as the numpy code it stands
in for, so results are identical bit for bit (``tests/test_kernels.py`` runs scenarios both
ways and compares every column and series); functions whose compiled and numpy versions
round differently (``exp``, ``log``, powers) stay in numpy, between kernels.

When kernels run (``SIYU_KERNELS``, read at import; tests set :data:`MODE`):

* ``auto`` (default): for arrays of at least :data:`MIN_SIZE` elements, so a small run
  never imports numba or waits for a compilation (a sweep's jobs load it once per worker,
  :func:`preload`, and then draw compiled at any size);
* ``numba``: always (tests of the kernels themselves);
* ``numpy``: never (the reference).

Kernels compile on first use and are cached on disk (numba's ``cache=True``: the package's
``__pycache__``), so a sweep's workers compile once per machine, not once per run.

Threads: the passes over every member (``kernel(parallel=True)``) split their loop into
:data:`NCHUNK` fixed chunks that numba's threads share. Each chunk keeps its own counts and
its own list of the users whose event fired, and the chunks' lists are joined in order
afterwards (:func:`join`), so every result is the same bit for bit on any number of threads (no float sum is
split: those kernels stay serial). A run uses numba's thread count (``NUMBA_NUM_THREADS``,
by default every core); joblib sets it to ``cores // workers`` in a sweep's workers, so a
sweep of two workers on two cores runs each on one. numba picks its threading layer (TBB,
else OpenMP, else its own ``workqueue``; ``NUMBA_THREADING_LAYER`` to choose); GNU OpenMP
does not survive a ``fork``, so the simulator's process pools start their workers from a
fresh process (``forkserver``). Parallel kernels are called under one lock, so two Python
threads running models (the dashboard) take turns instead of nesting launches, which the
``workqueue`` layer cannot do.
"""

from __future__ import annotations

import os
import threading
import types
from collections.abc import Callable

import numpy as np

from sim.core.columns import unique

MODES = ("auto", "numba", "numpy")
MODE = os.environ.get("SIYU_KERNELS", "auto").strip().lower() or "auto"
if MODE not in MODES:
    raise ValueError(f"SIYU_KERNELS={MODE!r} is not allowed; allowed: {', '.join(MODES)}")
MIN_SIZE = 50_000  # elements: below this numpy's per-call overhead is not what costs
NCHUNK = 64  # chunks of a parallel kernel's loop: fixed, so results never depend on threads
PARALLEL_MIN = 100_000  # elements: a shorter loop runs on one thread (no launch to pay)

try:  # numba is a dependency; without it (a partial install) the numpy path runs
    import importlib.util

    AVAILABLE = importlib.util.find_spec("numba") is not None
except (ImportError, ValueError):  # pragma: no cover
    AVAILABLE = False


def use(n: int) -> bool:
    """Whether a kernel should run on ``n`` elements (see :data:`MODE`)."""
    if MODE == "numpy" or not AVAILABLE:
        return False
    return MODE == "numba" or n >= MIN_SIZE


def live(n: int) -> bool:
    """:func:`use`, or in ``auto`` mode any size once a kernel has run in this process (numba
    is loaded then: a call costs about a microsecond, numpy's dozen small operations more)."""
    return use(n) or (_loaded and MODE == "auto")


_loaded = False  # a kernel has been compiled or loaded in this process


_LAUNCH = threading.Lock()  # one parallel kernel at a time in a process


def prange(*args):
    """``range`` in Python; in a parallel kernel compiled by numba, numba's ``prange`` (a
    module that defines parallel kernels imports this name)."""
    return range(*args)


def threads() -> int:
    """The threads a parallel kernel runs on in this thread (1 before numba is loaded)."""
    if not _loaded:
        return 1
    import numba

    return int(numba.get_num_threads())


def _quiet_openmp() -> None:
    """GNU OpenMP's idle threads spin for a while after each parallel loop, taking the core
    from whatever else runs (another run, a test worker); they wait asleep unless the user
    chose otherwise (``OMP_WAIT_POLICY``, read when numba first loads OpenMP)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def set_threads(n: int) -> None:
    """Run this thread's parallel kernels on ``n`` threads (at most numba's
    ``NUMBA_NUM_THREADS``, which a process pool's workers set before numba loads). Results do
    not depend on it."""
    import numba

    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))


_POOL = None  # threads for numpy's elementwise work (split)
_POOL_SIZE = 0


def split(fn: Callable, *arrays: np.ndarray) -> np.ndarray:
    """``fn(*arrays)`` for a numpy function computed element by element (powers, ``exp``:
    the functions kept in numpy for their numbers), on this process's :func:`threads`: the
    arrays cut into as many parts, each computed in its own Python thread (numpy releases
    the GIL in its loops) and the results joined in order, so the numbers are ``fn``'s.
    Below :data:`PARALLEL_MIN` elements or on one thread, ``fn(*arrays)``."""
    cuts = _cuts(len(arrays[0]))
    if cuts is None:
        return fn(*arrays)
    parts = _pool(len(cuts) - 1).map(lambda k: fn(*(a[cuts[k]:cuts[k + 1]] for a in arrays)),
                                      range(len(cuts) - 1))
    return np.concatenate(list(parts))


def split_inplace(ufunc: np.ufunc, x: np.ndarray) -> np.ndarray:
    """``ufunc(x, out=x)`` for a one-argument numpy ufunc (``np.exp``), the parts of ``x``
    on this process's :func:`threads` as in :func:`split` (element by element: numpy's
    numbers); returns ``x``."""
    cuts = _cuts(len(x))
    if cuts is None:
        return ufunc(x, out=x)
    list(_pool(len(cuts) - 1).map(
        lambda k: ufunc(x[cuts[k]:cuts[k + 1]], out=x[cuts[k]:cuts[k + 1]]),
        range(len(cuts) - 1)))
    return x


def _cuts(n: int) -> list[int] | None:
    """The bounds of one part per thread of ``n`` elements for :func:`split`; None when the
    work stays in one call (one thread, under :data:`PARALLEL_MIN`, or the numpy mode)."""
    t = threads()
    if t < 2 or n < PARALLEL_MIN or MODE == "numpy":
        return None
    return [n * k // t for k in range(t + 1)]


def _pool(t: int):
    """The Python threads of :func:`split` (at least ``t``)."""
    global _POOL, _POOL_SIZE
    if _POOL_SIZE < t:
        from concurrent.futures import ThreadPoolExecutor

        _POOL, _POOL_SIZE = ThreadPoolExecutor(t, thread_name_prefix="siyu-split"), t
    return _POOL


class _Lazy:
    """A function compiled by numba on its first call (numba is imported then too).

    A parallel kernel is compiled twice: with numba's threads, for loops of at least
    :data:`PARALLEL_MIN` elements when this thread has two or more, and without (``prange``
    is then ``range``: the same chunks in order, no thread started) for the others, so the
    many small calls of a small run or a test cost no thread launch."""

    def __init__(self, fn: Callable, parallel: bool = False, size: int = 0):
        self.py = fn  # the plain Python function (readable; slow)
        self.parallel = parallel
        self.size = size  # the argument whose length is the loop's
        self._compiled: Callable | None = None
        self._threaded: Callable | None = None
        self.__name__ = fn.__name__
        self.__doc__ = fn.__doc__

    def __call__(self, *args):
        if self.parallel and len(args[self.size]) >= PARALLEL_MIN and threads() > 1:
            f = self._threaded
            if f is None:
                f = self._threaded = self._compile(True)
            with _LAUNCH:
                return f(*args)
        f = self._compiled
        if f is None:
            f = self._compiled = self._compile(False)
        return f(*args)

    def _compile(self, threaded: bool) -> Callable:
        import numba

        global _loaded
        fn = self.py
        if threaded:
            _quiet_openmp()
        if self.parallel:
            fn.__globals__["prange"] = numba.prange  # still range when run as Python
            # the two compilations are cached apart (numba's cache is per qualified name)
            fn = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__,
                                    fn.__defaults__, fn.__closure__)
            fn.__qualname__ = f"{self.py.__qualname__}_{'threads' if threaded else 'serial'}"
        f = numba.njit(cache=True, nogil=True, error_model="numpy", parallel=threaded)(fn)
        _loaded = True
        return f


def preload() -> None:
    """Load numba and the draws' kernel (:class:`sim.core.rng.Stream`'s) now, as a run's first
    draw of :data:`MIN_SIZE` ids would, so that every later draw in this process, of any
    size, runs compiled (:func:`live`). Once per process; nothing in ``numpy`` mode or
    without numba. A process that runs many runs (a sweep's worker) calls it first."""
    global _loaded
    if _loaded or MODE == "numpy" or not AVAILABLE:
        return
    from sim.core.rng import Stream

    Stream(0, "preload").uniform(np.arange(MIN_SIZE, dtype=np.int64), 0)
    _loaded = True


def kernel(fn: Callable | None = None, *, parallel: bool = False, size: int = 0):
    """Decorate a loop written for numba's nopython mode; compiled lazily, cached on disk.
    ``parallel=True``: its outer loop is ``for c in prange(NCHUNK)`` over fixed chunks
    (chunk ``c`` of a loop of ``n``: ``[n * c // NCHUNK, n * (c + 1) // NCHUNK)``), each
    writing only its own outputs; ``size``: the argument whose length
    is the loop's (threads from :data:`PARALLEL_MIN` elements)."""
    if fn is None:
        return lambda f: _Lazy(f, parallel, size)
    return _Lazy(fn, parallel, size)


@kernel
def _join(out, counts):  # pragma: no cover - compiled
    n = out.shape[0]
    total = 0
    for c in range(NCHUNK):
        lo = n * c // NCHUNK
        for t in range(counts[c]):
            out[total + t] = out[lo + t]
        total += counts[c]
    return total


def join(out: np.ndarray, counts: np.ndarray) -> int:
    """After a parallel kernel that listed users by chunk: chunk ``c`` of :data:`NCHUNK` over
    ``len(out)`` elements wrote ``counts[c]`` entries of ``out`` from its own start
    (``n * c // NCHUNK``); move them together in chunk order (each lands at or before where it
    was) and return how many there are, ``out[:n]``."""
    if not len(out):
        return 0
    return int(_join(out, counts))


# ---------------------------------------------------------------- sorted-index upkeep


_NONE = np.zeros(0, dtype=np.int64)  # no positions


def _monotone(a: np.ndarray) -> bool:
    return len(a) < 2 or bool((a[1:] >= a[:-1]).all())


def insert(arr: np.ndarray, at: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``np.insert(arr, at, values)`` for a 1-D ``arr`` and positions ``at`` in ascending
    order (``values`` cast to ``arr``'s dtype): one merge pass instead of numpy's masks."""
    at = np.asarray(at)
    if (not live(len(arr)) or arr.ndim != 1 or at.ndim != 1 or len(at) == 0
            or len(at) != len(values) or not _monotone(at)
            or at[0] < 0 or at[-1] > len(arr)):
        return np.insert(arr, at, values)
    out = np.empty(len(arr) + len(at), dtype=arr.dtype)
    _splice_chunks(arr, _NONE, at.astype(np.int64, copy=False),
                   np.asarray(values, dtype=arr.dtype), out)
    return out


def delete(arr: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """``np.delete(arr, pos)`` for a 1-D ``arr`` and positions ``pos`` in ascending order."""
    pos = np.asarray(pos)
    if (not live(len(arr)) or arr.ndim != 1 or pos.ndim != 1 or len(pos) == 0
            or pos.dtype.kind not in "iu" or not _monotone(pos)
            or pos[0] < 0 or pos[-1] >= len(arr)):
        return np.delete(arr, pos)
    if not _strict(pos):  # a repeated position deletes once
        pos = pos[np.concatenate(([True], pos[1:] != pos[:-1]))]
    out = np.empty(len(arr) - len(pos), dtype=arr.dtype)
    _splice_chunks(arr, pos.astype(np.int64, copy=False), _NONE, arr[:0], out)
    return out


@kernel(parallel=True)
def _splice_chunks(arr, pos, at, values, out):  # pragma: no cover - compiled
    """``out = np.insert(np.delete(arr, pos), at, values)`` for strictly ascending ``pos``
    and ascending ``at``, in parallel over :data:`NCHUNK` chunks of the kept elements
    (``arr`` less ``pos``). Chunk ``c`` holds the
    kept elements ``[K0, K1)`` and the values inserted before them (``K0 <= at < K1``; the
    last chunk also those at the end); where it starts reading and writing follows from two
    binary searches: kept element ``k`` is ``arr[k + #(pos[j] - j <= k)]`` and lands at
    ``out[k + #(at <= k)]``, inserted value ``a`` at ``out[at[a] + a]``. Block copies between
    the positions (memory-speed runs, no per-element branch)."""
    n, m, na = arr.shape[0], pos.shape[0], at.shape[0]
    kept = n - m
    for c in prange(NCHUNK):
        k0, k1 = kept * c // NCHUNK, kept * (c + 1) // NCHUNK
        last = c == NCHUNK - 1
        lo, hi = 0, m  # deletions before kept element k0: pos[j] - j <= k0
        while lo < hi:
            mid = (lo + hi) // 2
            if pos[mid] - mid <= k0:
                lo = mid + 1
            else:
                hi = mid
        j = lo
        lo, hi = 0, na  # insertions before this chunk: at < k0
        while lo < hi:
            mid = (lo + hi) // 2
            if at[mid] < k0:
                lo = mid + 1
            else:
                hi = mid
        a = lo
        i = k0 + j  # read position in arr
        o = k0 + a  # write position in out
        k = k0
        while True:
            while a < na and at[a] == k and (k < k1 or last):  # inserted before kept k
                out[o] = values[a]
                o += 1
                a += 1
            if k >= k1:
                break
            while j < m and pos[j] == i:  # deleted before kept k
                i += 1
                j += 1
            stop = k1
            if a < na and at[a] < stop:
                stop = at[a]
            if j < m and pos[j] - j < stop:
                stop = pos[j] - j
            run = stop - k
            out[o:o + run] = arr[i:i + run]
            o += run
            i += run
            k = stop


def splice(arr: np.ndarray, pos: np.ndarray, at: np.ndarray, values: np.ndarray,
           out: np.ndarray | None = None) -> np.ndarray:
    """``np.insert(np.delete(arr, pos), at, values)`` in one merge pass (``pos`` strictly
    ascending positions in ``arr``; ``at`` ascending positions in the array after deletion),
    into ``out`` if given (of that length and ``arr``'s dtype)."""
    pos, at = np.asarray(pos), np.asarray(at)
    n = len(arr) - len(pos)
    if (not live(len(arr)) or arr.ndim != 1 or pos.ndim != 1 or at.ndim != 1
            or len(at) != len(values) or (len(pos) and (pos.dtype.kind not in "iu"
                                                         or pos[0] < 0 or pos[-1] >= len(arr)
                                                         or not _strict(pos)))
            or (len(at) and (not _monotone(at) or at[0] < 0 or at[-1] > n))):
        if out is None:
            return np.insert(np.delete(arr, pos), at, values)
        out[:] = np.insert(np.delete(arr, pos), at, values)
        return out
    if out is None:
        out = np.empty(n + len(at), dtype=arr.dtype)
    elif len(out) != n + len(at) or out.dtype != arr.dtype:
        raise ValueError(f"splice: out has {len(out)} {out.dtype}, not {n + len(at)} {arr.dtype}")
    _splice_chunks(arr, pos.astype(np.int64, copy=False), at.astype(np.int64, copy=False),
                   np.asarray(values, dtype=arr.dtype), out)
    return out


def _strict(a: np.ndarray) -> bool:
    return len(a) < 2 or bool((a[1:] > a[:-1]).all())


def sorted_unique(chunks: list[np.ndarray], empty: np.ndarray) -> np.ndarray:
    """``np.unique(np.concatenate(chunks))``, skipping the sort when there is one chunk that
    is already strictly ascending (the usual case: one join or leave a day)."""
    if not chunks:
        return empty
    if len(chunks) == 1 and _strict(chunks[0]):
        return chunks[0]
    return unique(np.concatenate(chunks))
