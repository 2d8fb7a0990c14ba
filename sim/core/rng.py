"""Common random numbers: one root seed, a named stream per random decision.

A draw is a pure function of (root seed, stream name, user id, counter): a counter-based
generator (the SplitMix64 / MurmurHash3 finaliser, Steele et al. 2014) over uint64 arrays.
So a user's k-th draw of a decision is the same whatever other users do, however many
users draw today, and whatever strategy runs: two strategies on one seed differ only
through their real effect (Klein et al. 2024, arXiv:2409.02086; Starsim's CRN). Drawing
for a subset costs work proportional to the subset, never to the population.

The counter is what the caller indexes by: the day for per-day decisions, or the user's
own event count for recurring events (k-th purchase, k-th referral), so that an extra
event for one user shifts no one else's draws.

Population-level construction (traits, graph) uses ordinary numpy Generators from
:meth:`Streams.generator`, each seeded from the root seed and a stable hash of its name.
"""

from __future__ import annotations

import hashlib

import numpy as np

from sim.core import jit

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_COUNTER_MUL = np.uint64(0xD1B54A32D192ED03)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


def stable_hash(text: str) -> int:
    """A 64-bit hash of a name that is the same on every machine and Python run."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser, in place on a uint64 array (multiplication wraps mod 2**64)."""
    x ^= x >> _S30
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    return x


@jit.kernel
def _uniform(ids, key, counter, per_id, out):  # pragma: no cover - compiled
    """:meth:`Stream.uniform` in one pass: the same uint64 operations (they wrap alike) and
    the same exact conversion to float64, so the same numbers bit for bit; ``counter`` one
    value, or one per id when ``per_id``."""
    one = np.uint64(1)
    for i in range(ids.shape[0]):
        x = np.uint64(ids[i]) * _GOLDEN
        x ^= key
        x ^= x >> _S30
        x *= _M1
        x ^= x >> _S27
        x *= _M2
        x ^= x >> _S31
        c = np.uint64(counter[i]) if per_id else np.uint64(counter[0])
        x ^= (c + one) * _COUNTER_MUL
        x ^= x >> _S30
        x *= _M1
        x ^= x >> _S27
        x *= _M2
        x ^= x >> _S31
        out[i] = np.float64(x >> _S11) * _INV53


class Stream:
    """One named random decision. ``uniform(ids, counter)`` gives one U[0,1) per id."""

    def __init__(self, root_seed: int, name: str):
        self.name = name
        key = (stable_hash(name) ^ (int(root_seed) * 0x9E3779B97F4A7C15)) & (2**64 - 1)
        self.key = np.uint64(int(_mix(np.array([key], dtype=np.uint64))[0]))

    def bits(self, ids: np.ndarray, counter: np.ndarray | int) -> np.ndarray:
        ids = np.asarray(ids)
        x = ids.astype(np.uint64) * _GOLDEN
        x ^= self.key
        x = _mix(x)
        c = np.atleast_1d(np.asarray(counter).astype(np.uint64))  # arrays wrap silently
        x ^= (c + np.uint64(1)) * _COUNTER_MUL
        return _mix(x)

    def uniform(self, ids: np.ndarray, counter: np.ndarray | int) -> np.ndarray:
        """U[0,1) per id (float64, 53 random bits)."""
        ids = np.asarray(ids)
        c = counter if isinstance(counter, np.ndarray) else np.asarray(counter)
        if (jit.live(len(ids) if ids.ndim == 1 else 0) and ids.ndim == 1
                and ids.dtype.kind in "iu" and c.dtype.kind in "iu" and c.ndim <= 1
                and (c.ndim == 0 or len(c) in (1, len(ids)))):
            out = np.empty(len(ids), dtype=np.float64)
            _uniform(ids, self.key, c.reshape(-1), c.ndim == 1 and len(c) == len(ids) > 1, out)
            return out
        return (self.bits(ids, counter) >> _S11).astype(np.float64) * _INV53

    def exponential(self, ids: np.ndarray, counter: np.ndarray | int) -> np.ndarray:
        """Exp(1) per id: the threshold of an integrated-hazard event clock."""
        return -np.log1p(-self.uniform(ids, counter))

    def normal(self, ids: np.ndarray, counter: np.ndarray | int) -> np.ndarray:
        """N(0,1) per id by inverse CDF (one uniform per draw keeps the indexing simple)."""
        from scipy.special import ndtri

        u = self.uniform(ids, counter)
        return ndtri(np.clip(u, 1e-300, 1 - 1e-16))


class Streams:
    """The registry of named streams of one run; names are checked for accidental reuse."""

    def __init__(self, root_seed: int):
        self.root_seed = int(root_seed)
        self._streams: dict[str, Stream] = {}

    def __getitem__(self, name: str) -> Stream:
        stream = self._streams.get(name)
        if stream is None:
            stream = self._streams[name] = Stream(self.root_seed, name)
        return stream

    def generator(self, name: str) -> np.random.Generator:
        """A numpy Generator for population-level construction, seeded by (root seed, name)."""
        return np.random.default_rng([self.root_seed & (2**63 - 1), stable_hash(name)])
