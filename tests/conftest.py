"""Shared test helpers: compose a config the way the CLI does, build and run a model."""

from __future__ import annotations

import pytest

import sim


def load(*overrides: str) -> sim.Config:
    """The validated config ``python -m sim OVERRIDES...`` would run."""
    return sim.load_config(list(overrides))


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
