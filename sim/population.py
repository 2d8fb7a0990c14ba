"""Build the user table: traits drawn once per seed, shared by every strategy run on it.

Traits come from named streams indexed by user id, so the same seed gives the same
population whatever the strategy, and user i's traits do not depend on n_users.
"""

from __future__ import annotations

import math

import numpy as np

from sim.columns import (
    ENTHUSIAST,
    FAN,
    KOC,
    MEMBER,
    ORDINARY,
    PROSPECT,
    SOURCE_INITIAL,
    SOURCE_NONE,
    Columns,
)
from sim.config import Config
from sim.rng import Streams


def build_population(cfg: Config, streams: Streams) -> Columns:
    """Traits and the initial lifecycle state of every user (vectorised, by user id)."""
    n = cfg.population.n_users
    m = cfg.market
    ids = np.arange(n, dtype=np.int64)
    t = Columns(n)

    # segment: inverse CDF of the four shares on one uniform per user
    seg = m.segments
    cuts = np.cumsum([seg.ordinary, seg.fan, seg.koc])
    u = streams["trait.segment"].uniform(ids, 0)
    t.add("segment", np.int8, ORDINARY, "core")[:] = np.searchsorted(cuts, u, side="right")

    # spend multiplier: lognormal with mean 1, enthusiasts (super users) x super_user_mult
    z = streams["trait.spend"].normal(ids, 0)
    sigma = m.spend_sigma
    spend = np.exp(sigma * z - sigma**2 / 2)
    spend[t.segment == ENTHUSIAST] *= m.super_user_mult
    spend[t.segment == KOC] *= math.sqrt(m.super_user_mult)  # assumption: KOCs between
    t.add("spend", np.float32, 1.0, "core")[:] = spend

    # need cycle: Weibull scale per user so the mean interval is need_cycle_days x spread
    zc = streams["trait.cycle"].normal(ids, 0)
    s = m.need_cycle_spread
    cycle = m.need_cycle_days * np.exp(s * zc - s**2 / 2)
    t.add("need_scale", np.float32, 1.0, "core")[:] = cycle / math.gamma(1 + 1 / m.need_cycle_shape)

    # deal-proneness in [0,1]: Beta(2, 3), mean 0.4 (assumption); fans/enthusiasts less
    ud = streams["trait.deal"].uniform(ids, 0)
    from scipy.special import betaincinv

    deal = betaincinv(2.0, 3.0, ud)
    deal[(t.segment == FAN) | (t.segment == ENTHUSIAST)] *= 0.7
    t.add("deal_prone", np.float32, 0.0, "core")[:] = deal

    # sociability: lognormal, mean 1 (assumption; multiplies referral rate)
    zs = streams["trait.social"].normal(ids, 0)
    t.add("sociability", np.float32, 1.0, "core")[:] = np.exp(0.5 * zs - 0.125)

    # satisfaction with the brand, 0-1
    sat = cfg.strategy.satisfaction
    zsat = streams["trait.satisfaction"].normal(ids, 0)
    t.add("satisfaction", np.float32, 0.0, "core")[:] = np.clip(
        sat.initial_mean + sat.initial_sd * zsat, 0.0, 1.0)

    # promotion fatigue (built by messaging, read by churn: core, so either can be off)
    t.add("fatigue", np.float32, 0.0, "core")

    # lifecycle state
    state = t.add("state", np.int8, PROSPECT, "core")
    source = t.add("source", np.int8, SOURCE_NONE, "core")
    t.add("join_day", np.int32, -1, "core")
    t.add("churn_day", np.int32, -1, "core")
    t.add("recruited_by", np.int32, -1, "core")
    t.add("store", np.int32, 0, "core")[:] = (
        streams["trait.store"].uniform(ids, 0)
        * max(1, n * cfg.population.scale // cfg.strategy.acquisition.users_per_store)
    ).astype(np.int32)
    owned = t.add("owned_before", np.bool_, False, "core")
    owned[:] = streams["trait.owner"].uniform(ids, 0) < m.initial_customer_share
    # the initial private domain is drawn from brand owners (they joined at an earlier purchase)
    member_p = m.initial_member_share / max(m.initial_customer_share, 1e-12)
    initial = owned & (streams["trait.member"].uniform(ids, 0) < member_p)
    state[initial] = MEMBER
    source[initial] = SOURCE_INITIAL
    t.join_day[initial] = 0

    # purchase ledger
    t.add("n_buy", np.int32, 0, "core")
    t.add("revenue", np.float64, 0.0, "core")
    t.add("first_buy_day", np.int32, -1, "core")
    t.add("last_buy_day", np.int32, -1, "core")
    t.add("n_referred", np.int32, 0, "core")
    return t
