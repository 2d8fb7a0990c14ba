"""``python -m sim``: the Hydra app. Overrides are checked before Hydra creates anything.

A bad override (unknown key or group option, a value out of range, a wrong type) exits
with status 2 and one line on stderr naming the key, the value and what is allowed; no
run directory is created for it. Errors found while building (a malformed edge-list
file) exit the same way, leaving earlier runs untouched.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from sim.config import Config, ConfigError, register_configs, to_config
from sim import paths
from sim.paths import group_options

GROUPS = ("market", "strategy", "graph", "dealer", "channel", "experiment")
EXIT_CONFIG = 2


def check_key(key: str) -> None:
    """Raise ConfigError if a dotted key is not a field of the schema."""
    obj: object = Config()
    parts = key.split(".")
    for i, part in enumerate(parts):
        fields = [f.name for f in dataclasses.fields(obj)]
        if part not in fields:
            where = ".".join(parts[:i]) or "the top level"
            raise ConfigError(f"{key}: unknown key; allowed at {where}: {', '.join(fields)}")
        value = getattr(obj, part)
        if i < len(parts) - 1:
            if not dataclasses.is_dataclass(value):
                raise ConfigError(f"{key}: unknown key; {'.'.join(parts[:i + 1])} has no sub-keys")
            obj = value


def preflight(overrides: list[str]) -> Config:
    """Compose and validate the config the way the run will; raise ConfigError on any fault."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    try:
        parsed = parser.parse_overrides(overrides)
    except Exception as exc:
        raise ConfigError(f"cannot parse overrides {' '.join(overrides)!r}: "
                          f"{str(exc).splitlines()[0]}") from None
    for ov in parsed:
        key = ov.key_or_group
        if ov.package or key.startswith("hydra"):
            continue
        if key in GROUPS and not ov.is_delete():
            value = ov.value()
            options = group_options(key)
            if isinstance(value, str) and value not in options:
                raise ConfigError(f"{key}={value} is not a known {key} preset; allowed: "
                                  f"{', '.join(options)}")
            continue
        check_key(key.lstrip("+~"))
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(paths.CONF_DIR), version_base="1.3"):
            node = compose(config_name="config", overrides=overrides)
    except ConfigError:
        raise
    except Exception as exc:  # hydra/omegaconf composition errors: one line from the root cause
        raise ConfigError(_root_message(exc)) from None
    finally:
        GlobalHydra.instance().clear()
    cfg = to_config(node)
    if cfg.graph.kind == "edge_list":  # a malformed file fails here, before any run dir exists
        from sim.core.graph import GraphFileError, load_edge_list

        try:
            load_edge_list(cfg.graph.path, cfg.population.n_users)
        except GraphFileError as err:
            raise ConfigError(str(err)) from None
    return cfg


def _root_message(exc: BaseException) -> str:
    """'key=value: reason' from the innermost omegaconf error, else the first line."""
    first = str(exc).splitlines()[0]
    while exc.__cause__ is not None:
        exc = exc.__cause__
    key = getattr(exc, "full_key", None)
    if key:
        value = getattr(exc, "value", None)
        reason = str(exc).splitlines()[0]
        return f"{key}={value}: {reason}" if value is not None else f"{key}: {reason}"
    return first


def load_config(overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """The validated config ``python -m sim OVERRIDES...`` would run, e.g.
    ``load_config(["strategy=promotion_heavy", "population.n_users=5000"])``."""
    register_configs()
    return preflight(list(overrides))


def _fail(err: Exception) -> None:
    print(f"siyu-sim: error: {err}", file=sys.stderr)
    sys.exit(EXIT_CONFIG)


@hydra.main(version_base="1.3", config_path=str(paths.CONF_DIR), config_name="config")
def _app(node: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from sim.core.graph import GraphFileError
    from sim.run import run

    logging.getLogger("MESA").setLevel(logging.WARNING)  # Hydra logs at INFO; Mesa logs every step

    try:
        cfg = to_config(node)
        hc = HydraConfig.get()
        if hc.mode == RunMode.MULTIRUN:  # a sweep's job: resumable, see sim/experiments/job.py
            from sim.experiments.job import run_job

            run_job(cfg, Path(hc.runtime.output_dir))
        else:
            run(cfg, Path(hc.runtime.output_dir))
    except (ConfigError, GraphFileError) as err:
        _fail(err)


def main() -> None:
    register_configs()
    args = sys.argv[1:]
    special = any(a.startswith("-") for a in args)  # --help, --cfg, -m ...: Hydra handles them
    if not special:
        try:
            preflight(args)
        except ConfigError as err:
            _fail(err)
    _app()
