"""Build the user table: traits drawn once per seed, shared by every strategy run on it.

Traits come from named streams indexed by user id, so the same seed gives the same
population whatever the strategy, and user i's traits do not depend on n_users.
"""

from __future__ import annotations

import math

import numpy as np

from sim.config import CHANNELS, Config
from sim.core.columns import (
    MEMBER,
    OFFICIAL_ACCOUNT,
    ORDINARY,
    PROSPECT,
    SOURCE_INITIAL,
    SOURCE_NONE,
    TOUCH_OFFICIAL,
    TOUCH_STAFF,
    Columns,
)
from sim.core.mechanisms.base import Column
from sim.core.rng import Streams


def segment_values(profiles: list, attr: str, dtype=np.float64) -> np.ndarray:
    """One value per segment (index = segment code) of a SegmentProfile attribute."""
    return np.array([getattr(p, attr) for p in profiles], dtype=dtype)


CORE_COLUMNS: tuple[Column, ...] = (
    # traits, drawn once per seed (shared by every strategy on it)
    Column("segment", np.int8, ORDINARY, "Honor's need tier: 0 ordinary, 1 fan, 2 KOC, "
           "3 enthusiast"),
    Column("spend", np.float32, 1.0, "spend multiplier (population mean 1; x market.price)"),
    Column("need_scale", np.float32, 1.0, "Weibull scale of the user's need cycle (days)"),
    Column("deal_prone", np.float32, 0.0, "deal-proneness (0-1): response to promotions"),
    Column("sociability", np.float32, 1.0, "sociability (mean 1): x referral rate"),
    Column("satisfaction", np.float32, 0.0, "satisfaction with the brand (0-1)"),
    Column("store", np.int32, 0, "the store whose catchment the user lives in"),
    Column("owned_before", np.bool_, False, "owned the brand before the run or bought it in "
           "store before joining (their first private-domain purchase is a repeat)"),
    Column("owner", np.bool_, False, "owns the brand (before the run, or bought it since, in "
           "any channel)"),
    Column("customer", np.bool_, False, "a customer as the private domain counts one: "
           "owned_before or a private-domain purchase (n_buy > 0); one byte the members' "
           "daily count reads instead of both"),
    # lifecycle, written by the model (SiyuModel.join / leave / book)
    Column("state", np.int8, PROSPECT, "0 prospect, 1 member, 2 churned"),
    Column("source", np.int8, SOURCE_NONE, "how the user joined (SOURCE_NAMES)"),
    Column("channel", np.int8, 0, "landing channel (CHANNELS); WeCom -> personal WeChat on a "
           "purchase with channel.transfer_on_purchase"),
    Column("touch", np.uint8, 0, "touchpoints held (bits: 1 staff account, 2 group, 4 official "
           "account, 8 mini-program); a member without a reachable one has left"),
    Column("join_day", np.int32, -1, "day joined, -1 = never (0 = before the run)"),
    Column("churn_day", np.int32, -1, "day left, -1 = never"),
    Column("recruited_by", np.int32, -1, "the user who brought this one (referral, event)"),
    Column("lead_stage", np.int8, 0, "0 none, 1 registered lead, 2 trialled (the funnel)"),
    # purchase ledger
    Column("n_buy", np.int32, 0, "private-domain purchases in the run"),
    Column("revenue", np.float64, 0.0, "net revenue of those purchases (yuan)"),
    Column("public_buys", np.int32, 0, "brand purchases outside the private domain in the run"),
    Column("public_revenue", np.float64, 0.0, "their revenue at list price (yuan)"),
    Column("last_public_day", np.int32, -1, "day of the last of them"),
    Column("first_buy_day", np.int32, -1, "day of the first purchase in the run"),
    Column("last_buy_day", np.int32, -1, "day of the last purchase in the run"),
)


def build_population(cfg: Config, streams: Streams) -> Columns:
    """Traits and the initial lifecycle state of every user (vectorised, by user id)."""
    n = cfg.population.n_users
    m = cfg.market
    ids = np.arange(n, dtype=np.int64)
    t = Columns(n)
    for c in CORE_COLUMNS:
        t.add(c.name, c.dtype, c.fill, "core")

    # segment: inverse CDF of the four shares on one uniform per user
    prof = m.segments.profiles()
    cuts = np.cumsum([p.share for p in prof[:3]])
    u = streams["trait.segment"].uniform(ids, 0)
    seg = np.minimum(np.searchsorted(cuts, u, side="right"), 3)
    t.segment[:] = seg

    # spend multiplier: lognormal (mean 1) x the segment's spend level (super users 5-10x),
    # normalised so the population's mean spend is 1 (price is the mean user's spend)
    z = streams["trait.spend"].normal(ids, 0)
    sigma = m.spend_sigma
    level = segment_values(prof, "spend_mult")
    mean_level = sum(p.share * p.spend_mult for p in prof) or 1.0
    t.spend[:] = np.exp(sigma * z - sigma**2 / 2) * level[seg] / mean_level

    # need cycle: Weibull scale per user so the mean interval is need_cycle_days x spread
    zc = streams["trait.cycle"].normal(ids, 0)
    s = m.need_cycle_spread
    cycle = m.need_cycle_days * np.exp(s * zc - s**2 / 2)
    t.need_scale[:] = cycle / math.gamma(1 + 1 / m.need_cycle_shape)

    # deal-proneness in [0,1]: Beta(a, b) x the segment's multiplier (fans/enthusiasts less)
    ud = streams["trait.deal"].uniform(ids, 0)
    from scipy.special import betaincinv

    deal = betaincinv(m.deal_prone_a, m.deal_prone_b, ud) * segment_values(prof, "deal_mult")[seg]
    t.deal_prone[:] = np.clip(deal, 0.0, 1.0)

    # sociability: lognormal, mean 1 (multiplies the referral rate)
    zs = streams["trait.social"].normal(ids, 0)
    ss = m.sociability_sigma
    t.sociability[:] = np.exp(ss * zs - ss**2 / 2)

    # satisfaction with the brand, 0-1
    sat = cfg.strategy.satisfaction
    zsat = streams["trait.satisfaction"].normal(ids, 0)
    t.satisfaction[:] = np.clip(sat.initial_mean + sat.initial_sd * zsat, 0.0, 1.0)

    t.store[:] = (streams["trait.store"].uniform(ids, 0)
                  * max(1, n * cfg.population.scale // cfg.strategy.acquisition.users_per_store)
                  ).astype(np.int32)
    owned = t.owned_before
    owned[:] = streams["trait.owner"].uniform(ids, 0) < m.initial_customer_share
    t.owner[:] = owned
    t.customer[:] = owned
    # the initial private domain is drawn from brand owners (they joined at an earlier purchase)
    member_p = m.initial_member_share / max(m.initial_customer_share, 1e-12)
    initial = owned & (streams["trait.member"].uniform(ids, 0) < member_p)
    t.state[initial] = MEMBER
    t.source[initial] = SOURCE_INITIAL
    t.join_day[initial] = 0
    t.channel[initial] = landing = CHANNELS.index(cfg.channel.landing)
    t.touch[initial] = touch_of_channel(landing)
    return t


def touch_of_channel(channel: int | np.ndarray) -> np.ndarray:
    """The touchpoint a newcomer holds on landing in ``channel``: the official account, or a
    staff account (personal WeChat, WeCom)."""
    return np.where(np.asarray(channel) == OFFICIAL_ACCOUNT, TOUCH_OFFICIAL,
                    TOUCH_STAFF).astype(np.uint8)
