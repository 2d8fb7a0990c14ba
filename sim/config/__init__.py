"""Typed configuration: dataclasses for every config group, with ranges, units and sources.

Hydra composes YAML from ``conf/`` onto these dataclasses (structured configs), which
refuses unknown keys and wrong types. :func:`to_config` turns the composed node into real
typed objects and :func:`validate` checks every declared range before anything is built.
Every parameter is declared with :func:`param`: its default, allowed range, unit and the
source of the default (a DOMAIN.md figure, a paper, or "assumption").
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, OmegaConf

from sim.config.base import PROB, ConfigError, param, sub  # noqa: F401  (re-exported)
from sim.config.market import FunnelConfig, MarketConfig, SegmentProfile, SegmentsConfig  # noqa: F401
from sim.config.platform import (  # noqa: F401
    CHANNELS,
    DEALER_MODES,
    ChannelConfig,
    ChannelProfile,
    ChannelsConfig,
    DealerConfig,
    GroupsConfig,
    TouchpointsConfig,
)
from sim.config.strategy import (  # noqa: F401
    AcquisitionConfig,
    ChurnConfig,
    ContentConfig,
    CostConfig,
    EventsConfig,
    KocProgramConfig,
    MembershipConfig,
    PromotionConfig,
    ReferralConfig,
    SatisfactionConfig,
    ServiceConfig,
    StrategyConfig,
)

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


# --------------------------------------------------------------------------- run


@dataclass
class MechanismsConfig:
    """Switch each mechanism on or off (reduce the model to simple processes)."""

    koc: bool = param(True, source="switch", doc="KOC program (when strategy.koc_program.enabled)")
    messaging: bool = param(True, source="switch", doc="promotions and content")
    groups: bool = param(True, source="switch", doc="community groups: activity and death")
    events: bool = param(True, source="switch", doc="offline events")
    service: bool = param(True, source="switch", doc="incidents and their resolution")
    membership: bool = param(True, source="switch", doc="points, tiers and VIP (when enabled)")
    purchase: bool = param(True, source="switch", doc="need-cycle purchases")
    funnel: bool = param(True, source="switch", doc="leads: registration -> trial -> purchase")
    acquisition: bool = param(True, source="switch", doc="store staff recruit in-store buyers")
    referral: bool = param(True, source="switch", doc="word-of-mouth referrals over the graph")
    adoption: bool = param(True, source="switch", doc="Bass adoption (when bass.enabled)")
    churn: bool = param(True, source="switch", doc="members leave")
    recall: bool = param(True, source="switch", doc="recall campaigns win back lapsed former "
                         "members (when strategy.recall.per_year > 0)")
    touchpoints: bool = param(True, source="switch", doc="touchpoints held at once: official-"
                              "account follows, group-to-1:1 escalation, presale pull")


@dataclass
class BassConfig:
    """Bass (1969) diffusion, for validation: advertising p plus word of mouth q."""

    enabled: bool = param(False, source="switch", doc="prospects adopt at hazard p + q x "
                          "adopted share of contacts")
    p: float = param(0.01, 0.0, 1.0, unit="innovation hazard per day",
                     source="LITERATURE #22: p ~0.03 per year on average (here per day)")
    q: float = param(0.3, 0.0, 10.0, unit="imitation hazard per day at full adoption of contacts",
                     source="LITERATURE #22: q ~0.38 per year on average (here per day)")


@dataclass
class ExportConfig:
    transactions: bool = param(False, source="switch", doc="write transactions.parquet "
                               "(customer_id, date, amount) for repeat-purchase models")


@dataclass
class OutputConfig:
    figures: bool = param(True, source="switch", doc="write PNG figures")
    progress: bool = param(True, source="switch", doc="progress lines on stderr for long runs")


@dataclass
class ReportConfig:
    lang: str = param("zh", source="choice: the people who run private domains read Chinese",
                      doc="zh | en: language of the run summary, figures and study reports "
                          "(sim/i18n.py)")


LANGS = ("zh", "en")


@dataclass
class CalendarConfig:
    start_date: str = param("2025-01-01", source="choice (any date; the model has no "
                            "seasonality yet)", doc="calendar date of simulated day 1 "
                            "(YYYY-MM-DD): exports and series carry real dates")


@dataclass
class Config:
    population: PopulationConfig = sub(PopulationConfig)
    graph: GraphConfig = sub(GraphConfig)
    market: MarketConfig = sub(MarketConfig)
    strategy: StrategyConfig = sub(StrategyConfig)
    dealer: DealerConfig = sub(DealerConfig)
    channel: ChannelConfig = sub(ChannelConfig)
    channels: ChannelsConfig = sub(ChannelsConfig)
    groups: GroupsConfig = sub(GroupsConfig)
    touchpoints: TouchpointsConfig = sub(TouchpointsConfig)
    mechanisms: MechanismsConfig = sub(MechanismsConfig)
    bass: BassConfig = sub(BassConfig)
    export: ExportConfig = sub(ExportConfig)
    output: OutputConfig = sub(OutputConfig)
    report: ReportConfig = sub(ReportConfig)
    calendar: CalendarConfig = sub(CalendarConfig)
    days: int = param(730, 1, 36_500, unit="simulated days")
    seed: int = param(1, 0, 2**63 - 1, unit="root seed")
    counterfactual: bool = param(False, source="switch (on in studies)", doc="also run the same "
                                 "seed without private-domain operations and report "
                                 "incremental revenue, gross profit and ROI against it")


def register_configs() -> None:
    """Register the schema with Hydra's ConfigStore (the root config's first default)."""
    from hydra.core.config_store import ConfigStore

    from sim.paths import EXPERIMENTS_DIR

    cs = ConfigStore.instance()
    cs.store(name="base_config", node=Config)
    # studies live in the top-level experiments/ folder (the package's copy in a wheel):
    # each NAME.yaml is the `experiment=NAME` option, a global delta
    for path in sorted(EXPERIMENTS_DIR.glob("*.yaml")):
        cs.store(group="experiment", name=path.stem, node=OmegaConf.load(path),
                 package="_global_")


# --------------------------------------------------------------------------- conversion


@functools.cache
def _schema() -> DictConfig:
    """The typed schema as an OmegaConf node, built once (~40 ms: every dataclass walked);
    ``OmegaConf.merge`` copies it and never changes it."""
    return OmegaConf.structured(Config)


def to_config(node: DictConfig | dict | Config) -> Config:
    """Turn a composed Hydra node (or a plain dict of overrides) into a validated :class:`Config`."""
    schema = _schema()
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
        value = getattr(exc, "value", None)
        head = f"{key}={value}" if value is not None else key
        allowed = allowed_text(key)
        return f"{head}: {msg}" + (f"; allowed: {allowed}" if allowed else "")
    return msg


CHOICES = {  # string keys with a fixed set of values (checked by validate)
    "report.lang": LANGS,
    "channel.landing": CHANNELS,
    "dealer.mode": DEALER_MODES,
    "graph.kind": GRAPH_KINDS,
    "strategy.koc_program.selection": ("application", "reach"),
}


def schema_field(key: str) -> dataclasses.Field | None:
    """The dataclass field declaring dotted ``key`` (None if it is not a parameter)."""
    obj: Any = Config()
    parts = key.split(".")
    for i, part in enumerate(parts):
        if not dataclasses.is_dataclass(obj):
            return None
        fields = {f.name: f for f in dataclasses.fields(obj)}
        if part not in fields:
            return None
        if i == len(parts) - 1:
            return fields[part]
        obj = getattr(obj, part)
    return None


def field_kind(key: str) -> str | None:
    """``bool``, ``int``, ``float``, ``str`` (or ``date``) for a parameter, ``section`` for a
    nested section, None for an unknown key."""
    obj: Any = Config()
    for part in key.split("."):
        if not dataclasses.is_dataclass(obj) or part not in {f.name for f in dataclasses.fields(obj)}:
            return None
        obj = getattr(obj, part)
    if dataclasses.is_dataclass(obj):
        return "section"
    f = schema_field(key)
    hint = str(f.type) if f is not None else ""
    for kind in ("bool", "int", "float"):
        if hint.startswith(kind):
            return kind
    return "date" if key == "calendar.start_date" else "str"


def allowed_text(key: str) -> str:
    """What a parameter accepts, for error messages: its range and unit, its choices, or
    its type (empty for an unknown key)."""
    f = schema_field(key)
    if f is None:
        return ""
    kind = field_kind(key)
    if kind == "bool":
        return "true or false"
    if key in CHOICES:
        return ", ".join(CHOICES[key])
    if kind == "date":
        return "a date YYYY-MM-DD, e.g. 2025-01-01"
    lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
    unit = f.metadata.get("unit", "")
    what = "an integer" if kind == "int" else "a number" if kind == "float" else "text"
    if key == "graph.path":
        return "a path to an edge-list file (see python -m sim --help)"
    if lo is None and hi is None:
        return what + (f" ({unit})" if unit else "")
    low = f"{lo:g} {'<' if f.metadata.get('lo_open') else '<='} " if lo is not None else ""
    high = f" <= {hi:g}" if hi is not None else ""
    return f"{what}, {low}value{high}" + (f" ({unit})" if unit else "")


def validate(cfg: Config) -> None:
    """Check every declared range and the cross-field rules; raise ConfigError on the first."""
    _check_ranges(cfg, "")
    total = sum(p.share for p in cfg.market.segments.profiles())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise ConfigError(f"market.segments: shares sum to {total:g}; allowed: they must sum to 1")
    if cfg.market.initial_member_share > cfg.market.initial_customer_share:
        raise ConfigError(f"market.initial_member_share={cfg.market.initial_member_share:g} exceeds "
                          f"market.initial_customer_share={cfg.market.initial_customer_share:g}; "
                          "allowed: members are drawn among owners, so member share <= customer share")
    _check_choice("report.lang", cfg.report.lang, LANGS)
    _check_date("calendar.start_date", cfg.calendar.start_date)
    _check_choice("channel.landing", cfg.channel.landing, CHANNELS)
    _check_choice("dealer.mode", cfg.dealer.mode, DEALER_MODES)
    _check_choice("strategy.koc_program.selection", cfg.strategy.koc_program.selection,
                  ("application", "reach"))
    m = cfg.strategy.membership
    if m.senior_points > m.premium_points:
        raise ConfigError(f"strategy.membership.senior_points={m.senior_points:g} exceeds "
                          f"premium_points={m.premium_points:g}; allowed: senior <= premium")
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
    _check_structure(cfg)


def _check_structure(cfg: Config) -> None:
    """Counts that grow with population.scale (stores, their staff and groups) stay bounded
    by the simulated population: at most one store per simulated user."""
    p, a = cfg.population, cfg.strategy.acquisition
    stores = p.n_users * p.scale // a.users_per_store
    if stores > p.n_users:
        raise ConfigError(
            f"population.scale={p.scale}: gives {stores:,} stores (population.n_users x scale / "
            f"strategy.acquisition.users_per_store = {p.n_users:,} x {p.scale:,} / "
            f"{a.users_per_store:,}) for {p.n_users:,} simulated users; allowed: at most one "
            f"store per simulated user, i.e. scale <= users_per_store ({a.users_per_store:,})")


def _check_choice(key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{key}={value!r} is not allowed; allowed: {', '.join(allowed)}")


def _check_date(key: str, value: str) -> None:
    import datetime as dt

    try:
        dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key}={value!r} is not a date; allowed: YYYY-MM-DD, e.g. "
                          "2025-01-01") from None


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


def describe_parameters(obj: Any = None, prefix: str = "") -> list[dict[str, Any]]:
    """Every parameter with its default, range, unit and source (for docs and reports).

    Walks a config instance (default: ``Config()``), so nested sections made by factories
    (the four segments, the three channels) report their own defaults.
    """
    obj = Config() if obj is None else obj
    rows = []
    for f in dataclasses.fields(obj):
        key = f"{prefix}{f.name}"
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            rows += describe_parameters(value, key + ".")
            continue
        m = f.metadata
        rows.append({"key": key, "default": value, "lo": m.get("lo"), "hi": m.get("hi"),
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
        "Generated from `sim/config/` by `python scripts/gen_docs.py`; do not edit by",
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
