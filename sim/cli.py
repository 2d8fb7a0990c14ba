"""``python -m sim``: the Hydra app. Everything is checked before anything is written.

Before Hydra runs, :func:`main` checks the whole command: every override (unknown keys and
presets with a "did you mean", types, ranges, list values, deletions), every job of a sweep
(``-m``), ``hydra.*`` overrides (only those that cannot run code), the edge-list file, and
whether the run fits in memory (:mod:`sim.memory`). Then it claims the run dir
(:mod:`sim.rundir`): a fresh, unique dir by default, or an explicit one locked for this run.
Only then does Hydra compose, write ``.hydra/`` and call the run.

Bad input exits with status 2 and one line on stderr,
``siyu-sim: error: <key>=<value>: <what is wrong>; allowed: <...>``, and writes nothing.
A run that fails while running exits 1 with one line; an interrupted one 130 (Ctrl-C) or
143 (SIGTERM), its temporary files removed.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import hashlib
import logging
import math
import os
import re
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from sim import paths
from sim.config import (
    Config,
    ConfigError,
    allowed_text,
    field_kind,
    register_configs,
    to_config,
    validate,
)
from sim.paths import group_options

GROUPS = ("market", "strategy", "graph", "dealer", "channel", "experiment")
EXIT_OK, EXIT_FAIL, EXIT_CONFIG = 0, 1, 2
EXIT_INT, EXIT_TERM = 130, 143
PROG = "siyu-sim"

# hydra overrides allowed on the command line: none of them can make Hydra run code
HYDRA_KEYS = ("hydra.run.dir", "hydra.sweep.dir", "hydra.sweep.subdir", "hydra.job.chdir",
              "hydra.verbose", "hydra.sweeper.max_batch_size")
HYDRA_PREFIXES = ("hydra.launcher.", "hydra.sweeper.params.",
                  "hydra.job.config.override_dirname.")
HYDRA_GROUPS = {"hydra/job_logging": ("default", "disabled", "none", "stdout"),
                "hydra/hydra_logging": ("default", "disabled", "none"),
                "hydra/sweeper": ("basic",)}
CALLBACKS = ("sim.experiments.callback.StudyCallback",)
LAUNCHER_PREFIXES = ("hydra._internal.core_plugins.", "hydra_plugins.")
BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"
# the study sweeper runs a design on every job of the basic expansion (strata x seeds),
# which is what the check expands; the design's lever values are the study's own
SWEEPER_PREFIXES = ("hydra_plugins.siyu_study_sweeper.",)

# command-line options (everything else starting with '-' is refused)
FLAG_HELP = ("-h", "--help")
FLAG_MULTIRUN = ("-m", "--multirun")
FLAG_PRINT = ("--cfg", "-c", "--package", "-p")  # take a value
FLAG_PRINT_BARE = ("--resolve", "--run", "-r")
FLAG_PASS = ("--hydra-help", "--version", "--info", "-i", "--shell-completion", "-sc")

log = logging.getLogger(__name__)


# ------------------------------------------------------------------ key and value checks


def _suggest(word: str, options: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"did you mean {close[0]}? " if close else ""


def check_key(key: str) -> None:
    """Raise ConfigError if a dotted key is not a field of the schema."""
    obj: object = Config()
    parts = key.split(".")
    for i, part in enumerate(parts):
        fields = [f.name for f in dataclasses.fields(obj)]
        if part not in fields:
            where = ".".join(parts[:i]) or "the top level"
            raise ConfigError(f"{key}: unknown key; {_suggest(part, fields)}allowed at {where}: "
                              f"{', '.join(fields)}")
        value = getattr(obj, part)
        if i < len(parts) - 1:
            if not dataclasses.is_dataclass(value):
                raise ConfigError(f"{key}: unknown key; {'.'.join(parts[:i + 1])} has no "
                                  "sub-keys; allowed: the key itself")
            obj = value


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ",".join(_show(v) for v in value) + "]"
    if value is None:
        return "null"
    return str(value)


def check_value(key: str, value: Any) -> None:
    """Raise ConfigError unless ``value`` (as Hydra parsed it) has the type ``key`` declares.

    Stricter than OmegaConf, which turns ``2`` into ``true`` and ``5.0`` into ``5``."""
    kind = field_kind(key)
    shown = _show(value)
    if kind == "section":
        raise ConfigError(f"{key}={shown}: {key} is a section, not a value; allowed: one of its "
                          "keys, e.g. " + _first_subkey(key))
    allowed = allowed_text(key)
    if isinstance(value, (list, dict)):
        raise ConfigError(f"{key}={shown}: a {'list' if isinstance(value, list) else 'map'} of "
                          f"values; allowed: one value, {allowed} (to sweep several, use -m "
                          f"{key}=a,b)")
    if value is None:
        if key == "graph.path":
            return
        raise ConfigError(f"{key}=null: no value; allowed: {allowed}")
    bad = False
    if kind == "bool":
        bad = not isinstance(value, bool)
    elif kind == "int":
        bad = isinstance(value, bool) or not isinstance(value, int)
    elif kind == "float":
        bad = (isinstance(value, bool) or not isinstance(value, (int, float))
               or not math.isfinite(value))
    if bad:
        what = {"bool": "not true or false", "int": "not an integer",
                "float": "not a finite number"}[kind]
        raise ConfigError(f"{key}={shown}: {what}; allowed: {allowed}")


def _first_subkey(key: str) -> str:
    obj: Any = Config()
    for part in key.split("."):
        obj = getattr(obj, part)
    f = dataclasses.fields(obj)[0]
    return f"{key}.{f.name}=..."


def _check_hydra_override(ov) -> None:
    key = ov.key_or_group
    line = ov.input_line or key
    if "/" in key:  # a hydra config group: hydra/launcher=joblib
        group = key
        if group == "hydra/launcher":
            options = launcher_options()
        elif group in HYDRA_GROUPS:
            options = list(HYDRA_GROUPS[group])
        else:
            raise ConfigError(f"{line}: the Hydra group {group} cannot be changed from the "
                              "command line; allowed: hydra/launcher, "
                              + ", ".join(HYDRA_GROUPS))
        value = ov.value()
        if not isinstance(value, str) or value not in options:
            raise ConfigError(f"{group}={_show(value)}: not a known option; "
                              f"{_suggest(str(value), options)}allowed: {', '.join(options)}")
        return
    parts = key.split(".")
    code = [p for p in parts if p.startswith("_") or p in ("()", "class")]
    allowed_keys = ", ".join(HYDRA_KEYS + tuple(p + "*" for p in HYDRA_PREFIXES))
    if code:
        raise ConfigError(f"{line}: not allowed from the command line (`{code[0]}` could run "
                          f"code); allowed hydra overrides: {allowed_keys}")
    if key in HYDRA_KEYS or key.startswith(HYDRA_PREFIXES):
        return
    raise ConfigError(f"{line}: not allowed from the command line; "
                      f"{_suggest(key, list(HYDRA_KEYS))}allowed hydra overrides: {allowed_keys}")


def launcher_options() -> list[str]:
    """hydra/launcher choices: Hydra's basic, installed plugins, this project's presets."""
    names = {"basic"} | {p.stem for p in (paths.CONF_DIR / "hydra" / "launcher").glob("*.yaml")}
    try:
        from hydra.core.plugins import Plugins
        from hydra.plugins.launcher import Launcher

        for cls in Plugins.instance().discover(Launcher):
            mod = cls.__module__
            if mod.startswith("hydra_plugins."):
                names.add({"JoblibLauncher": "joblib", "RayLauncher": "ray",
                           "LocalLauncher": "submitit_local",
                           "SlurmLauncher": "submitit_slurm"}.get(cls.__name__, cls.__name__))
    except Exception:  # discovery is best effort: Hydra checks the name again
        pass
    try:
        import hydra_plugins.hydra_submitit_launcher  # noqa: F401

        names |= {"submitit_local", "submitit_slurm"}
    except ImportError:
        pass
    return sorted(names)


def _group_value_check(ov, key: str, value: Any) -> None:
    options = group_options(key)
    if isinstance(value, list):
        raise ConfigError(f"{key}={_show(value)}: a list of presets; allowed: one {key} preset: "
                          f"{', '.join(options)} (to sweep several, use -m {key}=a,b)")
    if value is None and key == "experiment":
        return
    if not isinstance(value, str) or value not in options:
        raise ConfigError(f"{key}={_show(value)}: not a known {key} preset; "
                          f"{_suggest(str(value), options)}allowed: {', '.join(options)}")


def check_override(ov, *, multirun: bool) -> None:
    """One parsed override, before composition: raise ConfigError on any fault."""
    key = ov.key_or_group
    line = ov.input_line or key
    if ov.package:
        raise ConfigError(f"{line}: package overrides (@) are not supported; allowed: "
                          f"GROUP=PRESET or KEY=VALUE")
    if key == "hydra" or key.startswith(("hydra.", "hydra/")):
        if ov.is_delete():
            raise ConfigError(f"{line}: deleting Hydra settings is not allowed; allowed: set "
                              "them, e.g. hydra.run.dir=out/run1")
        if ov.is_sweep_override():
            raise ConfigError(f"{line}: Hydra settings cannot be swept; allowed: one value")
        _check_hydra_override(ov)
        return
    if ov.is_delete():
        example = f"{key}=..." if key not in GROUPS else f"{key}={_default_choice(key)}"
        raise ConfigError(f"{line}: deleting a key is not allowed (it would fall back to a "
                          f"default without a word); allowed: set a value, e.g. {example}")
    if ov.is_sweep_override():
        if not multirun:
            raise ConfigError(f"{line}: several values run a sweep; allowed: one value, or add "
                              "-m to sweep over them")
        values = list(_sweep_values(ov))
    else:
        values = [ov.value()]
    if key in GROUPS:
        if ov.is_add() or ov.is_force_add():
            raise ConfigError(f"{line}: allowed: {key}=PRESET (without +)")
        for v in values:
            _group_value_check(ov, key, v)
        return
    if "/" in key:
        raise ConfigError(f"{line}: unknown config group; {_suggest(key, list(GROUPS))}allowed "
                          f"groups: {', '.join(GROUPS)}")
    check_key(key)
    if ov.is_add():
        raise ConfigError(f"{line}: {key} already exists; allowed: {key}=VALUE (without +)")
    for v in values:
        check_value(key, v)


def _sweep_values(ov):
    try:
        return list(ov.sweep_iterator())
    except Exception:  # an interval sweep (a sweeper plugin's): checked per job instead
        return []


_DEFAULTS: dict[str, str | None] | None = None


def default_choices() -> dict[str, str | None]:
    """The root config's preset choices (conf/config.yaml defaults list)."""
    global _DEFAULTS
    if _DEFAULTS is None:
        root = OmegaConf.load(paths.CONF_DIR / "config.yaml")
        out: dict[str, str | None] = {}
        for item in root.get("defaults", []):
            if isinstance(item, str) or not hasattr(item, "items"):
                continue
            for k, v in item.items():
                out[str(k)] = None if v is None else str(v)
        _DEFAULTS = out
    return _DEFAULTS


