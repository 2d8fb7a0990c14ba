"""Shared test helpers: compose a config the way the CLI does, build and run a model."""

from __future__ import annotations

import copy
import dataclasses
import functools

import pytest

import sim
from sim.config import validate
from sim.paths import CONF_DIR

CONFIG_GROUPS = frozenset(p.name for p in CONF_DIR.iterdir() if p.is_dir())


def load(*overrides: str) -> sim.Config:
    """The validated config ``python -m sim OVERRIDES...`` would run.

    Hydra composition costs ~0.2 s, so it runs once per distinct choice of config groups
    (``strategy=...``, ``market=...``, ...); plain ``key=value`` overrides are then set on a
    copy of that config and the whole is validated, as Hydra would apply them after
    composing (tests/test_mechanisms.py checks this gives the same Config as the CLI path).
    """
    groups = tuple(o for o in overrides if _is_group_override(o))
    cfg = copy.deepcopy(_composed(groups))
    for o in overrides:
        if not _is_group_override(o):
            key, _, value = o.partition("=")
            _set(cfg, key, value)
    validate(cfg)
    return cfg


def load_with_hydra(*overrides: str) -> sim.Config:
    """The CLI's own path (``sim.load_config``) for every override."""
    return sim.load_config(list(overrides))


@functools.cache
def _composed(groups: tuple[str, ...]) -> sim.Config:
    return sim.load_config(list(groups))


def _is_group_override(o: str) -> bool:
    key = o.partition("=")[0]
    return "." not in key and (key in CONFIG_GROUPS or key[:1] in "+~")


def _set(cfg, key: str, text: str) -> None:
    *path, name = key.split(".")
    obj = cfg
    for part in path:
        obj = getattr(obj, part)
    fields = {f.name for f in dataclasses.fields(obj)}
    if name not in fields:
        raise KeyError(f"{key}: unknown key")
    old = getattr(obj, name)
    if isinstance(old, bool):
        if text.lower() not in ("true", "false"):
            raise ValueError(f"{key}={text}: not a bool")
        value = text.lower() == "true"
    elif isinstance(old, int):
        value = int(text)
    elif isinstance(old, float):
        value = float(text)
    else:
        value = None if text == "null" else text
    setattr(obj, name, value)


def build_and_run(cfg: sim.Config, days: int | None = None) -> sim.SiyuModel:
    """Build ``sim.SiyuModel(cfg)``, run ``days`` (default: ``cfg.days``) and return it."""
    model = sim.SiyuModel(cfg)
    model.run(days)
    return model


@pytest.fixture(scope="session")
def make_config():
    """``make_config("strategy=promotion_heavy", "days=100")`` -> a validated ``sim.Config``."""
    return load


@pytest.fixture(scope="session")
def run_model():
    """``run_model(cfg)`` -> the ``sim.SiyuModel`` after running ``cfg.days`` days."""
    return build_and_run
