"""Typed configuration: dataclasses for every config group, with ranges, units and sources.

Hydra composes YAML from ``conf/`` onto these dataclasses (structured configs), which
refuses unknown keys and wrong types. :func:`to_config` turns the composed node into real
typed objects and :func:`validate` checks every declared range before anything is built.
Every parameter is declared with :func:`param`: its default, allowed range, unit and the
source of the default (a DOMAIN.md figure, a paper, or "assumption").
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from omegaconf import DictConfig, OmegaConf


class ConfigError(ValueError):
    """A bad configuration value. ``str(err)`` is one line naming the key and what is allowed."""


def param(default: Any, lo: float | None = None, hi: float | None = None, *, unit: str = "",
          source: str = "assumption", doc: str = "", lo_open: bool = False) -> Any:
    """Declare a parameter: default, allowed range [lo, hi] (or (lo, hi] with lo_open), unit, source."""
    meta = {"lo": lo, "hi": hi, "unit": unit, "source": source, "doc": doc, "lo_open": lo_open}
    return field(default=default, metadata=meta)


def sub(cls: type) -> Any:
    return field(default_factory=cls)


PROB = {"lo": 0.0, "hi": 1.0, "unit": "probability"}


# --------------------------------------------------------------------------- population


@dataclass
class PopulationConfig:
    n_users: int = param(20_000, 10, 50_000_000, unit="simulated users",
                         doc="users in the reachable market (prospects and brand customers)")
    scale: int = param(1, 1, 10_000_000, unit="real users per simulated user",
                       source="choice: lets 1M simulated users stand for a 100M-user base "
                              "(Starsim pop_scale); counts, money and store caps are scaled")


# --------------------------------------------------------------------------- graph


@dataclass
class GraphConfig:
    kind: str = param("scale_free", source="choice", doc="scale_free | small_world | complete | edge_list")
    m: int = param(3, 1, 100, unit="edges per new node",
                   source="assumption; Barabasi & Albert 1999 attachment, mean degree 2m")
    k: int = param(10, 2, 1000, unit="neighbours (even)", source="Watts & Strogatz 1998; assumption")
    p_rewire: float = param(0.1, 0.0, 1.0, unit="probability", source="Watts & Strogatz 1998")
    path: str | None = param(None, source="input file", doc="edge-list file (one 'a b' pair of 0-based user ids per line)")


GRAPH_KINDS = ("scale_free", "small_world", "complete", "edge_list")


# --------------------------------------------------------------------------- market


@dataclass
class SegmentsConfig:
    """Honor's four need tiers (DOMAIN.md, Actors). Shares must sum to 1."""

    ordinary: float = param(0.70, 0.0, 1.0, unit="share", source="assumption (Honor tiers, pyramid)")
    fan: float = param(0.20, 0.0, 1.0, unit="share", source="assumption")
    koc: float = param(0.07, 0.0, 1.0, unit="share", source="assumption")
    enthusiast: float = param(0.03, 0.0, 1.0, unit="share", source="assumption")


@dataclass
class MarketConfig:
    name: str = param("phone", source="preset name")
    price: float = param(2000.0, 1.0, 1e7, unit="yuan per purchase (ordinary user)",
                         source="assumption: mid-range Android phone")
    gross_margin: float = param(0.15, 0.0, 1.0, unit="share of net revenue",
                                source="assumption: hardware margin")
    need_cycle_days: float = param(1095.0, 1.0, 10_000.0, unit="days (mean repurchase interval)",
                                   source="DOMAIN.md: phones ~3 years")
    need_cycle_shape: float = param(3.0, 1.0, 20.0, unit="Weibull shape",
                                    source="assumption: replacement hazard rises with device age")
    need_cycle_spread: float = param(0.25, 0.0, 2.0, unit="lognormal sigma of per-user cycle",
                                     source="assumption")
    spend_sigma: float = param(0.8, 0.0, 3.0, unit="lognormal sigma of spend multiplier",
                               source="assumption: heavy tail so top 20% of buyers give ~60-70% "
                                      "of revenue (LITERATURE #32)")
    super_user_mult: float = param(5.0, 1.0, 20.0, unit="x ordinary spend for enthusiasts",
                                   source="DOMAIN.md: super users spend 5-10x")
    brand_share: float = param(0.18, **PROB,
                               source="assumption: Honor ~first in China Android share (seed 000)")
    initial_member_share: float = param(0.02, **PROB,
                                        source="DOMAIN.md: Honor 100M users, groups ~1M")
    initial_customer_share: float = param(0.18, **PROB,
                                          source="assumption: = brand share of current devices")
    segments: SegmentsConfig = sub(SegmentsConfig)