def _default_choice(group: str) -> str:
    return str(default_choices().get(group))


# ------------------------------------------------------------------ composition


def _parse(overrides: list[str]):
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    parsed = []
    for o in overrides:
        try:
            parsed += parser.parse_overrides([o])
        except Exception as exc:
            msg = str(exc).splitlines()[0]
            key = o.partition("=")[0]
            raise ConfigError(f"{o}: cannot parse ({msg}); allowed: KEY=VALUE or GROUP=PRESET, "
                              f"quoting values with spaces or commas, e.g. {key}='a b'") from None
    return parsed


def _is_group(ov) -> bool:
    key = ov.key_or_group
    return key in GROUPS or "/" in key


class Composer:
    """Composes job configs the way Hydra will, once per distinct choice of presets (Hydra's
    own composition step), then applies the job's KEY=VALUE overrides with Hydra's own
    function: checking a sweep of 80 jobs costs ~10 compositions, not 80."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, ...], DictConfig] = {}
        self._ctx = None

    def __enter__(self) -> Composer:
        from hydra import initialize_config_dir
        from hydra.core.global_hydra import GlobalHydra

        GlobalHydra.instance().clear()
        self._ctx = initialize_config_dir(config_dir=str(paths.CONF_DIR), version_base="1.3")
        self._ctx.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        from hydra.core.global_hydra import GlobalHydra

        self._ctx.__exit__(*exc)
        GlobalHydra.instance().clear()

    def compose(self, overrides: list[str]) -> DictConfig:
        """The composed config (with its ``hydra`` node) of one job's overrides."""
        from hydra import compose

        parsed = _parse(overrides)
        groups = tuple(o.input_line for o in parsed if _is_group(o))
        values = [o for o in parsed if not _is_group(o)]
        base = self._cache.get(groups)
        if base is None:
            try:
                base = compose(config_name="config", overrides=list(groups),
                               return_hydra_config=True)
            except ConfigError:
                raise
            except Exception as exc:
                raise ConfigError(_root_message(exc)) from None
            self._cache[groups] = base
        node = copy.deepcopy(base)
        try:
            from hydra._internal.config_loader_impl import ConfigLoaderImpl

            ConfigLoaderImpl._apply_overrides_to_config(values, node)
        except (ImportError, AttributeError):  # Hydra internals moved: compose in full
            node = compose(config_name="config", overrides=overrides, return_hydra_config=True)
        except ConfigError:
            raise
        except Exception as exc:
            raise ConfigError(_root_message(exc)) from None
        return node


