"""Calibration problems: which parameters are free, which figures they are fitted to.

A :class:`Problem` names a market preset, the scenarios (arms) each figure was observed
under, 2-4 free parameters with bounds, and the target figures with the tolerance that
scales each one's error. The four shipped problems (``PROBLEMS``) fit the presets to the
case figures in DOMAIN.md and LITERATURE.md; docs/calibration.md lists them with how each
figure is measured in the model. A problem can also be read from a YAML file
(:meth:`Problem.from_yaml`) with the same fields.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


class CalibrationError(ValueError):
    """A malformed problem, or a study that belongs to another problem. One line."""


@dataclass(frozen=True)
class Param:
    """A free parameter: a dotted config key and its search bounds."""

    key: str                 # e.g. "strategy.referral.per_year"
    low: float
    high: float
    log: bool = False        # search on a log scale
    why: str = ""            # what it stands for, for the report


@dataclass(frozen=True)
class Arm:
    """A scenario a figure was observed under: Hydra overrides on top of the problem's market."""

    name: str
    overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class Target:
    """A figure to reproduce: ``measure`` of arm ``arm`` should be ``value``.

    The objective adds ``weight x ((simulated mean over seeds - value) / tolerance)^2``,
    so ``tolerance`` is the error that costs as much as one unit: the half-width of the
    range the source gives (or of what we accept).
    """

    name: str
    arm: str
    measure: str             # a summary KPI (docs/metrics.md) or a derived measure (MEASURES)
    value: float
    tolerance: float
    source: str = ""
    how: str = ""            # how it is measured in the model
    weight: float = 1.0


def _ratio(series: dict[str, np.ndarray], num: str, den: str) -> float:
    d = float(np.sum(series[den]))
    return float(np.sum(series[num])) / d if d else float("nan")


# measures that are not a summary KPI: f(summary, series) -> float
MEASURES: dict[str, Callable[[dict, dict], float]] = {
    # registration -> trial (test drive): trials / registrations (leads) over the run
    "trial_rate": lambda s, se: _ratio(se, "new_trials", "new_leads"),
    # repeat purchases / all private-domain purchases
    "repeat_purchase_share": lambda s, se: _ratio(se, "new_repeat_purchases", "new_purchases"),
}


def measure(name: str, summary: dict[str, Any], series: dict[str, np.ndarray]) -> float:
    """The value of measure ``name`` for one run."""
    if name in MEASURES:
        return float(MEASURES[name](summary, series))
    if name not in summary:
        raise CalibrationError(f"measure {name!r} is neither a summary KPI nor one of "
                               f"{', '.join(MEASURES)}")
    v = summary[name]
    return float("nan") if v is None else float(v)


