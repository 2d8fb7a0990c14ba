"""The dashboard's Mesa model: a baseline and an arm, each run on several paired seeds.

:class:`DashboardModel` holds, for each scenario (the ``baseline`` strategy preset and, when
comparing, the ``arm``), one :class:`sim.SiyuModel` per seed, and steps them all together.
The arm and the baseline share market, graph, population size and seeds, so on each seed
common random numbers make ``arm - baseline`` the effect of the strategy; over the seeds it
gets a paired 95% interval, as in the study reports (``sim.experiments``).

Parameters are keyword-only with defaults (Mesa's convention, so ``batch_run`` and notebooks
can build it). Presets are found by listing ``conf/<group>/``, so new markets and strategies
appear without code changes. Levers (strategy parameters the page offers as sliders) take
their range, unit and source from the parameter metadata (``sim.config.describe_parameters``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import mesa
import numpy as np

import sim
from sim.config import describe_parameters
from sim.config.keys import get_key
from sim.paths import group_options

NONE = "none"  # the "compare with" choice that shows the baseline only
SCENARIOS = ("baseline", "arm")

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


@lru_cache(maxsize=1)
def parameter_metadata() -> dict[str, dict[str, Any]]:
    """``describe_parameters`` of the default config, by dotted key."""
    return {row["key"]: row for row in describe_parameters(default_config())}


@dataclass(frozen=True)
class Lever:
    """A strategy parameter the dashboard offers as a slider.

    ``keys`` are candidate dotted config keys, newest schema first: the first one the config
    has is the one moved, so the dashboard follows renames in ``sim.config``. The slider's
    range is the parameter's declared range, cut to ``practical_max`` where that range is
    open-ended (e.g. yuan up to 1e6); its unit and source come from the parameter metadata.
    """

    keys: tuple[str, ...]
    step: float
    practical_max: float | None = None

    def key(self, cfg: sim.Config) -> str | None:
        for key in self.keys:
            if _get(cfg, key) is not None:
                return key
        return None

    def value(self, cfg: sim.Config) -> float | None:
        key = self.key(cfg)
        return None if key is None else float(_get(cfg, key))

    def meta(self) -> dict[str, Any]:
        """The metadata row of the key the current schema has (range, unit, source, doc)."""
        key = self.key(default_config())
        return parameter_metadata().get(key, {}) if key else {}

    @property
    def lo(self) -> float:
        lo = self.meta().get("lo")
        return 0.0 if lo is None else float(lo)

    @property
    def hi(self) -> float:
        hi = self.meta().get("hi")
        hi = float(hi) if hi is not None else (self.practical_max or 1.0)
        return min(hi, self.practical_max) if self.practical_max is not None else hi


def _get(cfg: sim.Config, key: str):
    obj = get_key(cfg, key, None)
    return obj if isinstance(obj, (int, float)) and not isinstance(obj, bool) else None


# keyword argument of DashboardModel -> lever; labels and one-line help: sim.i18n dash.lever.*
LEVERS: dict[str, Lever] = {
    "promo_per_week": Lever(("strategy.promotion.per_week",), 0.25),
    "promo_depth": Lever(("strategy.promotion.depth",), 0.05),
    "resolve_prob": Lever(("strategy.service.resolve_prob",), 0.05),
    "service_capacity": Lever(("strategy.service.capacity_per_1k",), 5.0, practical_max=200.0),
    "content_per_week": Lever(("strategy.content.per_week",), 0.5),
    "themed_days": Lever(("strategy.content.themed_days_per_week",), 0.5),
    "referral_reward": Lever(("strategy.referral.reward",), 10.0, practical_max=500.0),
    # a recommended friend's first step: registering (full model), else buying (first model)
    "referral_conversion": Lever(("market.funnel.register_prob", "strategy.referral.conversion"),
                                 0.05),
}


def available_levers() -> dict[str, Lever]:
    """The levers the current config schema has."""
    cfg = default_config()
    return {name: lever for name, lever in LEVERS.items() if lever.key(cfg) is not None}


def arm_exists(compare: str, apply_levers: bool) -> bool:
    return compare != NONE or bool(apply_levers)


class DashboardModel(mesa.Model):
    """A baseline strategy and (optionally) an arm, each on ``n_seeds`` paired seeds.

    * ``baseline``: the ``strategy`` preset, unchanged.
    * ``arm`` (when ``compare`` names a preset, or ``apply_levers`` is on): the ``compare``
      preset (``none``: the baseline's preset) with the lever values given when
      ``apply_levers`` is on (``None``: the preset's own value).

    Seeds ``seed, seed + 1, ..., seed + n_seeds - 1``; both scenarios run every seed.
    ``step()`` advances every model one day; ``running`` turns false after ``days`` days.
    ``snapshot()`` gives what the page draws (series and KPIs so far), under a lock, so a
    page may read while a play loop steps.
    """

    def __init__(
        self,
        *,
        market: str | None = None,
        strategy: str | None = None,
        compare: str = NONE,
        dealer: str | None = None,
        channel: str | None = None,
        graph: str | None = None,
        n_users: int = 30_000,
        n_seeds: int = 5,
        seed: int = 1,
        days: int = 730,
        apply_levers: bool = False,
        promo_per_week: float | None = None,
        promo_depth: float | None = None,
        resolve_prob: float | None = None,
        service_capacity: float | None = None,
        content_per_week: float | None = None,
        themed_days: float | None = None,
        referral_reward: float | None = None,
        referral_conversion: float | None = None,
    ):
        super().__init__(rng=int(seed))
        defaults = default_config()
        self.market = market or defaults.market.name
        self.strategy = strategy or defaults.strategy.name
        self.compare = compare or NONE
        self.graph_kind = graph or defaults.graph.kind
        self.n_users, self.days = int(n_users), int(days)
        self.seeds = [int(seed) + i for i in range(max(1, int(n_seeds)))]
        self.seed = self.seeds[0]
        common = [f"market={self.market}", f"population.n_users={self.n_users}",
                  f"days={self.days}", "output.figures=false", "output.progress=false"]
        for group, choice in (("graph", graph), ("dealer", dealer), ("channel", channel)):
            if choice:
                common.append(f"{group}={choice}")
        self.dealer = dealer or default_choice("dealer")
        self.channel = channel or default_choice("channel")
        values = {"promo_per_week": promo_per_week, "promo_depth": promo_depth,
                  "resolve_prob": resolve_prob, "service_capacity": service_capacity,
                  "content_per_week": content_per_week, "themed_days": themed_days,
                  "referral_reward": referral_reward, "referral_conversion": referral_conversion}
        # rounded: slider arithmetic gives values like 0.15000000000000002
        self.levers = {k: round(float(v), 6) for k, v in values.items()
                       if v is not None and apply_levers}

        self.arm_strategy = None
        cfg_base = load_config(common + [f"strategy={self.strategy}"])
        configs = {"baseline": cfg_base}
        self.lever_values: dict[str, float] = {}
        self.lever_changes: dict[str, tuple[float, float]] = {}
        if arm_exists(self.compare, apply_levers):
            self.arm_strategy = self.compare if self.compare != NONE else self.strategy
            cfg_preset = load_config(common + [f"strategy={self.arm_strategy}"])
            overrides = [f"{LEVERS[k].key(cfg_preset)}={v!r}" for k, v in self.levers.items()
                         if LEVERS[k].key(cfg_preset) is not None]
            cfg_arm = load_config(common + [f"strategy={self.arm_strategy}"] + overrides) \
                if overrides else cfg_preset
            # the arm's value of each lever, and the levers moved away from its preset
            self.lever_values = {k: lever.value(cfg_arm) for k, lever in LEVERS.items()
                                 if lever.key(cfg_arm) is not None}
            self.lever_changes = {k: (LEVERS[k].value(cfg_preset), v)
                                  for k, v in self.lever_values.items()
                                  if abs(v - LEVERS[k].value(cfg_preset)) > 1e-9}
            configs["arm"] = cfg_arm
        self.configs = configs
        # one model per scenario and seed; the graph is built once per seed and shared
        self.scenarios: dict[str, list[sim.SiyuModel]] = {k: [] for k in configs}
        for s in self.seeds:
            first = None
            for name, cfg in configs.items():
                cfg_s = _with_seed(cfg, s)
                model = sim.SiyuModel(cfg_s) if first is None else \
                    sim.SiyuModel(cfg_s, graph=first.graph)
                first = first or model
                self.scenarios[name].append(model)
        self.day = 0
        self._lock = threading.RLock()
        self._snapshot: dict | None = None

    @property
    def names(self) -> list[str]:
        """Scenario keys in display order: ``baseline`` then ``arm`` (when comparing)."""
        return list(self.scenarios)

    def strategy_of(self, scenario: str) -> str:
        return self.strategy if scenario == "baseline" else str(self.arm_strategy)

    def step(self) -> None:
        with self._lock:
            for models in self.scenarios.values():
                for model in models:
                    model.step()
            self.day += 1
            self._snapshot = None
            self.running = self.day < self.days

    def run_to_end(self, stop=lambda: False) -> None:
        """Step until the horizon (or until ``stop()`` is true)."""
        while self.running and not stop():
            self.step()

    def snapshot(self) -> dict:
        """Series and summaries so far, per scenario and seed (cached per day).

        ``{"day", "series": {scenario: [{column: array}, ...]}, "summary": {scenario: [dict,
        ...]}}``; empty lists at day 0. Arrays are copies, safe to read while the model steps.
        """
        with self._lock:
            if self._snapshot is None or self._snapshot["day"] != self.day:
                series = {k: [m.series() if self.day else {} for m in ms]
                          for k, ms in self.scenarios.items()}
                summary = {k: [_summary(m) if self.day else {} for m in ms]
                           for k, ms in self.scenarios.items()}
                self._snapshot = {"day": self.day, "series": series, "summary": summary}
            return self._snapshot


def _with_seed(cfg: sim.Config, seed: int) -> sim.Config:
    import dataclasses

    return dataclasses.replace(cfg, seed=int(seed))


@cache
def default_choice(group: str) -> str:
    """The preset ``conf/config.yaml``'s defaults list picks for ``group`` ("" if none)."""
    import yaml

    from sim.paths import CONF_DIR

    root = yaml.safe_load((CONF_DIR / "config.yaml").read_text()) or {}
    for entry in root.get("defaults", []):
        if isinstance(entry, dict) and group in entry and isinstance(entry[group], str):
            return entry[group]
    return ""


def _summary(model: sim.SiyuModel) -> dict[str, Any]:
    out = dict(model.summary())
    out["n_churned"] = float(model.series()["n_churned"][-1])
    return out


def mean_band(values: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and range (min, max) over seeds of equally long series."""
    stack = np.vstack([np.asarray(v, dtype=float) for v in values])
    return stack.mean(0), stack.min(0), stack.max(0)
