"""What mechanisms share without looking each other up: calendars, KOC effects, staff effort.

Each function is a pure function of the config and the user columns, so any mechanism can
use it whether or not the mechanism that writes those columns is switched on (its columns
then keep their neutral fill values).
"""

from __future__ import annotations

import math

import numpy as np

from sim.core.columns import (
    OFFICIAL_ACCOUNT,
    PERSONAL_WECHAT,
    PROSPECT,
    SOURCE_EVENT,
    SOURCE_REFERRAL,
    unique,
)

# users brought by a friend (a referral or an event guest) join as leads of the funnel
LEAD_SOURCES = (SOURCE_REFERRAL, SOURCE_EVENT)


def on_calendar(day: int, per_week: float) -> bool:
    """True on the days a weekly rate of ``per_week`` sends (evenly spaced, deterministic)."""
    if per_week <= 0:
        return False
    return math.floor(day * per_week / 7) > math.floor((day - 1) * per_week / 7)


def per_day(share: float, days: float) -> float:
    """The daily probability that adds up to ``share`` over ``days`` days (a constant hazard):
    ``1 - (1 - share)^(1/days)``."""
    return -math.expm1(math.log1p(-min(share, 1 - 1e-12)) / days)


def staff_channel(landing: int) -> int:
    """The channel of the stores' staff accounts: the landing one, personal WeChat when
    newcomers land on the official account."""
    return landing if landing != OFFICIAL_ACCOUNT else PERSONAL_WECHAT


def staff_effort(dealer) -> float:
    """0-1: how hard store staff work the private domain under a dealer mode (DOMAIN.md):
    ``effort_base + effort_per_attribution x attribution`` of online sales to the store."""
    return dealer.effort_base + dealer.effort_per_attribution * dealer.attribution


def koc_active(cfg) -> bool:
    """Whether the KOC program runs (its switch, a positive share, and the mechanism on)."""
    p = cfg.strategy.koc_program
    return bool(p.enabled and p.share > 0 and cfg.mechanisms.koc)


def koc_mult(is_koc: np.ndarray, gain: float, training: float) -> np.ndarray:
    """x rate of each user: ``1 + gain x training`` for trained KOCs, 1 for everyone else."""
    return np.where(is_koc, 1.0 + gain * training, 1.0)


def koc_answers(cfg, is_koc_member: np.ndarray) -> float:
    """Questions trained KOCs answer today (added service capacity; Zeekr's volunteers)."""
    p = cfg.strategy.koc_program
    return np.count_nonzero(is_koc_member) * p.answers_per_day * p.training


def koc_posts(cfg, is_koc_member: np.ndarray, gid: np.ndarray, n_groups: int) -> np.ndarray:
    """Expected KOC posts today in each group (members' KOC flags and group ids)."""
    p = cfg.strategy.koc_program
    k = is_koc_member & (gid >= 0)
    return np.bincount(gid[k], minlength=n_groups) * (p.posts_per_week / 7.0) * p.training


def prospect_friends(graph, state: np.ndarray, users: np.ndarray,
                     u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One graph neighbour of each of ``users`` (picked by uniforms ``u``) who is still a
    prospect, each friend once: ``(friends, who)``, sorted friends and, for each, the lowest-id
    user who picked it (deterministic ties)."""
    friend = graph.sample_neighbors(users, u)
    ok = friend >= 0
    ok[ok] = state[friend[ok]] == PROSPECT
    friends, first = unique(friend[ok], return_index=True)
    return friends, users[ok][first]


def super_users(spend: np.ndarray, share: float) -> np.ndarray:
    """The top ``share`` of users by spend (the super users of DOMAIN.md: 5-10x spend)."""
    if len(spend) == 0:
        return np.zeros(0, dtype=bool)
    return spend >= np.quantile(spend, 1.0 - share)
