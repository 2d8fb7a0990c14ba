"""The typed configuration: loading, validation messages, declared units/sources, presets."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
from omegaconf import OmegaConf

import sim
from sim.config import (
    Config,
    ConfigError,
    MarketConfig,
    PromotionConfig,
    StrategyConfig,
    describe_parameters,
    to_config,
    validate,
)

CONF = Path(__file__).resolve().parents[1] / "conf"


def leaves(node, prefix=""):
    """(dotted key, value) of every leaf of a nested dict."""
    for k, v in node.items():
        if isinstance(v, dict):
            yield from leaves(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", v


def get(obj, dotted: str):
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def schema_fields(cls=Config, prefix=""):
    """(dotted key, dataclass field) of every leaf field of the schema, walked independently."""
    for f in dataclasses.fields(cls):
        nested = f.default_factory is not dataclasses.MISSING
        value = f.default_factory() if nested else None  # a class or a factory function
        if nested and dataclasses.is_dataclass(value):
            yield from schema_fields(type(value), f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}", f


def assert_one_line_naming(err: ConfigError, *fragments: str) -> None:
    msg = str(err)
    assert "\n" not in msg, f"message is not one line: {msg!r}"
    for frag in fragments:
        assert frag in msg, f"{frag!r} not in {msg!r}"


# ------------------------------------------------------------------ loading


def test_load_config_returns_typed_nested_dataclasses():
    cfg = sim.load_config(["strategy=promotion_heavy", "population.n_users=1000", "days=60",
                           "seed=5"])
    assert isinstance(cfg, Config)
    assert isinstance(cfg.strategy, StrategyConfig)
    assert isinstance(cfg.strategy.promotion, PromotionConfig)
    assert isinstance(cfg.market, MarketConfig)
    assert type(cfg.population.n_users) is int and cfg.population.n_users == 1000
    assert type(cfg.days) is int and cfg.days == 60
    assert type(cfg.seed) is int and cfg.seed == 5
    # conf/market/phone.yaml writes `need_cycle_days: 1095`: the schema makes it a float
    assert type(cfg.market.need_cycle_days) is float and cfg.market.need_cycle_days == 1095.0
    assert type(cfg.mechanisms.churn) is bool
    assert cfg.strategy.name == "promotion_heavy"
    assert cfg.strategy.promotion.per_week == 4.0  # preset value, not the schema default 1.0
    assert cfg.graph.path is None


def test_load_config_without_overrides_is_the_root_yaml():
    root = OmegaConf.to_container(OmegaConf.load(CONF / "config.yaml"))
    cfg = sim.load_config([])
    assert cfg.days == root["days"]
    assert cfg.seed == root["seed"]
    assert cfg.population.n_users == root["population"]["n_users"]
    chosen = {k: v for d in root["defaults"] if isinstance(d, dict) for k, v in d.items()}
    assert cfg.market.name == chosen["market"]
    assert cfg.strategy.name == chosen["strategy"]
    assert cfg.graph.kind == chosen["graph"]


@pytest.mark.parametrize("overrides, fragments", [
    (["days=0"], ["days"]),
    (["strategy=nope"], ["strategy", "nope", "promotion_heavy"]),
    (["market.brand_share=2"], ["market.brand_share", "2"]),
    (["foo=1"], ["foo"]),
])
def test_load_config_raises_config_error(overrides, fragments):
    with pytest.raises(ConfigError) as err:
        sim.load_config(overrides)
    assert_one_line_naming(err.value, *fragments)


def test_config_error_is_a_value_error():
    assert issubclass(sim.ConfigError, ValueError)
    assert sim.ConfigError is ConfigError


# ------------------------------------------------------------------ validation


BAD_DICTS = [
    # (id, dict of overrides, fragments of the message)
    ("probability_above_one", {"market": {"brand_share": 2}}, ["market.brand_share=2", "allowed"]),
    ("int_below_range", {"days": 0}, ["days=0", "allowed", "1 <= value"]),
    ("int_above_range", {"days": 36_501}, ["days=36501", "allowed"]),
    ("users_below_range", {"population": {"n_users": 5}}, ["population.n_users=5", "allowed"]),
    ("negative_seed", {"seed": -1}, ["seed=-1", "allowed"]),
    ("float_above_range", {"strategy": {"promotion": {"depth": 0.95}}},
     ["strategy.promotion.depth=0.95", "allowed", "0.9"]),
    ("float_nan", {"market": {"price": math.nan}}, ["market.price=nan", "allowed"]),
    ("float_inf", {"market": {"price": math.inf}}, ["market.price=inf", "allowed"]),
    ("segments_not_summing", {"market": {"segments": {"fan": {"share": 0.5}}}},
     ["market.segments", "sum", "allowed"]),
    ("odd_k_small_world", {"graph": {"kind": "small_world", "k": 11}}, ["graph.k=11", "even"]),
    ("k_not_below_n", {"graph": {"kind": "small_world", "k": 20}, "population": {"n_users": 20}},
     ["graph.k=20", "population.n_users=20"]),
    ("unknown_graph_kind", {"graph": {"kind": "ring"}}, ["graph.kind", "ring", "small_world"]),
    ("edge_list_without_path", {"graph": {"kind": "edge_list"}}, ["graph.path"]),
    ("wrong_type_int", {"days": "abc"}, ["days", "abc"]),
    ("wrong_type_bool", {"output": {"figures": "maybe"}}, ["output.figures", "maybe"]),
    ("bool_for_int", {"days": True}, ["days"]),
    ("unknown_key", {"foo": 1}, ["foo"]),
    ("unknown_nested_key", {"strategy": {"promotion": {"dept": 1}}}, ["dept"]),
]


@pytest.mark.parametrize("overrides, fragments", [c[1:] for c in BAD_DICTS],
                         ids=[c[0] for c in BAD_DICTS])
def test_to_config_rejects_with_one_line_naming_the_key(overrides, fragments):
    with pytest.raises(ConfigError) as err:
        to_config(overrides)
    assert_one_line_naming(err.value, *fragments)


@pytest.mark.parametrize("key, value", [
    ("strategy.service.resolve_prob", 1.5),
    ("market.gross_margin", -0.1),
    ("strategy.acquisition.staff_per_store", 0),
    ("strategy.promotion.fatigue_halflife_days", 0.1),
    ("population.n_users", 9),
])
def test_validate_rejects_an_out_of_range_field_of_a_config_object(key, value):
    cfg = Config()
    *path, last = key.split(".")
    setattr(get(cfg, ".".join(path)) if path else cfg, last, value)
    with pytest.raises(ConfigError) as err:
        validate(cfg)
    assert_one_line_naming(err.value, f"{key}={value!r}", "allowed")


def test_validate_accepts_the_range_bounds():
    cfg = Config()
    cfg.strategy.service.resolve_prob = 1.0
    cfg.market.brand_share = 0.0
    cfg.population.n_users = 10
    cfg.days = 1
    validate(cfg)  # closed ranges: the bounds themselves are allowed


@pytest.mark.parametrize("kwargs", [{"days": "sixty"}, {"days": True}, {"days": 60.5}],
                         ids=["str_for_int", "bool_for_int", "float_for_int"])
def test_a_config_object_with_a_wrongly_typed_field_is_rejected(kwargs):
    """A Config object goes through the typed schema too: a non-numeric string, a bool or a
    fractional float for an int field is refused (a numeric string converts, as on the CLI)."""
    with pytest.raises(ConfigError) as err:
        to_config(Config(**kwargs))
    assert_one_line_naming(err.value, "days")


# ------------------------------------------------------------------ declared parameters


def test_describe_parameters_covers_every_leaf_field_once():
    rows = describe_parameters()
    keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys))
    assert set(keys) == {k for k, _ in schema_fields()}


def test_every_numeric_parameter_has_a_unit_range_and_source():
    bad = []
    for r in describe_parameters():
        d = r["default"]
        if isinstance(d, bool) or not isinstance(d, (int, float)):
            continue
        if not r["unit"].strip():
            bad.append(f"{r['key']}: no unit")
        if not r["source"].strip():
            bad.append(f"{r['key']}: no source")
        if r["lo"] is None and r["hi"] is None:
            bad.append(f"{r['key']}: no range")
    assert not bad, "\n".join(bad)


def test_every_name_or_path_parameter_has_a_source():
    named = [r for r in describe_parameters()
             if r["default"] is None or isinstance(r["default"], str)]
    assert {r["key"] for r in named} >= {"graph.kind", "graph.path", "market.name", "strategy.name"}
    bad = [r["key"] for r in named if not r["source"].strip()]
    assert not bad, f"no source declared for {bad}"


def test_every_bool_switch_has_a_source():
    """config.py's docstring: every parameter is declared with param() with its source."""
    switches = [r for r in describe_parameters() if isinstance(r["default"], bool)]
    assert switches, "expected the mechanisms.* / output.* switches"
    bad = [r["key"] for r in switches if not r["source"].strip()]
    assert not bad, f"declared without param(): no source for {bad}"


