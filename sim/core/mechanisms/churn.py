"""Churn: members leave the private domain (delete the friend, quit the group, unfollow).

Daily hazard ``base(channel) x frailty x exp(fatigue_beta x fatigue + dissatisfaction_beta x
(pivot - satisfaction) + groups.churn_beta x (neutral - group activity)) x KOC, tier and VIP
multipliers``. Promotion fatigue, dissatisfaction and dead groups raise it (DOMAIN.md). A
member who leaves can come back only through a mechanism that calls ``model.join`` (recall).

**Frailty.** Each user carries a gamma frailty (mean 1, shape ``frailty_shape`` k, variance
1/k), drawn once from the stream ``churn.frailty`` as a pure function of seed and user id (the
same whenever the user joins, under every strategy). The frail leave first, so a cohort's
retention rises with tenure, as in the shifted-beta-geometric model (Fader & Hardie 2007,
LITERATURE #31); a cohort of neutral members survives ``(1 + h t / k)^-k`` (the
exponential-gamma / Pareto II curve) instead of ``exp(-h t)``. ``frailty_shape = 0`` turns it off.

**The channel's base.** ``channels.*.monthly_churn`` x (seed 002: personal WeChat 5-6%,
WeCom 30-40%, no period given) is read by ``channel_churn_reading``:

* ``cohort_share``: x is the share of a new cohort of neutral members lost in its first 30
  days, ``1 - (1 + 30 h / k)^-k = x``, so ``h = k ((1 - x)^(-1/k) - 1) / 30``;
* ``monthly_hazard``: ``1 - exp(-30 h) = x`` for a member of mean frailty, ``h = -ln(1-x)/30``
  (the cohort then loses less than x in its first month, because the frail go first).

Without frailty both give ``h = -ln(1 - x) / 30``.
"""

from __future__ import annotations

import math

import numpy as np

from sim.config.base import ConfigError
from sim.core import jit
from sim.core.clocks import AppendClock
from sim.core.jit import NCHUNK, prange
from sim.core.mechanisms.base import Column, MemberClockMechanism, clock_columns
from sim.core.mechanisms.shared import koc_active

READINGS = ("cohort_share", "monthly_hazard")
MONTH = 30.0  # days in the month of channels.*.monthly_churn


def base_hazard(x: float, shape: float, reading: str) -> float:
    """Daily base hazard of a neutral member from a channel's ``monthly_churn`` x (see the
    module doc); ``shape`` 0 is no frailty."""
    x = min(x, 1 - 1e-12)
    if reading == "cohort_share" and shape > 0:
        return shape * math.expm1(-math.log1p(-x) / shape) / MONTH
    return -math.log1p(-x) / MONTH


def gamma_frailty(stream, ids: np.ndarray, shape: float, tries: int = 40) -> np.ndarray:
    """Gamma(shape, 1/shape) per id (mean 1), a pure function of (stream, id): Marsaglia &
    Tsang (2000) on the stream's uniforms and normals, candidate j at counters 3j..3j+2,
    and for shape < 1 the boost ``G(shape) = G(shape + 1) U^(1/shape)`` (counter 3 x tries)."""
    ids = np.asarray(ids)
    a = shape + 1.0 if shape < 1 else shape
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    out = np.full(len(ids), d, dtype=np.float64)  # fallback after `tries` (probability ~1e-60)
    todo = np.arange(len(ids))
    for j in range(tries):
        if len(todo) == 0:
            break
        sel = ids[todo]
        x = stream.normal(sel, 3 * j)
        v = (1.0 + c * x) ** 3
        u = stream.uniform(sel, 3 * j + 1)
        ok = v > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            ok &= np.log(u) < 0.5 * x * x + d - d * v + d * np.log(np.where(ok, v, 1.0))
        out[todo[ok]] = d * v[ok]
        todo = todo[~ok]
    if shape < 1:
        out *= stream.uniform(ids, 3 * tries) ** (1.0 / shape)
    return out / shape


def _weak(*values) -> bool:
    """Whether every value is a Python number, which numpy (NEP 50) casts to the array's
    float32 (a numpy float64 would make numpy compute in float64: the kernels do not)."""
    return all(type(v) in (float, int) for v in values)


