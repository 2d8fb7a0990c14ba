"""Generated study designs: the points a factorial, uncertainty or optimisation study runs.

A point is one way of configuring the model (a set of overrides on top of the study's
strata and seeds): a cell of the lever factorial, one arm in one plausible world, one trial
of the optimiser. Every point runs on every (stratum, seed) of the sweep, so points are
compared on common random numbers. The design is written to ``design.json`` in the sweep
dir; a run dir ``POINT/market=...,seed=...`` belongs to the point named by its first part.

Levers are read from the two strategy presets (``conf/strategy/NAME.yaml`` over the schema's
defaults): every key whose value differs between them, so a new lever key needs no change
here.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from sim.config.keys import flatten
from sim.experiments.study import StudySpec

DESIGN = "design.json"

# Assumptions never sampled as "plausible worlds", and why (docs/studies.md):
FIXED_ASSUMPTIONS = {
    "market.segments.": "segment shares must sum to 1 (a composition, not a rate)",
    "market.initial_": "the private domain's starting size is the scenario, not a belief",
    "strategy.membership.senior_points": "tier thresholds must stay ordered",
    "strategy.membership.premium_points": "tier thresholds must stay ordered",
}


@dataclass
class Point:
    id: str
    overrides: dict[str, Any]          # key -> value (``strategy`` -> preset name)
    info: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "overrides": self.overrides, "info": self.info}


# --------------------------------------------------------------------------- presets




def strategy_values(name: str) -> dict[str, Any]:
    """Every ``strategy.*`` key of preset ``name``: its YAML over the schema's defaults."""
    from sim.config import StrategyConfig
    from sim.paths import group_dir

    path = group_dir("strategy") / f"{name}.yaml"
    if not path.exists():
        raise ValueError(f"strategy preset {name!r} not found in {path.parent}")
    node = OmegaConf.load(path)
    if "defaults" in node:
        node.pop("defaults")
    merged = OmegaConf.merge(OmegaConf.structured(StrategyConfig), node)
    return flatten(OmegaConf.to_container(merged), "strategy.")


def differing_levers(a: str, b: str) -> dict[str, tuple[Any, Any]]:
    """Keys whose values differ between presets ``a`` and ``b``: {key: (a value, b value)}."""
    va, vb = strategy_values(a), strategy_values(b)
    return {k: (va[k], vb[k]) for k in va if k != "strategy.name" and va[k] != vb.get(k)}


def lever_groups(spec: StudySpec) -> dict[str, dict[str, tuple[Any, Any]]]:
    """The factorial's factors: {name: {key: (baseline value, challenger value)}}.

    With ``spec.levers`` ({name: [key prefixes]}) each differing key joins the first group a
    prefix of which it falls under; keys under none form ``other``. Without, one factor per
    strategy section (promotion, service, content, ...)."""
    diff = differing_levers(spec.baseline, spec.challenger)
    groups: dict[str, dict[str, tuple[Any, Any]]] = {}
    for key, vals in diff.items():
        name = None
        for g, prefixes in (spec.levers or {}).items():
            if any(key == p or key.startswith(p.rstrip(".") + ".") for p in prefixes):
                name = g
                break
        if name is None:
            name = "other" if spec.levers else key.split(".")[1]
        groups.setdefault(name, {})[key] = vals
    order = list(spec.levers or {}) + ["other"]
    return dict(sorted(groups.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order
                       else len(order)))


# --------------------------------------------------------------------------- factorial


def factorial(spec: StudySpec) -> list[Point]:
    """Every combination of the lever groups at the baseline's (0) or challenger's (1)
    values, on top of the baseline preset: 2^k cells; cell 0...0 is the baseline and cell
    1...1 the challenger (same values, the baseline's preset name)."""
    groups = lever_groups(spec)
    if not groups:
        raise ValueError(f"presets {spec.baseline} and {spec.challenger} differ on no lever")
    names = list(groups)
    points = []
    for bits in itertools.product((0, 1), repeat=len(names)):
        ov: dict[str, Any] = {"strategy": spec.baseline}
        for bit, g in zip(bits, names, strict=True):
            if bit:
                ov.update({k: v[1] for k, v in groups[g].items()})
        cell = "".join(map(str, bits))
        points.append(Point(f"cell_{cell}", ov, {"cell": cell,
                                                "on": [g for b, g in zip(bits, names,
                                                                         strict=True) if b]}))
    return points


# --------------------------------------------------------------------------- uncertainty