def _root_message(exc: BaseException) -> str:
    """'key=value: reason; allowed: ...' from the innermost omegaconf error, else the first line."""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    while exc.__cause__ is not None:
        exc = exc.__cause__
    key = getattr(exc, "full_key", None)
    if key:
        value = getattr(exc, "value", None)
        reason = str(exc).splitlines()[0]
        allowed = allowed_text(str(key))
        head = f"{key}={value}" if value is not None else f"{key}"
        return f"{head}: {reason}" + (f"; allowed: {allowed}" if allowed else "")
    return first


def _task_config(node: DictConfig) -> Config:
    task = OmegaConf.masked_copy(node, [k for k in node.keys() if k != "hydra"])
    return to_config(task)


def check_hydra_node(node: DictConfig) -> None:
    """Refuse composed Hydra settings that would run code we do not ship (from any origin:
    the command line, an experiment file): callbacks, launchers, sweepers, logging factories,
    environment variables."""
    hc = node.hydra
    callbacks = _container(hc.get("callbacks"))
    for name, cb in callbacks.items():
        target = cb.get("_target_") if isinstance(cb, dict) else None
        if target not in CALLBACKS:
            raise ConfigError(f"hydra.callbacks.{name}._target_={target}: not a callback of "
                              f"this project; allowed: {', '.join(CALLBACKS)}")
    launcher = str(hc.launcher.get("_target_", ""))
    if not launcher.startswith(LAUNCHER_PREFIXES):
        raise ConfigError(f"hydra.launcher._target_={launcher}: not a Hydra launcher; allowed: "
                          f"hydra/launcher={'|'.join(launcher_options())}")
    sweeper = str(hc.sweeper.get("_target_", ""))
    if not (sweeper == BASIC_SWEEPER or sweeper.startswith(SWEEPER_PREFIXES)):
        raise ConfigError(f"hydra.sweeper._target_={sweeper}: not a sweeper of this project; "
                          f"allowed: {BASIC_SWEEPER} or the study sweeper "
                          f"({SWEEPER_PREFIXES[0]}*)")
    for section in ("job_logging", "hydra_logging"):
        conf = _container(hc.get(section))
        bad = _logging_code(conf)
        if bad:
            raise ConfigError(f"hydra.{section}.{bad}: logging factories could run code; "
                              "allowed: logging.* handler classes")
    env = hc.job.get("env_set") or {}
    if len(env):
        name = next(iter(env))
        raise ConfigError(f"hydra.job.env_set.{name}: setting environment variables for jobs is "
                          "not allowed; allowed: set them in the shell")


