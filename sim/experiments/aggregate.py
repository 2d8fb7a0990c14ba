"""Collect a sweep's run dirs into one table: a row per finished run.

A run dir is a directory with a ``.hydra/`` folder (Hydra writes it when the job starts). It
is a result only when it holds ``summary.json`` (written last, atomically, by the run); dirs
without one are runs that were killed or are still going, and are listed as ignored, never
read. Each row has the study, the arm, the stratum, the seed, the run's parameters (its
Hydra overrides, one column per key), the KPIs of ``summary.json`` and the code version.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from sim.experiments.design import DESIGN, read_design
from sim.experiments.study import StudySpec

log = logging.getLogger(__name__)

RUNS_TABLE = "runs.parquet"
SKIP_OVERRIDES = {"experiment"}  # the study column says it
IDENT = ("n_users", "population_scale", "real_users", "days", "seed", "market", "strategy")


@dataclass
class Sweep:
    """A sweep dir read back from its files."""

    root: Path
    runs: Any                      # pandas.DataFrame, one row per finished run
    spec: StudySpec | None
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (run dir, why)
    strata_keys: list[str] = field(default_factory=list)
    command: str = ""
    design: dict[str, Any] | None = None  # design.json of a generated study kind

    @property
    def arms(self) -> list[str]:
        """Arm labels, the baseline first, the others in the order they were swept."""
        arms = list(dict.fromkeys(self.runs["arm"]))
        base = self.spec.baseline if self.spec else None
        if base in arms:
            arms.remove(base)
            arms.insert(0, base)
        return arms

    @property
    def baseline(self) -> str:
        return self.arms[0]


def _parse_overrides(lines: list[str]) -> dict[str, Any]:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    out: dict[str, Any] = {}
    for ov in OverridesParser.create().parse_overrides(list(lines)):
        key = ov.key_or_group
        if key in SKIP_OVERRIDES or key.startswith("hydra"):
            continue
        value = ov.value()
        out[key] = value if isinstance(value, (int, float, bool, str)) or value is None \
            else str(value)
    return out


def _lookup(key: str, overrides: dict, choices: dict, config: dict) -> Any:
    """A run's value of ``key``: its override, else its config group choice, else its config
    (``.hydra/config.yaml`` as read by :func:`_load_yaml`)."""
    if key in overrides:
        return overrides[key]
    if key in choices:
        return choices[key]
    node: Any = config
    for part in key.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    if isinstance(node, str) and ("${" in node or node == "???"):  # OmegaConf's meaning
        return OmegaConf.select(OmegaConf.create(config), key, default=None,
                                throw_on_missing=False)
    return node


@functools.cache
def _yaml_loader() -> Any:
    """OmegaConf's YAML rules (its float syntax, no timestamps, paths) on libyaml's parser
    when PyYAML has it: a run's three ``.hydra`` files read as plain containers, ~10x faster
    than ``OmegaConf.load`` (which a report of hundreds of runs spent seconds in)."""
    import yaml
    from omegaconf._utils import get_yaml_loader

    ref = get_yaml_loader()
    loader = type("RunFilesLoader", (getattr(yaml, "CSafeLoader", yaml.SafeLoader),), {})
    loader.yaml_implicit_resolvers = {k: list(v) for k, v in ref.yaml_implicit_resolvers.items()}
    loader.yaml_constructors = dict(ref.yaml_constructors)
    return loader


def _load_yaml(path: Path) -> Any:
    import yaml

    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=_yaml_loader())  # noqa: S506 - OmegaConf's safe rules


def _read_run(run_dir: Path) -> tuple[dict[str, Any] | None, str]:
    """(row fields, '') for a finished run, else (None, why it is not a result)."""
    hydra_dir = run_dir / ".hydra"
    summary_path = run_dir / "summary.json"
    if not summary_path.exists():
        return None, "no summary.json (killed, failed or still running)"
    try:
        summary = json.loads(summary_path.read_text())
        hydra = _load_yaml(hydra_dir / "hydra.yaml")["hydra"]
        overrides = [str(o) for o in _load_yaml(hydra_dir / "overrides.yaml") or []]
        config = _load_yaml(hydra_dir / "config.yaml")
        choices = dict(hydra["runtime"]["choices"] or {})
        if not isinstance(config, dict):
            raise ValueError(".hydra/config.yaml is not a mapping")
    except Exception as err:  # noqa: BLE001 - any unreadable file makes it not a result
        return None, f"unreadable files: {(str(err).splitlines() or [type(err).__name__])[0]}"
    if summary.get("seed") != config.get("seed"):
        return None, "summary.json is from another config than .hydra/config.yaml"
    callbacks = hydra.get("callbacks")
    study = callbacks.get("study") if callbacks else None
    return {
        "spec": study,
        "experiment": choices.get("experiment"),
        "overrides": overrides,
        "params": _parse_overrides(overrides),
        "choices": choices,
        "config": config,
        "summary": summary,
    }, ""


def find_run_dirs(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.rglob(".hydra") if p.is_dir())


def load_sweep(root: str | Path) -> Sweep:
    """Read every run dir under ``root``; unfinished ones are listed in ``ignored``."""
    import pandas as pd

    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such sweep dir")
    runs, ignored = [], []
    for run_dir in find_run_dirs(root):
        got, why = _read_run(run_dir)
        if got is None:
            ignored.append((str(run_dir.relative_to(root)), why))
        else:
            got["run_dir"] = str(run_dir.relative_to(root))
            runs.append(got)
    for run_dir, why in ignored:
        log.warning("ignored %s: %s", run_dir, why)
    if not runs:
        raise ValueError(f"{root}: no finished runs (summary.json) found"
                         + (f"; {len(ignored)} unfinished run dir(s) ignored" if ignored else ""))

    specs = {json.dumps(r["spec"], sort_keys=True) for r in runs if r["spec"]}
    if len(specs) > 1:
        names = sorted({(r["spec"] or {}).get("name", "?") for r in runs})
        raise ValueError(f"{root}: runs of several studies ({', '.join(names)}); "
                         "a sweep dir holds one study")
    spec = StudySpec.from_dict(json.loads(specs.pop())) if specs else None
    arm_keys = spec.arm_keys if spec else ["strategy"]
    design = read_design(root) if spec is not None and spec.kind != "compare" else None
    design_keys: set[str] = set()
    if design is not None:  # a generated design: the arm is the point (run dir's first part)
        points = {p["id"]: p for p in design["points"]}
        kept = []
        for r in runs:
            point = Path(r["run_dir"]).parts[0]
            if point not in points:
                ignored.append((r["run_dir"], f"not a point of {DESIGN}"))
                continue
            r["point"] = point
            kept.append(r)
        runs = kept
        design_keys = {"strategy", *(k for p in points.values() for k in p["overrides"]),
                       *(row["key"] for row in design.get("parameters", []))}
        if not runs:
            raise ValueError(f"{root}: no finished run of the design in {DESIGN}")

    # strata: every parameter that varies across runs, except the arm and the seed
    varying = []
    for key in dict.fromkeys(k for r in runs for k in r["params"]):
        values = {json.dumps(r["params"].get(key)) for r in runs}
        if len(values) > 1 and key not in arm_keys and key != "seed" \
                and key not in design_keys:
            varying.append(key)

    rows = []
    for r in runs:
        s = r["summary"]
        values = {k: _lookup(k, r["params"], r["choices"], r["config"])
                  for k in [*arm_keys, *varying]}
        arm = r.get("point") or (spec.arm_label(values) if spec else str(values[arm_keys[0]]))
        row: dict[str, Any] = {
            "study": spec.name if spec else (r["experiment"] or ""),
            "arm": arm,
            "stratum": ",".join(f"{k}={values[k]}" for k in varying),
        }
        row.update({k: s.get(k) for k in IDENT})
        for key, value in r["params"].items():
            if key not in row:
                row[key] = value
        row.update({k: v for k, v in s.items()
                    if k not in row and (v is None or isinstance(v, (int, float, str, bool)))})
        code = s.get("code_version") or {}
        timing = s.get("timing") or {}
        row.update({
            "code_package": code.get("package"), "code_git": code.get("git"),
            "code_dirty": code.get("dirty"), "build_s": timing.get("build_s"),
            "run_s": timing.get("run_s"), "overrides": " ".join(r["overrides"]),
            "run_dir": r["run_dir"],
        })
        rows.append(row)
    table = pd.DataFrame(rows)
    table = table.sort_values(["stratum", "arm", "seed"], kind="stable").reset_index(drop=True)
    return Sweep(root, table, spec, ignored, varying, _command(root, spec), design)


def _command(root: Path, spec: StudySpec | None) -> str:
    """The command line that ran the sweep (from multirun.yaml, which Hydra writes)."""
    path = root / "multirun.yaml"
    if not path.exists():
        return ""
    try:
        task = OmegaConf.to_container(OmegaConf.load(path).hydra.overrides.task, resolve=False)
    except Exception:  # noqa: BLE001 - the command is informative only
        return ""
    return "python -m sim -m " + " ".join(_quote(t) for t in task)


def _quote(arg: str) -> str:
    return f"'{arg}'" if any(c in arg for c in " ()[]*,") else arg


def write_runs_table(sweep: Sweep, path: str | Path | None = None) -> Path:
    """``runs.parquet`` in the sweep dir (atomic): the table every report reads."""
    from sim.data.io import write_atomic

    path = Path(path) if path is not None else sweep.root / RUNS_TABLE
    return write_atomic(path, lambda p: sweep.runs.to_parquet(p, index=False))


def aggregate(root: str | Path) -> Sweep:
    """Read the sweep dir and write its ``runs.parquet``; return the sweep."""
    sweep = load_sweep(root)
    write_runs_table(sweep)
    return sweep
