"""What a study compares: its question, the override that tells its arms apart, the baseline.

A study is declared in its Hydra experiment (``experiments/NAME.yaml``) as the arguments
of the :class:`~sim.experiments.callback.StudyCallback` under ``hydra.callbacks.study``, so
every run dir records it in ``.hydra/hydra.yaml`` and a report can be rebuilt from the saved
files alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# KPIs of summary.json (docs/metrics.md) a study can compare, in report order, with the
# direction that counts as better for the brand (+1 higher, -1 lower, 0 neither) and a format.
KPIS: dict[str, tuple[str, int, str]] = {
    # key: (label, better, format)
    "monthly_churn_rate": ("monthly churn rate", -1, "pct"),
    "churned_share": ("churned share of ever-members", -1, "pct"),
    "repurchase_rate": ("repurchase rate", +1, "pct"),
    "referral_share": ("referral share of new customers", +1, "pct"),
    "k_factor": ("K-factor", +1, "ratio"),
    "lead_conversion": ("lead conversion", +1, "pct"),
    "new_customers_referral": ("new customers by referral", +1, "count"),
    "new_customers_event": ("new customers from events", +1, "count"),
    "new_customers_store": ("new customers from stores", +1, "count"),
    "members_end": ("members at end", +1, "count"),
    "customers_end": ("customers at end", +1, "count"),
    "purchases": ("purchases", +1, "count"),
    "revenue": ("revenue (yuan)", +1, "money"),
    "fee_revenue": ("VIP fee revenue (yuan)", +1, "money"),
    "cost": ("cost (yuan)", -1, "money"),
    "gross_profit": ("gross profit (yuan)", +1, "money"),
    "roi": ("ROI", +1, "ratio"),
    "clv": ("CLV per customer (yuan)", +1, "money"),
    "nps": ("NPS", +1, "score"),
    "dead_group_share": ("dead groups per live group", -1, "ratio"),
    "monthly_churn_personal_wechat": ("monthly churn, personal WeChat", -1, "pct"),
    "monthly_churn_wecom": ("monthly churn, WeCom", -1, "pct"),
    "monthly_churn_official_account": ("monthly churn, official account", -1, "pct"),
    "banned_lost": ("members lost to account bans", -1, "count"),
    "shadow_recruits": ("recruits kept in stores' own groups", -1, "count"),
    "kocs_end": ("KOCs at end", +1, "count"),
    "vip_end": ("VIPs at end", +1, "count"),
    "vip_revenue_share": ("VIP share of revenue", 0, "pct"),
    "top20_revenue_share": ("top-20% revenue share", 0, "pct"),
    # decision-grade money (counterfactual runs): used automatically when summaries have them
    "incremental_revenue": ("incremental revenue (yuan)", +1, "money"),
    "incremental_gross_profit": ("incremental gross profit (yuan)", +1, "money"),
    "incremental_roi": ("incremental ROI", +1, "ratio"),
}

# Study kinds (docs/studies.md): ``compare`` sweeps arms x strata x seeds with Hydra's basic
# sweeper; the others are generated designs run by :mod:`sim.experiments.sweeper`.
KINDS = ("compare", "factorial", "uncertainty", "optimise")

# The KPI a recommendation is made on, in order of preference: the first one a run's
# summary has (incremental gross profit once counterfactual runs exist).
DECISION_KPIS = ("incremental_gross_profit", "gross_profit")

# Days at which KPIs are read from the daily series (capped at the run's length).
HORIZONS = (30, 90, 180, 365, 730)

# What a study compares unless its config lists ``kpis``: the headline KPIs.
HEADLINE = [
    "monthly_churn_rate", "churned_share", "repurchase_rate", "referral_share", "k_factor",
    "new_customers_referral", "new_customers_store", "members_end", "customers_end",
    "purchases", "revenue", "cost", "gross_profit", "roi", "clv", "nps", "top20_revenue_share",
]


@dataclass
class StudySpec:
    """A study: ``arm`` names the override key(s) whose values are the arms; differences are
    reported as (arm - ``baseline``) per stratum (every other swept key but ``seed``)."""

    name: str
    question: str = ""
    arm: str | list[str] = "strategy"
    baseline: str | None = None
    kpis: list[str] = field(default_factory=lambda: list(HEADLINE))
    kind: str = "compare"
    # the bundle compared with ``baseline`` (design kinds: both are strategy presets)
    challenger: str | None = None
    # decision KPI (null: the first of DECISION_KPIS the summaries have)
    kpi: str | None = None
    horizons: list[int] = field(default_factory=lambda: list(HORIZONS))
    # factorial: lever groups {name: [key prefixes]}; keys that differ between the two
    # presets and fall under no group form the group "other"; null: one group per section
    levers: dict[str, list[str]] | None = None
    # uncertainty: number of worlds, LHS seed, band factor around the value, key filters
    worlds: int = 20
    design_seed: int = 0
    band: float = 2.0
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    # optimise: two objectives [kpi, kpi] with directions from KPIS, trials, batch size,
    # an operating-cost budget in yuan (null: none), the search space {key: [lo, hi, step]}
    objectives: list[str] | None = None
    trials: int = 24
    batch: int = 8
    budget: float | None = None
    search: dict[str, list[float]] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"study {self.name}: kind={self.kind!r}; allowed: {', '.join(KINDS)}")
        if self.kind != "compare" and (self.baseline is None or self.challenger is None):
            raise ValueError(f"study {self.name}: a {self.kind} study needs `baseline` and "
                             "`challenger` (two strategy presets)")
        self.horizons = sorted(int(h) for h in self.horizons)
        self.arm_keys = [self.arm] if isinstance(self.arm, str) else list(self.arm)
        if self.baseline is not None:  # arm labels are strings: `baseline: false` means "False"
            self.baseline = str(self.baseline)
        self.kpis = list(self.kpis)
        unknown = [k for k in [*self.kpis, *(self.objectives or []), *([self.kpi] if self.kpi
                                                                        else [])]
                   if k not in KPIS]
        if unknown:
            raise ValueError(f"study {self.name}: unknown KPI(s) {', '.join(unknown)}; "
                             f"allowed: {', '.join(KPIS)}")

    @classmethod
    def from_dict(cls, d: dict) -> StudySpec:
        return cls(**{k: v for k, v in d.items() if not k.startswith("_") and v is not None})

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)

    def arm_label(self, values: dict[str, object]) -> str:
        """The arm's name: the value of a single arm key, else 'k1=v1,k2=v2'."""
        if len(self.arm_keys) == 1:
            return str(values[self.arm_keys[0]])
        return ",".join(f"{k}={values[k]}" for k in self.arm_keys)