def _container(node: Any) -> dict:
    if node is None or not OmegaConf.is_config(node):
        return dict(node or {})
    return OmegaConf.to_container(node, resolve=False) or {}


def _logging_code(conf: Any, prefix: str = "") -> str:
    if isinstance(conf, dict):
        for k, v in conf.items():
            if k == "()":
                return f"{prefix}()"
            if k == "class" and not str(v).startswith("logging."):
                return f"{prefix}class={v}"
            inner = _logging_code(v, f"{prefix}{k}.")
            if inner:
                return inner
    return ""


# ------------------------------------------------------------------ the plan of a command


@dataclass
class Plan:
    """What a checked command will do: its jobs' configs and where it writes."""

    overrides: list[str]
    multirun: bool
    configs: list[Config]
    jobs: list[list[str]]
    node: DictConfig                      # the first job's composed config, with ``hydra``
    dir_key: str = "hydra.run.dir"
    dir_template: str = ""                # unresolved
    dir_path: Path | None = None          # resolved
    fresh: bool = True                    # a timestamped name: made unique, never reused
    warnings: list[str] = field(default_factory=list)
    graphs: dict[tuple[str, int], Any] = field(default_factory=dict)


def _expand(parsed, composer: Composer, overrides: list[str]) -> list[list[str]]:
    """The job list a -m sweep will run (BasicSweeper: params from the config, then the
    command line; the command line wins)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    plain = [o.input_line for o in parsed if not o.is_sweep_override()]
    node = composer.compose(plain)
    check_hydra_node(node)
    params = _container(node.hydra.sweeper.get("params"))
    lines = [f"{k}={v}" for k, v in params.items()] + overrides
    all_parsed = _parse(lines)
    for ov in all_parsed:
        check_override(ov, multirun=True)
    try:
        batches = BasicSweeper.split_arguments(all_parsed, None)
    except Exception as exc:
        raise ConfigError(f"cannot expand the sweep: {str(exc).splitlines()[0]}; allowed: "
                          "KEY=a,b,c, KEY=range(a,b) or GROUP=a,b") from None
    return [list(job) for job in batches[0]]


def preflight(overrides: list[str], *, multirun: bool = False) -> Config:
    """Compose and validate the config the way the run will; raise ConfigError on any fault.
    (The first job's config for a sweep; :func:`plan` has them all.)"""
    return plan(overrides, multirun=multirun).configs[0]


def plan(overrides: list[str], *, multirun: bool = False, check_memory: bool = True) -> Plan:
    """Check a whole command (every job of a sweep) without writing anything."""
    register_configs()
    parsed = _parse(overrides)
    for ov in parsed:
        check_override(ov, multirun=multirun)
    with Composer() as composer:
        jobs = _expand(parsed, composer, overrides) if multirun else [list(overrides)]
        configs, first = [], None
        done: dict[tuple, Config] = {}  # first config of each (presets, keys) shape
        for i, job in enumerate(jobs):
            try:
                parsed_job = _parse(job)
                shape = (tuple(o.input_line for o in parsed_job if _is_group(o)),
                         tuple(o.key_or_group for o in parsed_job if not _is_group(o)))
                if shape in done:  # same presets, same keys: only the values differ
                    cfg = copy.deepcopy(done[shape])
                    for o in parsed_job:
                        if not _is_group(o) and not o.key_or_group.startswith("hydra"):
                            _set_value(cfg, o.key_or_group, o.value())
                    validate(cfg)
                else:  # Hydra's own composition, in full
                    node = composer.compose(job)
                    check_hydra_node(node)
                    cfg = _task_config(node)
                    done[shape] = cfg
                    first = node if first is None else first
            except ConfigError as err:
                raise ConfigError(_in_job(err, i, jobs)) from None
            configs.append(cfg)
        assert first is not None
        p = Plan(list(overrides), multirun, configs, jobs, first)
        _plan_dir(p, composer)
    cwd = Path.cwd()
    for i, cfg in enumerate(configs):
        if cfg.graph.kind == "edge_list" and cfg.graph.path:
            try:
                _check_edge_list(p, cfg, cwd)
            except ConfigError as err:
                raise ConfigError(_in_job(err, i, jobs)) from None
    if check_memory:
        _check_memory(p)
    return p


def _set_value(cfg: Config, key: str, value: Any) -> None:
    """Set a checked KEY=VALUE override on a Config as OmegaConf would convert it."""
    *path, name = key.lstrip("+").split(".")
    obj: Any = cfg
    for part in path:
        obj = getattr(obj, part)
    kind = field_kind(key.lstrip("+"))
    if value is not None:
        if kind == "float":
            value = float(value)
        elif kind in ("str", "date"):
            value = str(value)
    setattr(obj, name, value)


def _in_job(err: ConfigError, i: int, jobs: list[list[str]]) -> str:
    if len(jobs) <= 1:
        return str(err)
    return f"{err} (sweep job {i} of {len(jobs)}: {' '.join(jobs[i])})"


def _check_edge_list(p: Plan, cfg: Config, cwd: Path) -> None:
    from sim.core.graph import GraphFileError, load_edge_list
    from sim.memory import check_fits

    path = Path(cfg.graph.path)
    if not path.is_absolute():
        path = cwd / path
    n = cfg.population.n_users
    key = (str(path), n)
    if key in p.graphs:
        return
    check_fits(cfg)  # the file is read now: it must fit before it is read
    try:
        graph = load_edge_list(path, n)
    except GraphFileError as err:
        msg = str(err).replace(f"graph.path={path}", f"graph.path={cfg.graph.path}")
        if "allowed:" not in msg:
            msg += ("; allowed: an existing regular file with at least one edge "
                    "(python -m sim --help, edge lists)")
        raise ConfigError(msg) from None
    p.graphs[key] = graph
    isolated = int((graph.degree() == 0).sum())
    if isolated and isolated >= 0.01 * n:
        p.warnings.append(
            f"graph.path={cfg.graph.path}: {isolated:,} of {n:,} users "
            f"({100 * isolated / n:.1f}%) have no edge in the file ({graph.n_edges:,} edges): they "
            "never refer anyone or hear word of mouth; the file's ids must be 0.."
            f"{n - 1} (population.n_users={n})")


def _check_memory(p: Plan) -> None:
    from sim.memory import check_fits

    launcher = str(p.node.hydra.launcher.get("_target_", ""))
    if p.multirun and ("slurm" in launcher.lower() or "ray" in launcher.lower()):
        mem_gb = p.node.hydra.launcher.get("mem_gb")
        if mem_gb:
            from sim.memory import estimate

            need = max(estimate(c).total for c in p.configs)
            if need > float(mem_gb) * 1024**3:
                raise ConfigError(f"hydra.launcher.mem_gb={mem_gb}: a job needs about "
                                  f"{need / 1024**3:.1f} GiB; allowed: mem_gb >= "
                                  f"{math.ceil(need / 1024**3)}")
        return  # jobs run on other machines
    at_once = 1
    if p.multirun and "joblib" in launcher.lower():
        n_jobs = int(p.node.hydra.launcher.get("n_jobs", -1) or -1)
        cores = os.cpu_count() or 1
        at_once = min(len(p.configs), cores + 1 + n_jobs if n_jobs < 0 else n_jobs)
    from sim.memory import estimate

    check_fits(max(p.configs, key=lambda c: estimate(c).total), jobs_at_once=at_once)


# ------------------------------------------------------------------ run dirs


def _plan_dir(p: Plan, composer: Composer) -> None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.core.utils import setup_globals

    node = p.node if not p.multirun else composer.compose(
        [o for o in p.overrides if not _parse([o])[0].is_sweep_override()])
    p.dir_key = "hydra.sweep.dir" if p.multirun else "hydra.run.dir"
    section = node.hydra.sweep if p.multirun else node.hydra.run
    template = str(OmegaConf.to_container(section, resolve=False)["dir"])
    p.dir_template = template
    p.fresh = "${now:" in template
    setup_globals()
    if p.fresh and not p.multirun and template == _default_template():
        p.dir_path = Path(default_run_dir(node, p.overrides))
        return
    HydraConfig.instance().set_config(node)
    try:
        p.dir_path = Path(str(section.dir))
    except Exception as exc:
        raise ConfigError(f"{p.dir_key}={template}: cannot be resolved "
                          f"({str(exc).splitlines()[0]}); allowed: a path, with "
                          "${...} of keys that have one value in every job") from None


def _default_template() -> str:
    root = OmegaConf.load(paths.CONF_DIR / "config.yaml")
    return str(OmegaConf.to_container(root.hydra.run, resolve=False)["dir"])


_SAFE = re.compile(r"[^A-Za-z0-9._=,+-]")


def default_run_dir(node: DictConfig, overrides: list[str], now: float | None = None) -> str:
    """``outputs/<market>/<strategy>/<YYYY-MM-DD_HH-MM-SS>[_<what differs>]``.

    What differs from the default scenario is named: the presets that are not the root
    config's defaults (``dealer=store_run``) and the KEY=VALUE overrides as typed (a path
    by its file name), so runs of different scenarios never share a folder name pattern.
    """
    choices = node.hydra.runtime.choices
    defaults = default_choices()
    parts = []
    for group in ("graph", "dealer", "channel", "experiment"):
        chosen = choices.get(group)
        if chosen is not None and chosen != defaults.get(group):
            parts.append(f"{group}={chosen}")
    for o in overrides:
        key, _, value = o.partition("=")
        key = key.lstrip("+")
        if key.startswith(("hydra", "output.", "report.")) or key in GROUPS:
            continue  # where and how results are shown, not which results
        if key == "graph.path":
            value = Path(value.strip("'\"")).name
        parts.append(f"{key.split('.', 1)[1] if '.' in key else key}={value}")
    stamp = time.strftime("%Y-%m-%d_%H-%M-%S", time.localtime(now))
    name = stamp
    if parts:
        diff = _SAFE.sub("_", ",".join(parts))
        if len(diff) > 80:
            digest = hashlib.sha1(diff.encode()).hexdigest()[:8]
            diff = diff[:70] + "~" + digest
        name += "_" + diff
    market, strategy = choices.get("market"), choices.get("strategy")
    return str(Path("outputs") / _SAFE.sub("_", str(market)) / _SAFE.sub("_", str(strategy)) / name)


def _quote(path: Path, key: str) -> str:
    """``key='path'`` for Hydra's override grammar (checked by parsing it back)."""
    text = str(path)
    if "${" in text or "\\" in text:
        raise ConfigError(f"{key}={text}: a path with '${{' or a backslash; allowed: a path "
                          "without them")
    line = f"{key}='" + text.replace("'", "\\'") + "'"
    if _parse([line])[0].value() != text:
        raise ConfigError(f"{key}={text}: cannot be passed to Hydra; allowed: a plainer path")
    return line


def claim(p: Plan):
    """Claim the plan's dir (see :mod:`sim.rundir`); return the claim and Hydra's override."""
    from sim.rundir import claim_run_dir, new_run_dir, remove_planted_links

    assert p.dir_path is not None
    if p.fresh:
        c = new_run_dir(p.dir_path, p.dir_key)
    else:
        c = claim_run_dir(p.dir_path, p.dir_key, resume=p.multirun,
                          what="sweep" if p.multirun else "run")
    if p.multirun:
        remove_planted_links(c.path)
    return c, _quote(c.path, p.dir_key)


# ------------------------------------------------------------------ help


def _describe(path: Path, width: int) -> str:
    """The first sentence of a preset file's header comment (a study's question), cut to
    ``width``."""
    lines = []
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("#"):
                break
            text = line.lstrip("#").strip()
            if text.startswith("@package") or not text:
                continue
            lines.append(text)
    except OSError:
        return ""
    text = " ".join(lines)
    m = re.match(r"Study \S+(?: \(kind: (\w+)\))?:\s*", text)
    if m:
        text = (f"[{m.group(1)}] " if m.group(1) else "") + text[m.end():]
    text = text[:1].upper() + text[1:]
    end = re.search(r"[.?](\s|$)", text)
    first = text[: end.start() + 1] if end else text
    return first if len(first) <= width else first[: width - 1].rstrip(" ,;:(") + "…"


def help_text() -> str:
    from sim.core.graph import EDGE_LIST_FORMAT

    defaults = default_choices()
    out = [
        "usage: python -m sim [-m] [GROUP=PRESET ...] [KEY=VALUE ...]",
        "",
        "Simulate a brand's private domain (私域): run a scenario, print its summary and write",
        "summary.json, series.parquet and figures into a new run folder. With -m, sweep: every",
        "combination of comma-separated values is a run (resumable: re-run to finish it).",
        "",
        "presets (GROUP=PRESET, * = default):",
    ]
    w = max(len(n) for g in GROUPS for n in group_options(g)) + 1
    for group in GROUPS:
        out.append(f"  {group}")
        for name in group_options(group):
            star = "*" if defaults.get(group) == name else " "
            desc = _describe(paths.group_dir(group) / f"{name}.yaml", 100 - 5 - w)
            out.append(f"   {star}{name:<{w}} {desc}".rstrip())
    out += [
        "",
        "parameters (KEY=VALUE; every key with its unit and range: docs/parameters.md):",
        "  population.n_users=20000   simulated users       days=730     simulated days",
        "  seed=1                     same seed, same numbers report.lang=zh|en  language",
        "  population.scale=1         real users per simulated user",
        "  mechanisms.referral=false  switch a mechanism off (also koc, groups, events, ...)",
        "  output.figures=false       no PNG figures        export.transactions=true",
        "",
        "edge lists (graph=edge_list graph.path=FILE):",
        *("  " + line for line in _wrap(EDGE_LIST_FORMAT, 96)),
        "  users with no edge are reported (a warning when 1% or more of them have none).",
        "",
        "output: outputs/<market>/<strategy>/<date_time>[_<what differs from the defaults>]/",
        "  (unique per run; hydra.run.dir=DIR writes into DIR, refused if another run uses it",
        "  or it holds a finished run); sweeps: multirun/... (hydra.sweep.dir=DIR).",
        "",
        "options:",
        "  -h, --help          this help              -m, --multirun   sweep",
        "  --cfg job|hydra|all print the composed config (--resolve: resolved), run nothing",
        "  --info, --hydra-help, --version, -sc       Hydra's own",
        "  hydra/launcher=joblib|slurm|...            where sweep jobs run",
        "",
        "exit status: 0 done; 2 bad input (one line on stderr, nothing written); 1 failed "
        "while",
        "running; 130/143 interrupted. SIYU_MEMORY_LIMIT=8G overrides the memory a run may use.",
    ]
    return "\n".join(out)


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width)


