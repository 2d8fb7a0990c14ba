"""Struct-of-arrays storage for numerous actors (users): one typed numpy column per state.

Mechanisms declare the columns they own (name, dtype, fill value) and the table creates
them; ids are integer rows. Columns are read and written as whole arrays by vectorised
kernels; there is no per-row Python object.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# lifecycle states of a user in the private domain
PROSPECT, MEMBER, CHURNED = 0, 1, 2
STATE_NAMES = {PROSPECT: "prospect", MEMBER: "member", CHURNED: "churned"}

# landing channels, in the order of sim.config.CHANNELS
PERSONAL_WECHAT, WECOM, OFFICIAL_ACCOUNT = 0, 1, 2

# segments after Honor's four need tiers (DOMAIN.md, Actors)
ORDINARY, FAN, KOC, ENTHUSIAST = 0, 1, 2, 3
SEGMENT_NAMES = ("ordinary", "fan", "koc", "enthusiast")

# how users came to the private domain
SOURCE_NONE, SOURCE_INITIAL, SOURCE_STORE, SOURCE_REFERRAL, SOURCE_EVENT = 0, 1, 2, 3, 4
SOURCE_ADOPTION = 5  # Bass validation: advertising + word of mouth
SOURCE_RECALL = 6    # a former member won back by a recall campaign (seed 002)
SOURCE_PRESALE = 7   # a prospect pulled into a group at presale (seed 000)
SOURCE_NAMES = ("none", "initial", "store", "referral", "event", "adoption", "recall", "presale")

# touchpoints a member holds (bits of the ``touch`` column; DOMAIN.md, channel table)
TOUCH_STAFF = 1    # a staff account: personal WeChat or WeCom (which one: ``channel``)
TOUCH_GROUP = 2    # a community group
TOUCH_OFFICIAL = 4  # follows the official account
TOUCH_MINI = 8     # has bought through the mini-program
TOUCH_REACH = TOUCH_STAFF | TOUCH_GROUP | TOUCH_OFFICIAL  # the ones the brand can message
TOUCH_NAMES = ("staff", "group", "official_account", "mini_program")


def sort_by_key(ids: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``ids`` and ``key`` stably sorted by key, and each id's rank among equal keys (0, 1, ...).

    The vectorised "k-th newcomer of this store" used to fill caps in id order.
    """
    order = np.argsort(key, kind="stable")
    ids, key = ids[order], key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    rank = np.arange(len(key)) - np.repeat(starts, np.diff(np.r_[starts, len(key)]))
    return ids, key, rank


def stable_order(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` of integer keys. A stable sort's order is the one
    order of the keys that keeps ties as they came, so when the keys fit in 16 bits they are
    sorted as int16, which numpy radix-sorts (10M day blocks: 0.42 vs 0.97 s)."""
    keys = np.asarray(keys)
    if (keys.dtype.kind in "iu" and keys.itemsize > 2 and len(keys)
            and keys.min() >= -(2**15) and keys.max() < 2**15):
        keys = keys.astype(np.int16)
    return np.argsort(keys, kind="stable")


def unique(a: np.ndarray, return_index: bool = False, return_counts: bool = False):
    """``np.unique`` of a 1-d integer array (and the first index / the count of each value),
    by one stable sort.

    The same arrays as numpy's, value for value. numpy 2.x finds the unique integers with a
    hash table, which on user ids is 10-100x slower than sorting them (2M ids: 1.8 s vs
    13 ms here; docs/benchmarks.md); other dtypes go to ``np.unique``.
    """
    a = np.asarray(a)
    if a.ndim != 1 or a.dtype.kind not in "iub":
        return np.unique(a, return_index=return_index, return_counts=return_counts)
    if return_index:
        order = np.argsort(a, kind="stable")  # the first of equal values stays first
        s = a[order]
    else:
        s = np.sort(a, kind="stable")
    first = np.empty(len(s), dtype=np.bool_)
    first[:1] = True
    np.not_equal(s[1:], s[:-1], out=first[1:])
    out = [s[first]]
    if return_index:
        out.append(order[first])
    if return_counts:
        out.append(np.diff(np.append(np.flatnonzero(first), len(s))))
    return out[0] if len(out) == 1 else tuple(out)


class Columns:
    """A table of ``n`` rows; ``table.name`` is the column array."""

    def __init__(self, n: int):
        object.__setattr__(self, "n", int(n))
        object.__setattr__(self, "_cols", {})
        object.__setattr__(self, "_owner", {})

    def add(self, name: str, dtype: Any, fill: Any = 0, owner: str = "") -> np.ndarray:
        if name in self._cols:
            raise KeyError(f"column {name!r} already declared by {self._owner[name] or 'core'}")
        # zeros: pages the kernel maps on first write (a column few users ever touch costs no
        # memory, and a build no page-faulting pass over each of 60 columns)
        arr = np.zeros(self.n, dtype=dtype) if fill == 0 else np.full(self.n, fill, dtype=dtype)
        self._cols[name] = arr
        self._owner[name] = owner
        return arr

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self._cols[name]
        except KeyError:
            raise AttributeError(f"no column {name!r}; declared: {sorted(self._cols)}") from None

    def __setattr__(self, name: str, value: np.ndarray) -> None:
        col = self._cols.get(name)
        if col is None:
            raise AttributeError(f"no column {name!r}: declare it with add() first")
        if value.shape != col.shape:
            raise ValueError(f"column {name!r} has shape {col.shape}, got {value.shape}")
        self._cols[name] = value.astype(col.dtype, copy=False)

    def __contains__(self, name: str) -> bool:
        return name in self._cols

    def names(self) -> list[str]:
        return list(self._cols)

    def nbytes(self) -> int:
        return sum(a.nbytes for a in self._cols.values())

    def row(self, i: int) -> dict[str, Any]:
        """One user's state as a dict (for inspection, not for kernels)."""
        return {k: v[i].item() for k, v in self._cols.items()}