@dataclass(frozen=True)
class Problem:
    name: str                         # problem / preset name: writes <name>_calibrated
    market: str                       # the market preset it starts from (conf/market/)
    title: str
    params: tuple[Param, ...]
    arms: tuple[Arm, ...]
    targets: tuple[Target, ...]
    n_users: int = 20_000
    days: int = 730
    seeds: tuple[int, ...] = (1, 2)              # common random numbers: every trial uses them
    check_seeds: tuple[int, ...] = (101, 102, 103, 104, 105)  # fresh seeds for the final check
    trials: int = 40
    common: tuple[str, ...] = ()      # extra overrides for every arm
    notes: str = ""

    def __post_init__(self) -> None:
        self.check()

    # ------------------------------------------------------------------ checks

    def check(self) -> None:
        if not self.params:
            raise CalibrationError(f"problem {self.name}: no free parameters")
        if not self.targets:
            raise CalibrationError(f"problem {self.name}: no targets")
        keys = [p.key for p in self.params]
        if len(set(keys)) != len(keys):
            raise CalibrationError(f"problem {self.name}: a parameter is listed twice")
        from sim.cli import check_key

        for p in self.params:
            check_key(p.key)
            if not p.low < p.high:
                raise CalibrationError(f"problem {self.name}: {p.key} bounds {p.low}..{p.high}: "
                                       "need low < high")
            if p.log and p.low <= 0:
                raise CalibrationError(f"problem {self.name}: {p.key}: log scale needs low > 0")
        arms = {a.name for a in self.arms}
        for t in self.targets:
            if t.arm not in arms:
                raise CalibrationError(f"problem {self.name}: target {t.name!r} names arm "
                                       f"{t.arm!r}; arms: {', '.join(sorted(arms))}")
            if not t.tolerance > 0:
                raise CalibrationError(f"problem {self.name}: target {t.name!r}: tolerance "
                                       "must be > 0")
        if not self.seeds:
            raise CalibrationError(f"problem {self.name}: no seeds")

    # ------------------------------------------------------------------ derived

    def arm(self, name: str) -> Arm:
        return next(a for a in self.arms if a.name == name)

    def overrides(self, arm: Arm, seed: int) -> list[str]:
        """Hydra overrides of one run of ``arm`` (before the free parameters)."""
        return [f"market={self.market}", *self.common, *arm.overrides,
                f"population.n_users={self.n_users}", f"days={self.days}", f"seed={seed}",
                "output.progress=false", "output.figures=false"]

    def replace(self, **changes: Any) -> Problem:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def fingerprint(self) -> str:
        """Identifies what a study's trials mean: everything but the trial budget and notes."""
        d = self.to_dict()
        for k in ("trials", "check_seeds", "notes", "title"):
            d.pop(k)
        for t in d["targets"]:
            t.pop("source"), t.pop("how")
        for p in d["params"]:
            p.pop("why")
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Problem:
        d = dict(d)
        try:
            d["params"] = tuple(Param(**p) for p in d.get("params", ()))
            d["arms"] = tuple(Arm(a["name"], tuple(a.get("overrides", ()))) for a in d.get("arms", ()))
            d["targets"] = tuple(Target(**t) for t in d.get("targets", ()))
            for k in ("seeds", "check_seeds", "common"):
                if k in d:
                    d[k] = tuple(d[k])
            return cls(**d)
        except TypeError as exc:
            raise CalibrationError(f"malformed calibration problem: {exc}") from None

    @classmethod
    def from_yaml(cls, path: str | Path) -> Problem:
        from omegaconf import OmegaConf

        d = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
        if not isinstance(d, dict):
            raise CalibrationError(f"{path}: not a mapping")
        return cls.from_dict(d)


# --------------------------------------------------------------------------- shipped problems

_CHURN_HOW = ("1 - (1 - d)^30, d = churn events / member-days over the run, for members of "
              "that channel (summary `monthly_churn_{}`)")

PHONE = Problem(
    name="phone", market="phone",
    title="Phone (Honor, seed 000): service-led groups on personal WeChat",
    params=(
        Param("channels.personal_wechat.monthly_churn", 0.03, 0.15,
              why="base friend churn of personal WeChat before satisfaction and group effects"),
        Param("market.spend_sigma", 0.5, 1.6,
              why="spread of per-user spend: how concentrated revenue is"),
    ),
    arms=(Arm("service_led", ("strategy=service_led",)),),
    targets=(
        Target("member churn, personal WeChat", "service_led", "monthly_churn_personal_wechat",
               0.055, 0.005, source="seed 002 / DOMAIN.md: personal WeChat friend churn 5-6%",
               how=_CHURN_HOW.format("personal_wechat")),
        Target("top-20% revenue share", "service_led", "top20_revenue_share", 0.65, 0.05,
               source="LITERATURE #32: non-CPG 0.67, Ehrenberg-Bass ~0.6 (range 0.6-0.7)",
               how="share of the run's revenue from the top 20% of users with positive revenue "
                   "(summary `top20_revenue_share`)"),
    ),
    trials=30,
)

CAR = Problem(
    name="car", market="car",
    title="Car (NIO, Zeekr; seed 001): community + KOC program vs a traditional carmaker",
    params=(
        Param("strategy.referral.per_year", 0.1, 2.0, log=True,
              why="recommendations per satisfied customer-year (word of mouth at baseline)"),
        Param("groups.referral_lift", 0.0, 5.0,
              why="how much an active community multiplies referrals"),
        Param("market.funnel.trial_prob", 0.15, 0.45, why="registration -> test drive"),
        Param("market.funnel.purchase_prob", 0.5, 1.0, why="test drive -> purchase"),
    ),
    arms=(
        Arm("community", ("strategy=koc_program", "dealer=co_build")),
        Arm("traditional", ("strategy=promotion_heavy", "dealer=store_run")),
    ),
    targets=(
        Target("referral share, community + KOC (NIO)", "community", "referral_share", 0.55, 0.05,
               source="seed 001: 55% of NIO's monthly sales from referrals",
               how="(new customers referred by a customer + brought to an event by one) / all "
                   "new customers (summary `referral_share`)"),
        Target("referral share, traditional carmaker", "traditional", "referral_share", 0.09, 0.02,
               source="seed 001: 8-10% at traditional carmakers",
               how="as above, under promotion-heavy groups run by the stores"),
        Target("registration -> test drive (Zeekr)", "community", "trial_rate", 0.27, 0.02,
               source="seed 001: Zeekr referral registration -> test drive 27%",
               how="test drives / registrations (leads from referrals and events) over the run"),
        Target("registration -> purchase (Zeekr)", "community", "lead_conversion", 0.20, 0.02,
               source="seed 001: Zeekr referral registration -> purchase 20%",
               how="leads who bought within the run / leads (summary `lead_conversion`; leads "
                   "registered in the last weeks are censored)"),
    ),
    seeds=(1, 2, 3, 4),   # few leads per run: the funnel rates are noisy, average more seeds
    trials=40,
)