# ------------------------------------------------------------------ the app


def load_config(overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """The validated config ``python -m sim OVERRIDES...`` would run, e.g.
    ``load_config(["strategy=promotion_heavy", "population.n_users=5000"])``."""
    register_configs()
    return plan(list(overrides), check_memory=False).configs[0]


def _fail(err: BaseException | str, code: int = EXIT_CONFIG) -> None:
    text = str(err).replace("\n", " ").strip() or type(err).__name__
    print(f"{PROG}: error: {text}", file=sys.stderr, flush=True)
    sys.exit(code)


_STATE: dict[str, Any] = {"claim": None, "graphs": {}}


def _absolute_graph_path(cfg: Config) -> Config:
    if cfg.graph.path and not os.path.isabs(cfg.graph.path):
        from hydra.utils import to_absolute_path

        cfg.graph.path = to_absolute_path(cfg.graph.path)  # the path as typed, not under chdir
    return cfg


@hydra.main(version_base="1.3", config_path=str(paths.CONF_DIR), config_name="config")
def _app(node: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from sim.core.graph import GraphFileError

    logging.getLogger("MESA").setLevel(logging.WARNING)  # Hydra logs at INFO; Mesa every step

    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    try:
        cfg = _absolute_graph_path(to_config(node))
        if hc.mode == RunMode.MULTIRUN:  # a sweep's job: resumable, see sim/experiments/job.py
            _sweep_job(cfg, out_dir, hc.job.name)
        else:
            from sim.run import run

            key = (str(Path(cfg.graph.path)) if cfg.graph.path else None, cfg.population.n_users)
            graph = _STATE["graphs"].get(key)
            run(cfg, out_dir, graph=graph)
    except (ConfigError, GraphFileError) as err:
        _discard()
        _fail(err)
    except MemoryError:
        _discard()
        _fail(f"out of memory while running in {out_dir}; allowed: a smaller "
              "population.n_users (see SIYU_MEMORY_LIMIT in python -m sim --help)", EXIT_FAIL)
    except OSError as err:
        _discard()
        where = f" {err.filename}" if err.filename else ""
        _fail(f"cannot write{where} ({err.strerror or err}); the run in {out_dir} did not "
              "finish", EXIT_FAIL)


def _sweep_job(cfg: Config, job_dir: Path, job_name: str) -> None:
    from sim.experiments.job import finished_summary, run_job
    from sim.rundir import RUN_FILES, claim_run_dir, clear

    c = claim_run_dir(job_dir, "hydra.sweep.dir", resume=True, what="job")
    try:
        if finished_summary(job_dir, cfg) is None:  # redone: nothing of an older run stays
            clear(job_dir, [n for n in RUN_FILES if n not in (".hydra", f"{job_name}.log")])
        run_job(cfg, job_dir)
    finally:
        c.release()


def _discard() -> None:
    c = _STATE.get("claim")
    if c is not None:
        c.discard()
        _STATE["claim"] = None


def _on_signal(signum, frame) -> None:
    raise SystemExit(EXIT_TERM if signum == signal.SIGTERM else EXIT_INT)


def split_args(args: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Options and overrides of a command line; refuse options Hydra would take that could
    load other configs (``--config-dir``...) or that this app does not know.
    ``flags["argv"]`` keeps the options as typed (with their values), in order."""
    flags: dict[str, Any] = {"help": False, "multirun": False, "print": False, "pass": False,
                             "argv": []}
    overrides = []
    i = 0
    while i < len(args):
        a = args[i]
        name = a.split("=", 1)[0] if a.startswith("--") else a
        if not a.startswith("-") or re.match(r"^-\d", a):
            overrides.append(a)
            i += 1
            continue
        takes_value = False
        if name in FLAG_HELP:
            flags["help"] = True
        elif name in FLAG_MULTIRUN:
            flags["multirun"] = True
        elif name in FLAG_PRINT:
            flags["print"] = True
            takes_value = "=" not in a
        elif name in FLAG_PRINT_BARE:
            pass
        elif name in FLAG_PASS:
            flags["pass"] = True
            takes_value = (name in ("--shell-completion", "-sc", "--info", "-i") and "=" not in a
                           and i + 1 < len(args) and not args[i + 1].startswith("-")
                           and "=" not in args[i + 1] or name in ("--shell-completion", "-sc")
                           and i + 1 < len(args) and args[i + 1].startswith(("install=",
                                                                              "uninstall=",
                                                                              "query=")))
        else:
            known = [*FLAG_HELP, *FLAG_MULTIRUN, "--cfg", "--package", "--resolve", *FLAG_PASS]
            raise ConfigError(f"{a}: unknown option; {_suggest(name, known)}allowed: --help, "
                              "-m, --cfg job|hydra|all, --resolve, --package, --info, "
                              "--hydra-help, --version, -sc (see python -m sim --help)")
        flags["argv"].append(a)
        if takes_value and i + 1 < len(args):
            flags["argv"].append(args[i + 1])
            i += 1
        i += 1
    return flags, overrides


def main(argv: list[str] | None = None) -> None:
    register_configs()
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        flags, overrides = split_args(args)
    except ConfigError as err:
        _fail(err)
    if flags["help"]:
        print(help_text())
        sys.exit(EXIT_OK)
    if flags["pass"]:
        sys.argv = [sys.argv[0], *args]
        _app()
        return
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        p = plan(overrides, multirun=flags["multirun"], check_memory=not flags["print"])
        for w in p.warnings:
            print(f"{PROG}: warning: {w}", file=sys.stderr, flush=True)
        if flags["print"]:  # --cfg: Hydra prints, nothing is written
            sys.argv = [sys.argv[0], *flags["argv"], *overrides]
            _app()
            return
        c, dir_override = claim(p)
    except ConfigError as err:
        _fail(err)
    except KeyboardInterrupt:
        _fail("interrupted", EXIT_INT)
    _STATE["claim"] = c if not p.multirun else None
    _STATE["graphs"] = dict(p.graphs) if not p.multirun else {}
    rest = [a for a in overrides if not a.lstrip("+").startswith(f"{p.dir_key}=")]
    # Hydra's parser wants the options first, then the overrides in one block
    sys.argv = [sys.argv[0], *flags["argv"], *rest, dir_override]
    finished = False
    try:
        _app()
        finished = True
    except KeyboardInterrupt:
        _fail(f"interrupted; {_unfinished(p)}", EXIT_INT)
    except SystemExit as e:
        if e.code in (EXIT_TERM, EXIT_INT):
            _fail(f"terminated; {_unfinished(p)}", int(e.code))
        finished = not e.code
        raise
    finally:
        if not finished:
            _discard_unfinished(c, p.multirun)
        c.release()


def _unfinished(p: Plan) -> str:
    if p.multirun:
        return "the sweep did not finish; the same command resumes it"
    return "the run did not finish (nothing of it was kept)"


def _discard_unfinished(c, multirun: bool) -> None:
    """A single run stopped before its summary leaves nothing; a sweep keeps its finished
    jobs (re-run it to resume), but a fresh sweep dir with nothing in it is removed."""
    from sim.rundir import LOCK

    if not multirun:
        if _STATE.get("claim") is not None and not (c.path / "summary.json").exists():
            _discard()
        return
    if c.created:
        try:
            if {e.name for e in os.scandir(c.path)} <= {LOCK}:
                c.discard()
        except OSError:
            pass
