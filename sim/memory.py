"""How much memory a run will need, estimated from its config before anything is built.

A run that cannot fit should be refused in one line at once, not die of an out-of-memory kill
minutes later. The estimate uses only the config (sizes, graph kind, stores, staff, groups),
never the model's internals, with per-item byte figures measured on this code:

Measured 2026-11-30 (commit 52c5853, Python 3.12.1, numpy 2, Linux x86-64) by building
``SiyuModel`` and running it 20-730 days in a fresh process; peak RSS (``ru_maxrss``) above
the RSS after imports, per item:

===========================  ==========================================================
users (no graph)             254 B/user at 1M users (``graph=complete``; the user table,
                             ``Columns.nbytes``, is 188 B/user; the rest is build and
                             step temporaries); 4M and 10M users: the same or less
graph edges (CSR + build)    26 B per undirected edge at peak (scale-free m=3: 290 B/user
                             in all; m=10: 494; small world k=20: 506)
a whole run (``sim.run``)    296 B/user at 1M users x 730 days, default scenario; 312 with
                             restaurant + koc_program; 274 at 20M users (estimate: 332)
stores                       30 B per store (per-store arrays)
store staff (Mesa agents)    229 B per staff member (1M stores x 1 or 2 staff)
community groups             73 B per group (arrays plus the daily step's temporaries;
                             9M groups at population.scale=2000)
imports (interpreter, numpy, Mesa, Hydra, pyarrow)  165 MB; with numba and its compiler ~280 MB
===========================  ==========================================================

Re-measured 2026-11-30 after touchpoints (the ``touch`` column, group-exit clocks: the user
table is 246 B/user) and the compact clocks and due-day calendars (docs/benchmarks.md): a
whole run peaks at 458 B/user with the graph at 1M users x 1,095 days (default workload,
0.58 GiB) and at 3.99 GiB for 10M users with 1M members; the per-user figure was raised from
254 to 385 B so the estimate stays above both (463 B/user at 1M, 4.5 GiB at 10M). With the
compiled kernels (numba and its compiler loaded) the same runs peak at 0.69 and 4.17 GiB: the
fixed part was raised from 200 to 320 MB (0.74 GiB estimated at 1M, 4.6 GiB at 10M). The
kernels' filed referral clocks of owners outside the private domain (20 B/user) and the
owners' positions in the daily pass (4 B/user) raised the 1M run's peak to 0.71 GiB and the
per-user figure to 409 B (0.76 GiB estimated at 1M).

A counterfactual run (``counterfactual=true``) keeps a second model (users, stores, staff,
groups; the graph is shared) alive beside the first. The figures are kept in :data:`BYTES`; re-measure them with ``benchmarks/`` style runs when the
model's storage changes (the estimate errs on the high side by design: it must refuse what
cannot fit, not predict RSS exactly).

The memory a run may use is the machine's available memory (``MemAvailable``), capped by a
cgroup limit if the process has one; ``SIYU_MEMORY_LIMIT`` (bytes, or with a K/M/G/T suffix)
overrides it, e.g. on a cluster node whose memory differs from the login node's.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from sim.config.base import ConfigError

BYTES = {
    "base": 320e6,      # interpreter, imports and numba's compiler (1M users: +110 MB with the kernels)
    "user": 409.0,      # per simulated user, graph excluded (re-measured below)
    "edge": 26.0,       # per undirected edge of the social graph, at build peak
    "store": 30.0,
    "staff": 229.0,
    "group": 73.0,
    "purchase": 24.0,   # per exported transaction (id, day, amount) and its concatenation
}
ENV_LIMIT = "SIYU_MEMORY_LIMIT"
GiB = 1024**3


@dataclass
class Estimate:
    total: float
    parts: dict[str, float]      # bytes by part: users, graph, stores, staff, groups, ...
    counts: dict[str, float]     # users, edges, stores, staff, groups

    def dominant_key(self, cfg) -> tuple[str, object]:
        """The config key (and its value) behind the largest part, to name in a refusal."""
        part = max((p for p in self.parts if p != "base"), key=self.parts.__getitem__)
        if part == "graph":
            g = cfg.graph
            if g.kind == "edge_list":
                return "graph.path", g.path
            if g.kind == "small_world":
                return "graph.k", g.k
            if g.kind == "scale_free":
                return "graph.m", g.m
        if part in ("stores", "staff", "groups") and cfg.population.scale > 1:
            return "population.scale", cfg.population.scale
        if part == "transactions":
            return "export.transactions", True
        if part == "counterfactual" and self.parts["users"] < self.parts["counterfactual"]:
            return "counterfactual", True
        return "population.n_users", cfg.population.n_users


def n_stores(cfg) -> int:
    """Stores, as the population builder draws them: real users / users per store (>= 1)."""
    p = cfg.population
    return max(1, p.n_users * p.scale // cfg.strategy.acquisition.users_per_store)


def n_edges(cfg) -> float:
    """Undirected edges of the graph the config asks for (an edge-list file: an upper bound,
    at least 4 bytes per line "a b\\n")."""
    g, n = cfg.graph, cfg.population.n_users
    if g.kind == "scale_free":
        return float(n) * g.m
    if g.kind == "small_world":
        return float(n) * g.k / 2
    if g.kind == "edge_list" and g.path:
        try:
            size = os.stat(g.path).st_size
        except OSError:
            return 0.0
        return min(size / 4, n * (n - 1) / 2)
    return 0.0  # complete: implicit, no arrays


def n_groups(cfg, stores: int) -> float:
    """Community groups: each store has slots for its most crowded catchment (users are
    spread uniformly over stores: Poisson, max taken as mean + 5 sd + 5) plus one."""
    if not cfg.mechanisms.groups:
        return 0.0
    n, scale = cfg.population.n_users, cfg.population.scale
    cap = max(1, cfg.groups.capacity // scale)
    lam = n / stores
    most = min(n, lam + 5 * math.sqrt(lam) + 5)
    return float(stores) * (math.ceil(most / cap) + 1)


def estimate(cfg) -> Estimate:
    n = cfg.population.n_users
    stores = n_stores(cfg)
    staff = stores * cfg.strategy.acquisition.staff_per_store
    edges = n_edges(cfg)
    groups = n_groups(cfg, stores)
    counts = {"users": n, "edges": edges, "stores": stores, "staff": staff, "groups": groups}
    parts = {
        "base": BYTES["base"],
        "users": n * BYTES["user"],
        "graph": edges * BYTES["edge"],
        "stores": stores * BYTES["store"],
        "staff": staff * BYTES["staff"],
        "groups": groups * BYTES["group"],
    }
    if getattr(cfg, "counterfactual", False):  # a second model on the same graph, alive at once
        parts["counterfactual"] = (parts["users"] + parts["stores"] + parts["staff"]
                                   + parts["groups"])
    if cfg.export.transactions:  # at most one purchase per need cycle per user, plus one
        per_user = cfg.days / max(1.0, cfg.market.need_cycle_days) + 1
        counts["purchases"] = n * per_user
        parts["transactions"] = n * per_user * BYTES["purchase"]
    return Estimate(sum(parts.values()), parts, counts)


def _parse_size(text: str) -> float:
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    mult = 1
    if t and t[-1] in "KMGT":
        mult = 1024 ** ("KMGT".index(t[-1]) + 1)
        t = t[:-1]
    return float(t) * mult


def _meminfo() -> dict[str, float]:
    out = {}
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            name, _, rest = line.partition(":")
            parts = rest.split()
            if parts:
                out[name] = float(parts[0]) * 1024
    except OSError:
        pass
    return out


def _cgroup_room() -> float | None:
    """Memory left under this process's cgroup limit (v2, then v1), if it has one."""
    for limit_f, usage_f in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                             ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                              "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            limit = Path(limit_f).read_text().strip()
            usage = float(Path(usage_f).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit == "max" or float(limit) >= 2**60:
            return None
        return max(0.0, float(limit) - usage)
    return None


def machine_memory() -> tuple[float, float, str]:
    """(bytes a run may use, the machine's total, where the first figure comes from)."""
    env = os.environ.get(ENV_LIMIT)
    info = _meminfo()
    total = info.get("MemTotal", 0.0)
    if env:
        try:
            return _parse_size(env), total, f"{ENV_LIMIT}={env}"
        except ValueError:
            raise ConfigError(f"{ENV_LIMIT}={env}: not a size; allowed: bytes, or a number with "
                              "K, M, G or T, e.g. 8G") from None
    avail = info.get("MemAvailable", total)
    room = _cgroup_room()
    if room is not None and room < avail:
        return room, total, "the cgroup limit"
    return avail, total, "available"


def _gib(x: float) -> str:
    return f"{x / GiB:.1f} GiB"


def check_fits(cfg, jobs_at_once: int = 1) -> Estimate:
    """Raise ConfigError (one line) if the run (``jobs_at_once`` such runs side by side)
    cannot fit in memory; return the estimate otherwise."""
    est = estimate(cfg)
    room, total, source = machine_memory()
    if room <= 0 or total <= 0 and not os.environ.get(ENV_LIMIT):
        return est  # no figure for this machine: nothing to check against
    need = est.total * max(1, jobs_at_once)
    if need <= room:
        return est
    key, value = est.dominant_key(cfg)
    parts = ", ".join(f"{k} {_gib(v)}" for k, v in sorted(est.parts.items(), key=lambda kv: -kv[1])
                      if k != "base" and v >= 0.05 * est.total)
    at_once = f" x {jobs_at_once} jobs at once" if jobs_at_once > 1 else ""
    per_user = (room / max(1, jobs_at_once) - est.total + est.parts["users"]
                + est.parts["graph"]) / max(1.0, (est.parts["users"] + est.parts["graph"])
                                            / cfg.population.n_users)
    hint = (f"population.n_users up to about {_round_down(per_user):,} here"
            if key == "population.n_users" and per_user > 0 else
            f"a smaller {key}" + (" or population.n_users" if key != "population.n_users" else ""))
    machine = (f"this machine has {_gib(room)} available of {_gib(total)}" if source == "available"
               else f"{source} allows {_gib(room)}" + (f" (machine: {_gib(total)})" if total else ""))
    raise ConfigError(f"{key}={value}: needs about {_gib(need)} of memory{at_once} ({parts}); "
                      f"{machine}; allowed: {hint}, or set {ENV_LIMIT} if this machine is not "
                      "where it runs")


def _round_down(x: float) -> int:
    if x < 1000:
        return int(x)
    mag = 10 ** (len(str(int(x))) - 2)
    return int(x // mag * mag)
