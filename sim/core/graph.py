"""Social graph over users, stored as undirected CSR index arrays.

Users are rows ``0..n-1``.  Every undirected edge is stored in both rows, rows
are sorted, and there are no self loops or duplicate edges.  All builders are
vectorised numpy so that graphs with 1,000,000+ users build in seconds; the
only Python loops run over a small number of rounds/batches/chunks, never over
nodes or edges.

The complete graph is kept implicit (``indptr``/``indices`` are ``None``):
``n*(n-1)`` stored entries would not fit in memory at simulation sizes, and
every query has a closed form for it.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

import numpy as np
import scipy.sparse

from sim.core import jit

__all__ = [
    "GraphFileError",
    "SocialGraph",
    "scale_free",
    "small_world",
    "complete",
    "from_edges",
    "load_edge_list",
    "build_graph",
]

KINDS = ("scale_free", "small_world", "complete", "edge_list")

# indices are int32 to halve memory; ids must therefore stay below 2**31.
_MAX_N = np.iinfo(np.int32).max


class GraphFileError(ValueError):
    """One-line message naming the file, the line number and what is wrong."""


def _check_n(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ValueError(f"n must be an integer, got {n!r}")
    n = int(n)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if n > _MAX_N:
        raise ValueError(f"n={n} too large: user ids must fit in int32")
    return n


@dataclass(frozen=True, eq=False)  # eq=False: array fields make == ambiguous
class SocialGraph:
    """Undirected social graph.

    ``indptr`` (int64, length n+1) and ``indices`` (int32) are CSR arrays with
    every edge stored both ways, rows sorted, no self loops, no duplicates.
    For ``kind == "complete"`` both are ``None`` and all methods use closed
    forms.  The arrays are made read-only: the graph is shared state.
    """

    n: int
    indptr: np.ndarray | None
    indices: np.ndarray | None
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown graph kind {self.kind!r}; expected one of {KINDS}")
        if self.kind == "complete":
            if self.indptr is not None or self.indices is not None:
                raise ValueError("complete graph is implicit: indptr/indices must be None")
            return
        if self.indptr is None or self.indices is None:
            raise ValueError(f"{self.kind} graph needs indptr and indices")
        if self.indptr.dtype != np.int64 or self.indices.dtype != np.int32:
            raise ValueError("indptr must be int64 and indices int32")
        if self.indptr.shape != (self.n + 1,) or self.indptr[-1] != self.indices.size:
            raise ValueError("indptr/indices lengths inconsistent with n")
        self.indptr.flags.writeable = False
        self.indices.flags.writeable = False

    def _ids(self, x: np.ndarray, what: str) -> np.ndarray:
        # Negative ids would silently wrap around in fancy indexing: reject.
        x = np.asarray(x, dtype=np.int64)
        if x.size and (x.min() < 0 or x.max() >= self.n):
            raise IndexError(f"{what} must be user ids in 0..{self.n - 1}")
        return x

    def __repr__(self) -> str:  # the default would print the arrays
        return f"SocialGraph(kind={self.kind!r}, n={self.n}, n_edges={self.n_edges})"

    # ------------------------------------------------------------------ basics
    @property
    def is_complete(self) -> bool:
        """True for the implicit complete graph (no CSR arrays)."""
        return self.indptr is None

    @cached_property
    def _deg(self) -> np.ndarray:
        # Cached: neighbor_share/sample_neighbors are called every tick.
        d = np.diff(self.indptr)
        d.flags.writeable = False
        return d

    def degree(self, users: np.ndarray | None = None) -> np.ndarray:
        """int64 degree of every node (or of ``users``); n-1 for complete."""
        if self.is_complete:
            size = self.n if users is None else np.shape(users)
            return np.full(size, self.n - 1, dtype=np.int64)
        if users is None:
            return self._deg.copy()
        return self._deg[self._ids(users, "users")]

    @property
    def n_edges(self) -> int:
        """Number of undirected edges."""
        if self.is_complete:
            return self.n * (self.n - 1) // 2
        return int(self.indices.size // 2)

    # ----------------------------------------------------------------- queries
    def sample_neighbors(self, users: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One neighbour per user, chosen by uniform ``u`` in [0, 1).

        The pick is the row entry ``floor(u*deg)`` (rows are sorted, so the
        result is a deterministic function of ``u``); ``-1`` for isolated users.
        Complete graph: uniform over the other n-1 nodes.  Returns int64.
        """
        users = self._ids(users, "users")
        u = np.asarray(u, dtype=np.float64)
        if users.shape != u.shape:
            raise ValueError(f"users {users.shape} and u {u.shape} must have the same shape")
        if self.is_complete:
            if self.n == 1:
                return np.full(users.shape, -1, dtype=np.int64)
            j = np.minimum((u * (self.n - 1)).astype(np.int64), self.n - 2)
            j += j >= users  # skip self: maps 0..n-2 onto the n-1 other ids
            return j
        deg = self._deg[users]
        # minimum(): u*deg can round up to deg for u just below 1.
        off = np.minimum((u * deg).astype(np.int64), np.maximum(deg - 1, 0))
        pos = self.indptr[users] + off
        out = np.full(users.shape, -1, dtype=np.int64)
        has = deg > 0
        out[has] = self.indices[pos[has]]
        return out

    def neighbor_share(self, flag: np.ndarray) -> np.ndarray:
        """float64 per node: share of its neighbours with ``flag`` True (0 if isolated)."""
        flag = np.asarray(flag, dtype=bool)
        if flag.shape != (self.n,):
            raise ValueError(f"flag must have shape ({self.n},), got {flag.shape}")
        if self.is_complete:
            if self.n == 1:
                return np.zeros(1)
            return (np.count_nonzero(flag) - flag) / (self.n - 1)
        # Prefix sums over the gathered flags give per-row counts and, unlike
        # np.add.reduceat, handle empty rows correctly.
        cdt = np.int32 if self.indices.size < _MAX_N else np.int64
        csum = np.zeros(self.indices.size + 1, dtype=cdt)
        np.cumsum(flag[self.indices], out=csum[1:])
        cnt = csum[self.indptr[1:]] - csum[self.indptr[:-1]]
        deg = self._deg
        out = np.zeros(self.n, dtype=np.float64)
        np.divide(cnt, deg, out=out, where=deg > 0)
        return out

    def has_edge(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Vectorised membership test of edge (a, b); complete graph: a != b."""
        a, b = np.broadcast_arrays(self._ids(a, "a"), np.asarray(b, dtype=np.int64))
        if self.is_complete:
            return a != b
        # Vectorised bisection inside each row: one pass per halving, so about
        # log2(max degree) numpy passes over the queries, no per-query loop.
        lo = self.indptr[a]
        end = self.indptr[a + 1]
        hi = end.copy()
        idx = self.indices
        while True:
            active = lo < hi
            if not active.any():
                break
            mid = (lo + hi) // 2
            go_right = idx[np.where(active, mid, 0)] < b
            lo = np.where(active & go_right, mid + 1, lo)
            hi = np.where(active & ~go_right, mid, hi)
        found = lo < end
        if idx.size:
            found &= idx[np.minimum(lo, idx.size - 1)] == b
        return found

    def to_scipy(self, dtype=np.float64) -> scipy.sparse.csr_matrix:
        """Adjacency matrix (ones) as scipy CSR; not available for complete."""
        if self.is_complete:
            raise ValueError("complete graph is implicit; it has no sparse adjacency matrix")
        # scipy may copy indptr/indices to a common index dtype.
        return scipy.sparse.csr_matrix(
            (np.ones(self.indices.size, dtype=dtype), self.indices, self.indptr),
            shape=(self.n, self.n),
        )


# --------------------------------------------------------------------- builder
def from_edges(n: int, src: np.ndarray, dst: np.ndarray, kind: str) -> SocialGraph:
    """Build CSR from an edge list: symmetrise, drop self loops/duplicates, sort rows.

    Memory-lean: duplicates are removed on canonical (min, max) int64 keys
    (one key per undirected edge), then both directions are placed with a
    counting layout instead of sorting a 2x-sized directed key array.
    """
    n = _check_n(n)
    src = np.asarray(src)
    dst = np.asarray(dst)
    if src.shape != dst.shape or src.ndim != 1:
        raise ValueError(f"src {src.shape} and dst {dst.shape} must be 1-D of equal length")
    if src.size and not (np.issubdtype(src.dtype, np.integer) and np.issubdtype(dst.dtype, np.integer)):
        raise ValueError("src and dst must be integer arrays")
    if src.size:
        lo_id = min(int(src.min()), int(dst.min()))
        hi_id = max(int(src.max()), int(dst.max()))
        if lo_id < 0 or hi_id >= n:
            raise ValueError(f"edge endpoint out of range 0..{n - 1}: {lo_id if lo_id < 0 else hi_id}")

    loop = src == dst
    if loop.any():
        src, dst = src[~loop], dst[~loop]
    del loop
    if jit.use(src.size) and n < _MAX_N:
        return _from_edges_compiled(n, src, dst, kind)
    key = np.minimum(src, dst).astype(np.int64)
    key *= n
    key += np.maximum(src, dst)
    key.sort()
    if key.size:
        keep = np.empty(key.size, dtype=bool)
        keep[0] = True
        np.not_equal(key[1:], key[:-1], out=keep[1:])
        key = key[keep]
        del keep
    e = key.size
    # out=/casting="unsafe" writes the int32 results without int64 temporaries.
    lo = np.empty(e, dtype=np.int32)  # lo < hi for every edge; sorted by (lo, hi)
    hi = np.empty(e, dtype=np.int32)
    np.floor_divide(key, n, out=lo, casting="unsafe")
    np.remainder(key, n, out=hi, casting="unsafe")
    del key

    # Positions fit int32 unless there are >= 2**31 stored entries.
    pdt = np.int32 if 2 * e < _MAX_N else np.int64
    cnt_out = np.bincount(lo, minlength=n)  # neighbours larger than the row id
    cnt_in = np.bincount(hi, minlength=n)  # neighbours smaller than the row id
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(cnt_out + cnt_in, out=indptr[1:])
    start_out = np.zeros(n, dtype=pdt)
    np.cumsum(cnt_out[:-1], out=start_out[1:])
    incl_in = np.cumsum(cnt_in, dtype=pdt)
    del cnt_out, cnt_in

    # Row r = [smaller neighbours, sorted][larger neighbours, sorted].
    indices = np.empty(2 * e, dtype=np.int32)
    # Larger part: edges are in (lo, hi) order; edge j lands at
    # j + (number of smaller-neighbour entries in rows <= lo).
    pos = np.arange(e, dtype=pdt)
    pos += incl_in[lo]
    indices[pos] = hi
    del pos
    # Smaller part: needs (hi, lo) order; edge j lands at
    # j + (number of larger-neighbour entries in rows < hi).
    key = hi.astype(np.int64)
    key *= n
    key += lo
    del lo, hi
    key.sort()
    row = np.empty(e, dtype=np.int32)
    np.floor_divide(key, n, out=row, casting="unsafe")
    pos = np.arange(e, dtype=pdt)
    pos += start_out[row]
    del row
    np.remainder(key, n, out=key)  # in place: key becomes the column ids
    indices[pos] = key
    return SocialGraph(n=n, indptr=indptr, indices=indices, kind=kind)


def _from_edges_compiled(n: int, src: np.ndarray, dst: np.ndarray, kind: str) -> SocialGraph:
    """:func:`from_edges` (self loops removed) by a counting sort instead of two sorts of the
    edge keys: each edge's larger end filed under its smaller end, each row's list sorted and
    deduplicated, then one pass in (smaller, larger) order places both directions. The same
    CSR arrays (``tests/test_graph.py``); at 10M users ~3x faster than the two sorts."""
    lo = np.minimum(src, dst).astype(np.int32)
    hi = np.maximum(src, dst).astype(np.int32)
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(lo, minlength=n), out=start[1:])
    larger = np.empty(lo.size, dtype=np.int32)
    cnt_out = np.zeros(n, dtype=np.int64)
    _file_by_row(lo, hi, start, larger, cnt_out)  # rows sorted and deduplicated in place
    del lo, hi
    cnt_in = np.zeros(n, dtype=np.int64)
    _count_smaller(start, cnt_out, larger, cnt_in)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(cnt_out + cnt_in, out=indptr[1:])
    indices = np.empty(int(indptr[-1]), dtype=np.int32)
    _place(start, cnt_out, larger, indptr, cnt_in, indices)
    return SocialGraph(n=n, indptr=indptr, indices=indices, kind=kind)


@jit.kernel
def _file_by_row(lo, hi, start, larger, cnt_out):  # pragma: no cover - compiled
    """File ``hi`` under row ``lo`` (rows begin at ``start``), then sort each row and keep
    its distinct values at the row's front (their number in ``cnt_out``)."""
    fill = start[:-1].copy()
    for e in range(lo.shape[0]):
        r = lo[e]
        larger[fill[r]] = hi[e]
        fill[r] += 1
    for r in range(start.shape[0] - 1):
        a, b = start[r], start[r + 1]
        if b - a > 32:
            larger[a:b] = np.sort(larger[a:b])
        else:  # insertion sort: most rows hold a handful
            for i in range(a + 1, b):
                v = larger[i]
                j = i - 1
                while j >= a and larger[j] > v:
                    larger[j + 1] = larger[j]
                    j -= 1
                larger[j + 1] = v
        k = a
        for i in range(a, b):
            if i == a or larger[i] != larger[k - 1]:
                larger[k] = larger[i]
                k += 1
        cnt_out[r] = k - a


@jit.kernel
def _count_smaller(start, cnt_out, larger, cnt_in):  # pragma: no cover - compiled
    """How many distinct neighbours smaller than itself each row has."""
    for r in range(cnt_out.shape[0]):
        a = start[r]
        for i in range(a, a + cnt_out[r]):
            cnt_in[larger[i]] += 1


@jit.kernel
def _place(start, cnt_out, larger, indptr, cnt_in, indices):  # pragma: no cover - compiled
    """Row r = [smaller neighbours, ascending][larger neighbours, ascending]: edges visited in
    (smaller, larger) order reach each row's smaller part in ascending order."""
    cursor = indptr[:-1].copy()  # the next free place of each row's smaller part
    for r in range(cnt_out.shape[0]):
        a = start[r]
        k = cnt_out[r]
        base = indptr[r] + cnt_in[r]
        for i in range(k):
            v = larger[a + i]
            indices[base + i] = v
            indices[cursor[v]] = r
            cursor[v] += 1


# ------------------------------------------------------------------ generators
# Each BA batch adds this fraction of the current node count (at least one
# node).  Small enough that attachment probabilities barely drift within a
# batch (degree exponent stays ~3), large enough for ~1000 numpy rounds at 1M.
_BA_BATCH_FRACTION = 0.01
_BA_MAX_REDRAWS = 50


def scale_free(n: int, m: int, rng: np.random.Generator) -> SocialGraph:
    """Scale-free graph by batched Barabasi-Albert preferential attachment.

    Barabasi & Albert (1999), "Emergence of scaling in random networks",
    Science 286:509.  Starts from a clique of m+1 nodes; new nodes arrive in
    batches whose size grows geometrically (1% of the current node count), and
    each new node attaches m edges to distinct earlier nodes drawn with
    probability proportional to degree (uniform draws from the endpoint list
    of all edges so far).  Nodes in the same batch do not see each other's
    new edges - the vectorisation's only approximation.  Result: degree
    distribution P(k) ~ k^-3, mean degree ~2m, every node degree >= m (a
    node whose m distinct draws still collide after 50 redraws - only possible
    in tiny graphs - keeps fewer, but >= 1).  If n <= m+1 the result is the
    clique on n nodes.
    """
    n = _check_n(n)
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
        raise ValueError(f"m must be an integer >= 1, got {m!r}")
    m = int(m)
    m0 = m + 1
    if n <= m0:
        a, b = np.triu_indices(n, 1)
        return from_edges(n, a, b, "scale_free")
    e0 = m0 * (m0 - 1) // 2
    n_e = e0 + m * (n - m0)
    # Interleaved endpoints: ends[2e], ends[2e+1] are edge e.  A uniform draw
    # from ends[:2*filled] is a degree-proportional draw of a node.
    ends = np.empty(2 * n_e, dtype=np.int32)
    a, b = np.triu_indices(m0, 1)
    ends[0 : 2 * e0 : 2] = a
    ends[1 : 2 * e0 : 2] = b
    filled = e0
    start = m0
    while start < n:
        bsz = min(n - start, max(1, int(start * _BA_BATCH_FRACTION)))
        t = ends[rng.integers(0, 2 * filled, size=(bsz, m))]
        if m > 1:
            # Redraw duplicate targets so each new node gets m distinct ones.
            for _ in range(_BA_MAX_REDRAWS):
                t.sort(axis=1)
                r, c = np.nonzero(t[:, 1:] == t[:, :-1])
                if r.size == 0:
                    break
                t[r, c + 1] = ends[rng.integers(0, 2 * filled, size=r.size)]
        k = bsz * m
        seg = ends[2 * filled : 2 * (filled + k)]
        seg[0::2] = np.repeat(np.arange(start, start + bsz, dtype=np.int32), m)
        seg[1::2] = t.ravel()
        filled += k
        start += bsz
    return from_edges(n, ends[0::2], ends[1::2], "scale_free")


def small_world(n: int, k: int, p: float, rng: np.random.Generator) -> SocialGraph:
    """Watts-Strogatz small-world graph.

    Watts & Strogatz (1998), "Collective dynamics of 'small-world' networks",
    Nature 393:440.  Ring lattice where each node links to its k nearest
    neighbours (k/2 each side, k even, k < n); each lattice edge (i, i+j) has
    its far end rewired with probability p to a uniform node other than i.
    Vectorised, so rewiring does not avoid collisions as it goes: a rewired
    edge that duplicates another is dropped (expected loss ~p*k/n of edges,
    negligible at scale; mean degree stays ~k).  p=0 is exactly the lattice.
    """
    n = _check_n(n)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0 or k % 2:
        raise ValueError(f"k must be an even integer >= 0, got {k!r}")
    k = int(k)
    if k >= n:
        raise ValueError(f"k={k} must be < n={n}")
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    half = k // 2
    src = np.tile(np.arange(n, dtype=np.int32), half)
    dst = np.repeat(np.arange(1, half + 1, dtype=np.int32), n)
    dst += src
    dst[dst >= n] -= n
    if p > 0 and src.size:
        rew = np.flatnonzero(rng.random(src.size) < p)
        new = rng.integers(0, n - 1, size=rew.size).astype(np.int32)
        new += new >= src[rew]  # uniform over the n-1 nodes other than i
        dst[rew] = new
    return from_edges(n, src, dst, "small_world")


def complete(n: int) -> SocialGraph:
    """Implicit complete graph on n nodes (no arrays stored)."""
    return SocialGraph(n=_check_n(n), indptr=None, indices=None, kind="complete")


# ------------------------------------------------------------- edge list file
_CHUNK_BYTES = 1 << 22  # bounds parse memory (~30 bytes of temporaries per input byte)
_MAX_DIGITS = 18  # int64-safe; longer ids are out of range anyway
_POW10 = 10 ** np.arange(_MAX_DIGITS, dtype=np.int64)
MAX_LINE_BYTES = 4096  # a longer line is not an edge list (or a binary file): refused
_QUOTE_CHARS = 12  # errors quote at most this much of a bad line (never whole file contents)

EDGE_LIST_FORMAT = (
    "a regular text file with one edge per line: two 0-based user ids (0..n_users-1) "
    "separated by spaces, tabs or a comma ('0 1', '0,1'); blank lines and '#' comments "
    "are skipped; self-loops and repeated edges are dropped; lines of at most "
    f"{MAX_LINE_BYTES} bytes; UTF-8 BOM and CRLF line ends are fine"
)
_ALLOWED = "; allowed: two integer user ids per line, separated by spaces, tabs or a comma"


def _quote(raw: bytes) -> str:
    """A short, printable prefix of a bad line: enough to find it, not enough to leak a file."""
    text = "".join(chr(c) if 32 <= c < 127 else "?" for c in raw[: _QUOTE_CHARS + 1]).strip()
    return repr(text if len(text) <= _QUOTE_CHARS else text[:_QUOTE_CHARS] + "...")


def _line_text(buf: bytes, line_starts: np.ndarray, line: int) -> str:
    s = int(line_starts[line])
    e = buf.find(b"\n", s)
    return _quote(buf[s : e if e >= 0 else len(buf)])


def _parse_chunk(buf: bytes, first_line: int, n: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse whole lines in ``buf``; ``first_line`` is the 1-based number of its first line."""
    a = np.frombuffer(buf, dtype=np.uint8)
    nl = a == 10
    line_id = np.cumsum(nl, dtype=np.int32)
    line_id -= nl  # the newline belongs to the line it ends
    n_lines = int(line_id[-1]) + 1
    line_starts = np.concatenate(([0], np.flatnonzero(nl) + 1))
    lengths = np.diff(np.append(line_starts, len(a)))
    if lengths.size and int(lengths.max()) > MAX_LINE_BYTES + 1:
        long = int(np.argmax(lengths > MAX_LINE_BYTES + 1))
        raise GraphFileError(f"{where} line {first_line + long}: longer than {MAX_LINE_BYTES} "
                             f"bytes (not an edge list?){_ALLOWED}, at most {MAX_LINE_BYTES} "
                             "bytes a line")

    sep = nl | (a == 32) | (a == 9) | (a == 13) | (a == 44) | (a == 11) | (a == 12)
    is_hash = a == 35
    if is_hash.any():
        # '#' comments out the rest of its line (whole-line and trailing comments).
        h = np.where(is_hash, line_id, -1)
        np.maximum.accumulate(h, out=h)
        sep |= h == line_id
        del h
    del nl, is_hash
    tok = ~sep
    del sep
    edge = np.diff(tok.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edge == 1)
    ends = np.flatnonzero(edge == -1)
    del edge
    tok_line = line_id[starts]

    digit = (a >= 48) & (a <= 57)
    neg = a[starts] == 45  # leading '-' parses, then fails the range check
    bad = tok & ~digit
    bad[starts[neg]] = False
    ndig = ends - starts - neg
    bad_lines = np.bincount(line_id[bad], minlength=n_lines) > 0
    del bad
    bad_lines[tok_line[ndig == 0]] = True  # a bare '-'
    counts = np.bincount(tok_line, minlength=n_lines)
    bad_lines |= (counts != 0) & (counts != 2)
    first_bad = int(np.argmax(bad_lines)) if bad_lines.any() else n_lines

    # Token values: sum of digit * 10**(distance from token end).  Summed in
    # float64 via bincount: exact below 2**53, far above any valid id (< 2**31).
    pos = np.flatnonzero(tok & digit)
    del tok, digit
    owner = np.searchsorted(starts, pos, side="right") - 1
    expo = np.minimum(ends[owner] - 1 - pos, _MAX_DIGITS - 1)
    contrib = (a[pos] - 48) * _POW10[expo]
    del pos, expo
    vals = np.bincount(owner, weights=contrib, minlength=starts.size)
    del owner, contrib
    out_of_range = neg | (ndig > _MAX_DIGITS) | (vals >= n)
    out_of_range &= ~bad_lines[tok_line]  # format errors on a line take precedence
    first_range = int(tok_line[np.argmax(out_of_range)]) if out_of_range.any() else n_lines

    if first_bad < n_lines and first_bad <= first_range:
        text = _line_text(buf, line_starts, first_bad)
        raise GraphFileError(
            f"{where} line {first_line + first_bad}: expected two integer user ids, got "
            f"{text}{_ALLOWED}"
        )
    if first_range < n_lines:
        t = int(np.argmax(out_of_range))
        text = buf[starts[t] : ends[t]].decode("ascii")
        uid = str(int(text)) if len(text) <= 24 else text[:24] + "..."
        raise GraphFileError(
            f"{where} line {first_line + first_range}: user id {uid} out of range "
            f"0..{n - 1} (population.n_users={n}); allowed: user ids 0..{n - 1}"
        )
    ids = vals.astype(np.int32)  # all in 0..n-1 here
    return ids[0::2], ids[1::2]


def _file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a named pipe"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def open_edge_list(path: str | Path) -> BinaryIO:
    """Open an edge-list file for reading, refusing anything but a regular file.

    Devices (``/dev/zero`` never ends), named pipes (a read blocks forever) and sockets are
    refused without reading: the file is opened non-blocking and checked with ``fstat``.
    """
    where = f"graph.path={path}"
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise GraphFileError(f"{where}: is {_file_kind(st.st_mode)}; allowed: a regular "
                                 "edge-list file")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise GraphFileError(f"{where}: file not found") from None
    except NotADirectoryError:
        raise GraphFileError(f"{where}: file not found (a parent is not a folder); allowed: "
                             "an existing edge-list file") from None
    except OSError as e:
        raise GraphFileError(f"{where}: cannot read file ({e.strerror or e}); allowed: a "
                             "readable edge-list file") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):  # swapped after the first check
        os.close(fd)
        raise GraphFileError(f"{where}: is {_file_kind(st.st_mode)}; allowed: a regular "
                             "edge-list file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def load_edge_list(path: str | Path, n: int) -> SocialGraph:
    """Read an undirected edge list: one edge ``a b`` per line (:data:`EDGE_LIST_FORMAT`).

    Ids are 0-based integers separated by whitespace and/or commas.  Blank
    lines and lines starting with '#' are ignored ('#' also starts a trailing
    comment).  Self loops and repeated edges are dropped.  Parsing is
    vectorised over ~4 MiB chunks of whole lines, so big files are fast and
    memory stays bounded, yet errors still name the first bad line.  Only
    regular files are read, lines are at most :data:`MAX_LINE_BYTES`, and
    errors quote at most a short prefix of a bad line.  A file whose edges are
    all self loops is refused (it would be an empty graph).
    Raises GraphFileError (one line, starting ``graph.path=<path>``).
    """
    n = _check_n(n)
    where = f"graph.path={path}"
    srcs: list[np.ndarray] = []
    dsts: list[np.ndarray] = []
    next_line = 1  # 1-based number of the first line of the pending chunk
    try:
        with open_edge_list(path) as f:
            carry = b""
            first = True
            while True:
                block = f.read(_CHUNK_BYTES)
                if first:
                    if block.startswith(b"\xef\xbb\xbf"):  # UTF-8 BOM
                        block = block[3:]
                    first = False
                buf = carry + block
                if not block:  # EOF: parse what is left (last line may lack '\n')
                    carry = b""
                else:
                    cut = buf.rfind(b"\n") + 1
                    if cut == 0:  # no line end yet: a line may not outgrow the limit
                        if len(buf) > MAX_LINE_BYTES + 1:
                            raise GraphFileError(
                                f"{where} line {next_line}: longer than {MAX_LINE_BYTES} bytes "
                                f"(not an edge list?){_ALLOWED}, at most {MAX_LINE_BYTES} "
                                "bytes a line")
                        carry = buf
                        continue
                    buf, carry = buf[:cut], buf[cut:]
                if buf:
                    s, d = _parse_chunk(buf, next_line, n, where)
                    srcs.append(s)
                    dsts.append(d)
                    next_line += buf.count(b"\n")
                if not block:
                    break
    except IsADirectoryError:
        raise GraphFileError(f"{where}: is a directory; allowed: a regular edge-list "
                             "file") from None
    except GraphFileError:
        raise
    except OSError as e:
        raise GraphFileError(f"{where}: cannot read file ({e.strerror or e}); allowed: a "
                             "readable edge-list file") from None
    src = np.concatenate(srcs) if srcs else np.empty(0, np.int32)
    dst = np.concatenate(dsts) if dsts else np.empty(0, np.int32)
    if src.size == 0:
        raise GraphFileError(f"{where}: no edges")
    loops = int(np.count_nonzero(src == dst))
    if loops == src.size:
        raise GraphFileError(f"{where}: no edges between two different users ({loops:,} "
                             "self-loops, which are dropped); allowed: at least one edge "
                             "'a b' with a != b")
    return from_edges(n, src, dst, "edge_list")


# ------------------------------------------------------------------- dispatch
def build_graph(cfg, streams) -> SocialGraph:
    """Build the graph a validated config asks for (used by ``sim.core.model``).

    ``cfg.graph`` supplies kind/m/k/p_rewire/path and ``cfg.population.n_users``
    the node count; randomness comes from ``streams.generator("graph")`` so the
    graph depends only on (root seed, kind, parameters).  Untyped arguments
    keep this module free of imports from sim.config/sim.core.rng.
    """
    gc = cfg.graph
    n = cfg.population.n_users
    if gc.kind == "scale_free":
        return scale_free(n, gc.m, streams.generator("graph"))
    if gc.kind == "small_world":
        return small_world(n, gc.k, gc.p_rewire, streams.generator("graph"))
    if gc.kind == "complete":
        return complete(n)
    if gc.kind == "edge_list":
        return load_edge_list(gc.path, n)
    raise ValueError(f"graph.kind={gc.kind!r} is not one of {KINDS}")