# --------------------------------------------------------------------------- strategy


@dataclass
class AcquisitionConfig:
    recruit_prob: float = param(0.25, **PROB,
                                source="seed 002: package-card add-friend rate 20%+; assumption for "
                                       "store staff adding in-store buyers")
    staff_per_store: int = param(2, 1, 100, unit="staff per store", source="assumption")
    users_per_store: int = param(2000, 10, 10_000_000, unit="users per store catchment",
                                 source="assumption")
    friend_cap: int = param(5000, 1, 1_000_000, unit="friends per staff account",
                            source="DOMAIN.md / LITERATURE #37: personal WeChat 5,000")


@dataclass
class PromotionConfig:
    per_week: float = param(1.0, 0.0, 7.0, unit="promotion messages per week", source="strategy")
    depth: float = param(0.10, 0.0, 0.9, unit="discount share of price", source="strategy")
    pull_forward: float = param(20.0, 0.0, 1000.0, unit="added x need hazard per unit of "
                                "depth x deal-proneness on a promo day", source="assumption; "
                                "Pauwels et al. 2002: the lift mean-reverts (pull-forward)")
    choice_boost: float = param(1.0, 0.0, 100.0, unit="added brand-choice probability per unit "
                                "of depth x deal-proneness", source="assumption; Gupta 1988 via "
                                "Pauwels et al. 2002: most short-run lift is brand choice")
    fatigue_per_message: float = param(0.05, 0.0, 10.0, unit="fatigue units per message",
                                       source="assumption (subscriber fatigue, LITERATURE P19)")
    fatigue_halflife_days: float = param(30.0, 0.5, 3650.0, unit="days", source="assumption")
    annoyance: float = param(0.005, 0.0, 1.0, unit="satisfaction lost per promo by a service-"
                             "seeking user", source="DOMAIN.md: promotion spam buries posts, "
                             "hurts the experience (seed 000)")
    deal_drift: float = param(0.002, 0.0, 0.1, unit="deal-proneness gained per promo purchase",
                              source="Mela, Gupta & Lehmann 1997: promotions make consumers "
                                     "more promotion-sensitive")


@dataclass
class ServiceConfig:
    incidents_per_year: float = param(2.0, 0.0, 365.0, unit="questions/faults per member-year",
                                      source="assumption")
    resolve_prob: float = param(0.6, **PROB, source="strategy: answer capacity and speed")
    gain: float = param(0.08, 0.0, 1.0, unit="satisfaction per resolved incident",
                        source="assumption; seed 000: service raises satisfaction")
    loss: float = param(0.12, 0.0, 1.0, unit="satisfaction per unresolved incident",
                        source="assumption")
    proactive_care: float = param(0.0, **PROB,
                                  source="seed 000: proactive care ('phone dropped: nearest "
                                         "repair shop'); share of incidents pre-empted")
    cost_per_incident: float = param(5.0, 0.0, 1e6, unit="yuan per handled incident",
                                     source="assumption")


@dataclass
class ContentConfig:
    per_week: float = param(1.0, 0.0, 14.0, unit="content posts per week", source="strategy")
    gain: float = param(0.01, 0.0, 1.0, unit="satisfaction per post for news-seeking users",
                        source="assumption; DOMAIN.md: fans want news and product information")
    cost_per_post: float = param(100.0, 0.0, 1e9, unit="yuan per post", source="assumption")


@dataclass
class ReferralConfig:
    per_year: float = param(0.5, 0.0, 365.0, unit="recommendations per satisfied member-year",
                            source="assumption")
    conversion: float = param(0.2, **PROB, source="DOMAIN.md: Zeekr referral -> purchase 20%")
    koc_mult: float = param(4.0, 1.0, 100.0, unit="x referral rate of KOC/enthusiast users",
                            source="assumption; DOMAIN.md: KOC referrals convert far better")
    reward: float = param(0.0, 0.0, 1e6, unit="yuan per converted referral", source="strategy")