@jit.kernel(parallel=True)
def _exponent(ids, fatigue, sat, group, table, fatigue_beta, pivot, dis_beta, neutral,
              churn_beta, x):  # pragma: no cover - compiled
    """``x = fatigue[ids] * fatigue_beta + (pivot - satisfaction[ids]) * dis_beta + (neutral -
    group activity) * churn_beta`` in float32, in the numpy code's order (the in-place
    lines of :meth:`Churn.step` before the ``exp``); the group activity is
    ``table[group]`` (:attr:`sim.core.model.SiyuModel.activity_table`; ``group``: the
    users' groups in the order of ``ids``, the clock's copy), the betas come as float32.
    Parallel over :data:`NCHUNK` chunks."""
    n = ids.shape[0]
    for c in prange(NCHUNK):
        lo, hi = n * c // NCHUNK, n * (c + 1) // NCHUNK
        ids_c, x_c, group_c = ids[lo:hi], x[lo:hi], group[lo:hi]
        for i in range(ids_c.shape[0]):
            u = ids_c[i]
            v = fatigue[u] * fatigue_beta
            d = pivot - sat[u]
            d = d * dis_beta
            v = v + d
            d = neutral - table[group_c[i]]
            d = d * churn_beta
            x_c[i] = v + d


@jit.kernel(parallel=True)
def _advance(channel, base, ex, frailty, use_frailty, left, out):  # pragma: no cover
    """``hazard = base[channel] * ex [* frailty]`` (float64, as numpy's in-place products;
    ``channel``: the members' channels in the clock's order, its copy), then the clock's
    advance on the compact hazard left: ``left -= hazard``, the positions whose ``left <=
    0`` into ``out``. Parallel over :data:`NCHUNK` chunks, each listing its fired from its
    own start in ``out`` (as long as ``left``); returns how many each fired, for
    :func:`sim.core.jit.join` (index order)."""
    n = channel.shape[0]
    nf = np.zeros(NCHUNK, np.int64)
    for c in prange(NCHUNK):
        lo, hi = n * c // NCHUNK, n * (c + 1) // NCHUNK
        ch_c, ex_c, left_c, out_c = channel[lo:hi], ex[lo:hi], left[lo:hi], out[lo:hi]
        fr_c = frailty[lo:hi] if use_frailty else frailty
        k = 0
        for i in range(ch_c.shape[0]):
            h = base[ch_c[i]] * np.float64(ex_c[i])
            if use_frailty:
                h = h * np.float64(fr_c[i])
            v = left_c[i] - h
            left_c[i] = v
            if v <= 0:
                out_c[k] = lo + i
                k += 1
        nf[c] = k
    return nf


@jit.kernel(parallel=True)
def _hazard(channel, base, ex, frailty, use_frailty, out):  # pragma: no cover - compiled
    """The hazard of :func:`_advance` into ``out`` (float64), for the numpy KOC, tier and
    VIP factors to follow. Parallel over :data:`NCHUNK` chunks."""
    n = channel.shape[0]
    for c in prange(NCHUNK):
        lo, hi = n * c // NCHUNK, n * (c + 1) // NCHUNK
        ch_c, ex_c, out_c = channel[lo:hi], ex[lo:hi], out[lo:hi]
        fr_c = frailty[lo:hi] if use_frailty else frailty
        for i in range(ch_c.shape[0]):
            h = base[ch_c[i]] * np.float64(ex_c[i])
            if use_frailty:
                h = h * np.float64(fr_c[i])
            out_c[i] = h