def uncertain_parameters(spec: StudySpec) -> list[dict[str, Any]]:
    """Parameters whose source is an assumption (sim.config.describe_parameters), floats
    only, minus the levers the two arms set and the FIXED_ASSUMPTIONS; ``spec.include``
    (prefixes) keeps only matching keys, ``spec.exclude`` drops matching keys."""
    from sim.config import describe_parameters

    levers = set(differing_levers(spec.baseline, spec.challenger))

    def match(key: str, prefixes: list[str]) -> bool:
        return any(key == p or key.startswith(p) for p in prefixes)

    out = []
    for row in describe_parameters():
        key, default = row["key"], row["default"]
        if not str(row["source"]).lower().startswith("assumption"):
            continue
        if isinstance(default, bool) or not isinstance(default, float):
            continue
        if key in levers or match(key, list(FIXED_ASSUMPTIONS)):
            continue
        if spec.include and not match(key, spec.include):
            continue
        if spec.exclude and match(key, spec.exclude):
            continue
        out.append(row)
    return out


def lhs(n: int, d: int, seed: int):
    """An n x d Latin hypercube in [0, 1) (scipy.stats.qmc)."""
    from scipy.stats import qmc

    return qmc.LatinHypercube(d=d, seed=seed).random(n)


def world_value(base: float, u: float, band: float, row: dict[str, Any]) -> float:
    """The value of a parameter in a world: ``base`` x band^(2u-1) (log-uniform between
    base/band and base x band), clipped to its declared range."""
    v = base * band ** (2 * u - 1)
    lo, hi = row.get("lo"), row.get("hi")
    if hi is not None:
        v = min(v, hi)
    if lo is not None:
        v = max(v, lo + (1e-9 if row.get("lo_open") else 0.0))
    return float(f"{v:.6g}")


def worlds(spec: StudySpec) -> tuple[list[Point], list[dict[str, Any]]]:
    """``spec.worlds`` LHS worlds x the two arms. A point's overrides hold the arm; its
    ``info`` the world's uniform draws per parameter (values are set per stratum by the
    sweeper, around the value the stratum's config has)."""
    params = uncertain_parameters(spec)
    u = lhs(spec.worlds, len(params), spec.design_seed)
    points = []
    for w in range(spec.worlds):
        draws = {p["key"]: float(u[w, j]) for j, p in enumerate(params)}
        for arm in (spec.baseline, spec.challenger):
            points.append(Point(f"w{w + 1:03d}_{arm}", {"strategy": arm},
                                {"world": w + 1, "arm": arm, "u": draws}))
    return points, params


# --------------------------------------------------------------------------- optimise


def search_space(spec: StudySpec) -> dict[str, tuple[float, float, float]]:
    """{key: (lo, hi, step)}: ``spec.search``, else every lever the presets set differently
    whose source is not an assumption (a price the brand does not choose), between the two
    presets' values, in 20 steps."""
    from sim.config import describe_parameters

    if spec.search:
        out = {}
        for k, v in spec.search.items():
            lo, hi = float(v[0]), float(v[1])
            out[k] = (lo, hi, float(v[2]) if len(v) > 2 else (hi - lo) / 20)
        return out
    sources = {r["key"]: str(r["source"]) for r in describe_parameters()}
    out = {}
    for k, (a, b) in differing_levers(spec.baseline, spec.challenger).items():
        if isinstance(a, bool) or not isinstance(a, (int, float)):
            continue
        if sources.get(k, "").lower().startswith("assumption"):
            continue
        lo, hi = float(min(a, b)), float(max(a, b))
        out[k] = (lo, hi, (hi - lo) / 20)
    if not out:
        raise ValueError(f"no numeric lever differs between {spec.baseline} and "
                         f"{spec.challenger}; give `search: {{key: [lo, hi]}}`")
    return out


def trial_id(settings: dict[str, float]) -> str:
    text = json.dumps(settings, sort_keys=True)
    return "t_" + hashlib.sha1(text.encode()).hexdigest()[:10]


def nice(x: float) -> float:
    return float(f"{x:.6g}") if math.isfinite(x) else x


# --------------------------------------------------------------------------- files


def write_design(sweep_dir: Path, spec: StudySpec, points: list[Point], **extra: Any) -> Path:
    from sim.data.io import write_atomic

    doc = {"kind": spec.kind, "study": spec.name, "spec": spec.as_dict(),
           "points": [p.as_dict() for p in points],
           **extra}
    return write_atomic(Path(sweep_dir) / DESIGN,
                        lambda p: p.write_text(json.dumps(doc, indent=1, default=str)))


def read_design(sweep_dir: Path) -> dict[str, Any] | None:
    path = Path(sweep_dir) / DESIGN
    if not path.exists():
        return None
    return json.loads(path.read_text())