def test_every_default_lies_in_its_declared_range():
    bad = []
    for key, f in schema_fields():
        d = f.default
        lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
        if isinstance(d, bool) or d is None or (lo is None and hi is None):
            continue
        lo_ok = lo is None or (d > lo if f.metadata.get("lo_open") else d >= lo)
        if not (lo_ok and (hi is None or d <= hi) and math.isfinite(d)):
            bad.append(f"{key}={d!r} outside [{lo}, {hi}]")
    assert not bad, "\n".join(bad)
    validate(Config())  # and the defaults pass the cross-field rules


# ------------------------------------------------------------------ presets


def _presets(group: str) -> list[Path]:
    return sorted((CONF / group).glob("*.yaml"))


@pytest.mark.parametrize("group", ["strategy", "market"])
def test_every_preset_loads_validates_and_is_applied(group):
    presets = _presets(group)
    assert presets, f"no presets in conf/{group}"
    for path in presets:
        cfg = sim.load_config([f"{group}={path.stem}", "population.n_users=1000"])
        validate(cfg)
        yaml = OmegaConf.to_container(OmegaConf.load(path))
        yaml.pop("defaults", None)  # Hydra's defaults list (a preset built on another)
        section = getattr(cfg, group)
        assert section.name == path.stem, f"{path.name}: name is {section.name!r}"
        for key, value in leaves(yaml):
            got = get(section, key)
            assert got == value and type(got) in (type(value), float), (path.name, key, got, value)


def test_every_graph_preset_loads_and_validates(tmp_path):
    edges = tmp_path / "edges.txt"
    edges.write_text("0 1\n1 2\n")
    presets = _presets("graph")
    assert {p.stem for p in presets} >= {"scale_free", "small_world", "complete", "edge_list"}
    for path in presets:
        extra = [f"graph.path={edges}"] if path.stem == "edge_list" else []
        cfg = sim.load_config([f"graph={path.stem}", "population.n_users=1000", *extra])
        assert cfg.graph.kind == path.stem
