"""The dashboard's Mesa model: one scenario, or two strategies side by side on one seed.

:class:`DashboardModel` holds one :class:`sim.SiyuModel` per scenario, built from the same
market, graph, population size and seed (so common random numbers make the difference
between the two the effect of the strategy), and steps them together. Its parameters are
keyword-only with defaults, as Mesa's SolaraViz ``model_params`` need. Presets are found by
listing ``conf/<group>/`` so new markets and strategies appear without code changes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import mesa

import sim
from sim.paths import group_options

NONE = "none"  # the "compare with" choice that shows one scenario only

# Hydra's global state is not thread-safe and the Solara server renders in threads.
_CONFIG_LOCK = threading.Lock()


def load_config(overrides: list[str]) -> sim.Config:
    """``sim.load_config`` under a lock (the dashboard builds models from server threads)."""
    with _CONFIG_LOCK:
        return sim.load_config(list(overrides))


@cache
def presets(group: str) -> tuple[str, ...]:
    """Preset names of a config group (``conf/<group>/*.yaml``) that compose on their own.

    A preset that needs more input (e.g. ``graph=edge_list`` needs a file) is left out.
    """
    usable = []
    for name in group_options(group):
        try:
            load_config([f"{group}={name}", "population.n_users=100"])
        except Exception:  # noqa: BLE001 - a preset that cannot run alone is not offered
            continue
        usable.append(name)
    return tuple(usable)


@lru_cache(maxsize=1)
def default_config() -> sim.Config:
    """The root config's defaults (``conf/config.yaml``): default presets and lever values."""
    return load_config([])


@dataclass(frozen=True)
class Lever:
    """A strategy parameter the dashboard exposes as a slider.

    ``keys`` are candidate dotted config keys, newest schema first: the first one the
    config has is the one moved, so the dashboard follows renames in ``sim.config``.
    """

    keys: tuple[str, ...]
    label: str
    short: str  # for captions
    lo: float
    hi: float
    step: float

    def key(self, cfg: sim.Config) -> str | None:
        for key in self.keys:
            if _get(cfg, key) is not None:
                return key
        return None

    def value(self, cfg: sim.Config) -> float | None:
        key = self.key(cfg)
        return None if key is None else float(_get(cfg, key))


def _get(cfg: sim.Config, key: str):
    obj = cfg
    for part in key.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj if isinstance(obj, (int, float)) and not isinstance(obj, bool) else None


# keyword argument of DashboardModel -> lever (ranges within sim.config's allowed ranges)
LEVERS: dict[str, Lever] = {
    "promo_per_week": Lever(("strategy.promotion.per_week",), "Promotions per week",
                            "promotions/week", 0.0, 7.0, 0.25),
    "promo_depth": Lever(("strategy.promotion.depth",), "Discount depth (share of price)",
                         "discount depth", 0.0, 0.9, 0.05),
    "resolve_prob": Lever(("strategy.service.resolve_prob",), "Service resolve probability",
                          "resolve prob.", 0.0, 1.0, 0.05),
    "content_per_week": Lever(("strategy.content.per_week",), "Content posts per week",
                              "content/week", 0.0, 14.0, 0.5),
    # a recommended friend's first step: registering (full model), else buying (first model)
    "referral_conversion": Lever(("market.funnel.register_prob", "strategy.referral.conversion"),
                                 "Referral conversion (friend registers)", "referral conversion",
                                 0.0, 1.0, 0.05),
}


def available_levers() -> dict[str, Lever]:
    """The levers the current config schema has."""
    cfg = default_config()
    return {name: lever for name, lever in LEVERS.items() if lever.key(cfg) is not None}


class DashboardModel(mesa.Model):
    """One or two :class:`sim.SiyuModel` scenarios on the same seed, stepped together.

    Scenario A runs ``strategy`` with the lever values given (``None``: the preset's value;
    all ignored when ``apply_levers`` is false); scenario B, when ``compare`` names a strategy
    preset, runs that preset unchanged. ``step()`` advances both by one day; ``running``
    turns false after ``days`` days.
    """

    def __init__(
        self,
        *,
        market: str | None = None,
        strategy: str | None = None,
        compare: str = NONE,
        graph: str | None = None,
        n_users: int = 1000,
        seed: int = 1,
        days: int = 730,
        apply_levers: bool = True,
        promo_per_week: float | None = None,
        promo_depth: float | None = None,
        resolve_prob: float | None = None,
        content_per_week: float | None = None,
        referral_conversion: float | None = None,
    ):
        super().__init__(rng=int(seed))
        defaults = default_config()
        self.market = market or defaults.market.name
        self.strategy = strategy or defaults.strategy.name
        self.compare = compare or NONE
        self.graph_kind = graph or defaults.graph.kind
        self.n_users, self.seed, self.days = int(n_users), int(seed), int(days)
        common = [f"market={self.market}", f"population.n_users={self.n_users}",
                  f"seed={self.seed}", f"days={self.days}",
                  "output.figures=false", "output.progress=false"]
        if graph:
            common.append(f"graph={graph}")
        values = {"promo_per_week": promo_per_week, "promo_depth": promo_depth,
                  "resolve_prob": resolve_prob, "content_per_week": content_per_week,
                  "referral_conversion": referral_conversion}
        # rounded: slider arithmetic gives values like 0.15000000000000002
        self.levers = {k: round(float(v), 6) for k, v in values.items() if v is not None} \
            if apply_levers else {}
        cfg_preset = load_config(common + [f"strategy={self.strategy}"])
        lever_overrides = [f"{LEVERS[k].key(cfg_preset)}={v!r}" for k, v in self.levers.items()
                           if LEVERS[k].key(cfg_preset) is not None]
        cfg_a = load_config(common + [f"strategy={self.strategy}"] + lever_overrides) \
            if lever_overrides else cfg_preset
        # A's value of each lever, and the levers moved away from the preset: (preset, A)
        self.lever_values = {k: lever.value(cfg_a) for k, lever in LEVERS.items()
                             if lever.key(cfg_a) is not None}
        self.lever_changes = {k: (LEVERS[k].value(cfg_preset), v)
                              for k, v in self.lever_values.items()
                              if abs(v - LEVERS[k].value(cfg_preset)) > 1e-9}
        label_a = f"A: {self.strategy}" + (" + levers" if self.lever_changes else "")
        self.scenarios: dict[str, sim.SiyuModel] = {label_a: sim.SiyuModel(cfg_a)}
        if self.compare != NONE:
            cfg_b = load_config(common + [f"strategy={self.compare}"])
            self.scenarios[f"B: {self.compare}"] = sim.SiyuModel(cfg_b)
        self.day = 0

    @property
    def labels(self) -> list[str]:
        return list(self.scenarios)

    def step(self) -> None:
        for model in self.scenarios.values():
            model.step()
        self.day += 1
        self.running = self.day < self.days