class Churn(MemberClockMechanism):
    name = "churn"
    clock_name = "churn"
    doc = "members leave on channel churn x frailty, fatigue, dissatisfaction, dead groups"
    reads = ("strategy.churn", "strategy.satisfaction.pivot", "strategy.koc_program",
             "strategy.membership", "mechanisms.koc", "groups.churn_beta",
             "groups.neutral_activity", "channels")
    columns = (
        *clock_columns("churn", "churn"),
        Column("frailty", np.float32, 1.0, "x churn hazard: gamma(mean 1, shape "
               "strategy.churn.frailty_shape), drawn when the user first joins; 1 without"),
    )

    def __init__(self, model):
        super().__init__(model)
        c = self.cfg.strategy.churn
        if c.channel_churn_reading not in READINGS:
            raise ConfigError(f"strategy.churn.channel_churn_reading={c.channel_churn_reading!r} "
                              f"is not allowed; allowed: {', '.join(READINGS)}")
        self.shape = float(c.frailty_shape)
        self.base = np.array([base_hazard(ch.monthly_churn, self.shape, c.channel_churn_reading)
                              for ch in self.cfg.channels.profiles()], dtype=np.float64)
        self.koc = koc_active(self.cfg)
        # advanced over the members every day: their hazard left kept compactly, in member
        # order for the numpy path, in the order they joined for the kernels (no daily merge)
        self.clock = AppendClock(self.users, self.clock_name, self.stream(self.clock_stream))
        self._frailty = self.clock.follow("frailty")  # drawn at joining
        # the members' group and channel in the clock's order, for the kernels
        self._group = self.clock.follow("group")
        self._channel = self.clock.follow("channel")

    def on_change(self, column: str, ids: np.ndarray) -> None:
        self.clock.changed(column, ids)

    def _draw_frailty(self, ids: np.ndarray) -> None:
        if self.shape > 0 and len(ids):
            self.users.frailty[ids] = gamma_frailty(self.stream("frailty"), ids, self.shape)

    def init_state(self) -> None:
        self._draw_frailty(self.model.members())
        super().init_state()

    def on_join(self, ids: np.ndarray, day: int, source: int) -> None:
        self._draw_frailty(ids)  # first: the append layout copies it as the clock starts
        super().on_join(ids, day, source)

    def step(self, day: int) -> None:
        u, cfg = self.users, self.cfg
        c, s = cfg.strategy.churn, cfg.strategy
        n = self.model.n_members
        betas = (c.fatigue_beta, c.dissatisfaction_beta, cfg.groups.churn_beta)
        if jit.use(n) and _weak(*betas):
            self._step_kernels(n, day)
            return
        ids = self.model.members()
        self.clock.align(ids)
        # fatigue_beta x fatigue + dissatisfaction_beta x (pivot - satisfaction)
        # + churn_beta x (neutral - group activity), in place on the gathered copies
        x = u.fatigue[ids]
        x *= c.fatigue_beta
        d = u.satisfaction[ids]
        np.subtract(np.float32(s.satisfaction.pivot), d, out=d)
        d *= c.dissatisfaction_beta
        x += d
        d = self.model.group_activity(ids)
        np.subtract(np.float32(cfg.groups.neutral_activity), d, out=d)
        d *= cfg.groups.churn_beta
        x += d
        hazard = self.base[u.channel[ids]]
        hazard *= np.exp(x, out=x)
        if self.shape > 0:
            hazard *= self.clock.rider(self._frailty)  # == u.frailty[ids]
        hazard = self._factors(hazard, ids, day)
        gone = self.clock.advance(ids, hazard)
        self._leave(gone, day)

    def _factors(self, hazard: np.ndarray, ids: np.ndarray, day: int) -> np.ndarray:
        """x the KOC, tier and VIP churn multipliers (each when its option is on)."""
        u, s = self.users, self.cfg.strategy
        if self.koc:
            hazard = np.where(u.koc[ids], hazard * s.koc_program.churn_mult, hazard)
        if s.membership.enabled:
            hazard = hazard * s.membership.tier_churn_mult ** u.tier[ids]
        if s.membership.vip:
            hazard = np.where(u.vip_until[ids] >= day, hazard * s.membership.vip_churn_mult, hazard)
        return hazard

    def _leave(self, gone: np.ndarray, day: int) -> None:
        """Members ``gone`` leave (their clock fired: re-armed, then stopped)."""
        if len(gone):
            self.clock.fire(gone)
            self.model.leave(gone, day)

    def _step_kernels(self, n_members: int, day: int) -> None:
        """:meth:`step` with the exponent and the hazard-and-advance each in one pass over
        the members (:func:`_exponent`, :func:`_advance`), the ``exp`` in numpy between them;
        the KOC, tier and VIP factors (off by default) stay the numpy lines. The passes run
        over the clock's append layout (:class:`AppendClock`: the members sorted at the last
        compaction, every 32 days, then those who joined since; a member who left is a dead
        slot until then, id -1 and hazard left inf, whose hazard is computed and never
        used): the hazard is elementwise, so the order changes no value, and the fired come
        out sorted."""
        u, cfg = self.users, self.cfg
        c, s = cfg.strategy.churn, cfg.strategy
        clock = self.clock
        # the members index itself is not read: today's joins and leaves are merged into it
        # once, when next read (the metrics)
        ids = clock.over(self.model.members, day, n_members)
        f32 = np.float32
        x = np.empty(len(ids), dtype=np.float32)
        _exponent(ids, u.fatigue, u.satisfaction, clock.rider(self._group),
                  self.model.activity_table,
                  f32(c.fatigue_beta), f32(s.satisfaction.pivot), f32(c.dissatisfaction_beta),
                  f32(cfg.groups.neutral_activity), f32(cfg.groups.churn_beta), x)
        jit.split_inplace(np.exp, x)  # numpy's exp, on every thread
        frailty = clock.rider(self._frailty)
        channel = clock.rider(self._channel)
        if not (self.koc or s.membership.enabled or s.membership.vip):
            out = np.empty(len(ids), dtype=np.int64)
            n = jit.join(out, _advance(channel, self.base, x, frailty, self.shape > 0,
                                       clock.left, out))
            self._leave(clock.fired_at(out[:n].copy()), day)
            return
        hazard = np.empty(len(ids), dtype=np.float64)
        _hazard(channel, self.base, x, frailty, self.shape > 0, hazard)
        hazard = self._factors(hazard, ids, day)
        self._leave(clock.advance(ids, hazard), day)