FRESH_FOOD = Problem(
    name="fresh_food", market="fresh_food",
    title="Fresh food (Xiaoniu Kaixi, seed 002): WeCom for first orders, personal WeChat for "
          "repeat customers",
    params=(
        Param("channels.wecom.monthly_churn", 0.15, 0.7, why="base WeCom friend churn"),
        Param("channels.personal_wechat.monthly_churn", 0.02, 0.4,
              why="base personal WeChat friend churn"),
        Param("market.need_cycle_days", 7.0, 60.0, log=True,
              why="mean days between restocks (the preset's 'monthly' is an assumption)"),
    ),
    arms=(Arm("split", ("strategy=service_led", "channel=wecom_then_personal")),),
    targets=(
        Target("WeCom friend churn", "split", "monthly_churn_wecom", 0.35, 0.05,
               source="seed 002: WeCom friend churn 30-40%", how=_CHURN_HOW.format("wecom")),
        Target("personal WeChat friend churn", "split", "monthly_churn_personal_wechat", 0.055,
               0.005, source="seed 002: personal WeChat friend churn 5-6%",
               how=_CHURN_HOW.format("personal_wechat")),
        Target("repurchase rate", "split", "repurchase_rate", 0.80, 0.03,
               source="seed 002: repurchase rate 80%",
               how="ever-members who are customers and bought the brand again in the run / "
                   "ever-member customers (summary `repurchase_rate`)"),
    ),
    trials=60,            # WeCom churn and repurchase pull against each other: a longer search
)

RESTAURANT = Problem(
    name="restaurant", market="restaurant",
    title="Restaurant (Xibei, DOMAIN.md): paid VIP at 299 yuan a year",
    params=(
        Param("strategy.membership.vip_uptake_per_year", 0.05, 3.0, log=True,
              why="VIP upgrades per eligible member-year"),
        Param("market.spend_sigma", 0.3, 1.5, why="spread of per-user spend"),
    ),
    arms=(Arm("vip", ("strategy=membership_vip",)),),
    targets=(
        Target("VIP revenue share", "vip", "vip_revenue_share", 0.40, 0.03,
               source="DOMAIN.md: Xibei's ~2M paying super users gave 40%+ of dine-in revenue",
               how="share of the run's revenue from users who were VIP at some time (summary "
                   "`vip_revenue_share`)"),
        Target("top-20% revenue share", "vip", "top20_revenue_share", 0.68, 0.05,
               source="LITERATURE #32: non-subscription firms 0.68",
               how="share of the run's revenue from the top 20% of users with positive revenue "
                   "(summary `top20_revenue_share`)"),
    ),
    trials=30,
)

PROBLEMS: dict[str, Problem] = {p.name: p for p in (PHONE, CAR, FRESH_FOOD, RESTAURANT)}


def get_problem(name: str) -> Problem:
    if name not in PROBLEMS:
        raise CalibrationError(f"unknown calibration preset {name!r}; allowed: "
                               f"{', '.join(PROBLEMS)} (or --spec FILE.yaml)")
    return PROBLEMS[name]


def asdict_clean(obj: Any) -> Any:
    """Dataclasses and tuples to JSON-friendly structures."""
    if dataclasses.is_dataclass(obj):
        return {f.name: asdict_clean(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [asdict_clean(x) for x in obj]
    return obj


__all__ = ["Arm", "CalibrationError", "MEASURES", "PROBLEMS", "Param", "Problem", "Target",
           "get_problem", "measure"]