@dataclass
class ChurnConfig:
    base_monthly: float = param(0.055, 0.0, 1.0, unit="share of members leaving per 30 days",
                                source="seed 002: personal WeChat friend churn 5-6%")
    fatigue_beta: float = param(0.6, 0.0, 20.0, unit="log hazard ratio per fatigue unit",
                                source="assumption")
    dissatisfaction_beta: float = param(3.0, 0.0, 20.0, unit="log hazard ratio per unit of "
                                        "satisfaction below 0.7", source="assumption")


@dataclass
class SatisfactionConfig:
    initial_mean: float = param(0.72, 0.0, 1.0, unit="0-1 scale", source="assumption")
    initial_sd: float = param(0.15, 0.0, 0.5, unit="0-1 scale", source="assumption")
    reversion_days: float = param(180.0, 1.0, 1e5, unit="days to drift back to initial mean",
                                  source="assumption")
    loyalty_base: float = param(0.35, **PROB, source="assumption: probability a member at "
                                "satisfaction 0.5 buys the brand when need arrives")
    loyalty_slope: float = param(1.2, 0.0, 10.0, unit="probability per satisfaction unit",
                                 source="assumption")


@dataclass
class CostConfig:
    per_member_month: float = param(1.0, 0.0, 1e6, unit="yuan per member per month (staff, tools)",
                                    source="assumption")
    per_promo_message: float = param(200.0, 0.0, 1e9, unit="yuan per promotion campaign",
                                     source="assumption")


@dataclass
class StrategyConfig:
    name: str = param("service_led", source="preset name")
    acquisition: AcquisitionConfig = sub(AcquisitionConfig)
    promotion: PromotionConfig = sub(PromotionConfig)
    service: ServiceConfig = sub(ServiceConfig)
    content: ContentConfig = sub(ContentConfig)
    referral: ReferralConfig = sub(ReferralConfig)
    churn: ChurnConfig = sub(ChurnConfig)
    satisfaction: SatisfactionConfig = sub(SatisfactionConfig)
    cost: CostConfig = sub(CostConfig)


# --------------------------------------------------------------------------- run


@dataclass
class MechanismsConfig:
    """Switch each mechanism on or off (reduce the model to simple processes)."""

    acquisition: bool = param(True, source="switch", doc="store staff recruit in-store buyers")
    messaging: bool = param(True, source="switch", doc="promotions and content")
    service: bool = param(True, source="switch", doc="incidents and their resolution")
    purchase: bool = param(True, source="switch", doc="need-cycle purchases")
    referral: bool = param(True, source="switch", doc="word-of-mouth referrals over the graph")
    churn: bool = param(True, source="switch", doc="members leave")


@dataclass
class OutputConfig:
    figures: bool = param(True, source="switch", doc="write PNG figures")
    progress: bool = param(True, source="switch", doc="progress lines on stderr for long runs")


@dataclass
class Config:
    population: PopulationConfig = sub(PopulationConfig)
    graph: GraphConfig = sub(GraphConfig)
    market: MarketConfig = sub(MarketConfig)
    strategy: StrategyConfig = sub(StrategyConfig)
    mechanisms: MechanismsConfig = sub(MechanismsConfig)
    output: OutputConfig = sub(OutputConfig)
    days: int = param(730, 1, 36_500, unit="simulated days")
    seed: int = param(1, 0, 2**63 - 1, unit="root seed")


def register_configs() -> None:
    """Register the schema with Hydra's ConfigStore (the root config's first default)."""
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    cs.store(name="base_config", node=Config)


# --------------------------------------------------------------------------- conversion


def to_config(node: DictConfig | dict | Config) -> Config:
    """Turn a composed Hydra node (or a plain dict of overrides) into a validated :class:`Config`."""
    schema = OmegaConf.structured(Config)
    try:
        # a Config object goes through the schema too, so its field types are checked
        merged = OmegaConf.merge(schema, OmegaConf.structured(node) if isinstance(node, Config)
                                 else node)
        cfg = OmegaConf.to_object(merged)
    except Exception as exc:  # omegaconf raises several types; report one line
        raise ConfigError(_omegaconf_message(exc)) from None
    validate(cfg)
    return cfg


def _omegaconf_message(exc: Exception) -> str:
    key = getattr(exc, "full_key", None)
    msg = str(exc).splitlines()[0]
    if key:
        return f"{key}: {msg}"
    return msg


def validate(cfg: Config) -> None:
    """Check every declared range and the cross-field rules; raise ConfigError on the first."""
    _check_ranges(cfg, "")
    seg = cfg.market.segments
    total = seg.ordinary + seg.fan + seg.koc + seg.enthusiast
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise ConfigError(f"market.segments: shares sum to {total:g}; allowed: they must sum to 1")
    if cfg.market.initial_member_share > cfg.market.initial_customer_share:
        raise ConfigError(f"market.initial_member_share={cfg.market.initial_member_share:g} exceeds "
                          f"market.initial_customer_share={cfg.market.initial_customer_share:g}; "
                          "allowed: members are drawn among owners, so member share <= customer share")
    if cfg.graph.kind not in GRAPH_KINDS:
        raise ConfigError(f"graph.kind={cfg.graph.kind!r} is not allowed; allowed: "
                          + ", ".join(GRAPH_KINDS))
    if cfg.graph.kind == "edge_list" and not cfg.graph.path:
        raise ConfigError("graph.path is missing; allowed: a path to an edge-list file when "
                          "graph.kind=edge_list")
    if cfg.graph.kind == "small_world" and cfg.graph.k % 2:
        raise ConfigError(f"graph.k={cfg.graph.k} is odd; allowed: an even number >= 2")
    if cfg.graph.kind == "small_world" and cfg.graph.k >= cfg.population.n_users:
        raise ConfigError(f"graph.k={cfg.graph.k} is not below population.n_users="
                          f"{cfg.population.n_users}; allowed: 2 <= k < n_users")


def _check_ranges(obj: Any, prefix: str) -> None:
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            _check_ranges(value, key + ".")
            continue
        lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
        if lo is None and hi is None or isinstance(value, bool) or value is None:
            continue
        unit = f.metadata.get("unit", "")
        bad = isinstance(value, float) and not math.isfinite(value)
        lo_open = f.metadata.get("lo_open", False)
        if lo is not None and (value <= lo if lo_open else value < lo):
            bad = True
        if hi is not None and value > hi:
            bad = True
        if bad:
            low = f"{lo:g} {'<' if lo_open else '<='} " if lo is not None else ""
            high = f" <= {hi:g}" if hi is not None else ""
            what = f" ({unit})" if unit else ""
            raise ConfigError(f"{key}={value!r} is out of range; allowed: {low}value{high}{what}")


def describe_parameters(cls: type = Config, prefix: str = "") -> list[dict[str, Any]]:
    """Every parameter with its default, range, unit and source (for docs and reports)."""
    rows = []
    for f in dataclasses.fields(cls):
        key = f"{prefix}{f.name}"
        if f.default_factory is not dataclasses.MISSING:  # nested config
            rows += describe_parameters(f.default_factory, key + ".")
            continue
        m = f.metadata
        rows.append({"key": key, "default": f.default, "lo": m.get("lo"), "hi": m.get("hi"),
                     "unit": m.get("unit", ""), "source": m.get("source", ""),
                     "doc": m.get("doc", "")})
    return rows


def config_dict(cfg: Config) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def parameters_markdown() -> str:
    """docs/parameters.md: every parameter with default, range, unit and source."""
    lines = [
        "# Parameters",
        "",
        "Generated from `sim/config.py` by `python scripts/gen_parameters.py`; do not edit by",
        "hand. Defaults shown are the schema's; the presets in `conf/` override some of them.",
        "",
        "| key | default | range | unit | source |",
        "|---|---|---|---|---|",
    ]
    for row in describe_parameters():
        lo, hi = row["lo"], row["hi"]
        rng = "" if lo is None and hi is None else f"{'' if lo is None else f'{lo:g}'} .. " \
              f"{'' if hi is None else f'{hi:g}'}"
        unit = (row["unit"] or row["doc"]).replace("|", "\\|")
        src = row["source"].replace("|", "\\|")
        lines.append(f"| `{row['key']}` | {row['default']!r} | {rng} | {unit} | {src} |")
    return "\n".join(lines) + "\n"
