"""Sweep progress on the terminal: ``[12/48] 25%, 1m05s elapsed, ~3m15s left``.

The sweeper (or the study callback, for Hydra's basic sweeper) writes the sweep's size and
start time to ``.progress.json`` in the sweep dir; every job, in whatever process or node a
launcher runs it, counts the finished runs (``summary.json`` files) in that dir when it ends
and prints one line on stderr. Runs already finished before the sweep started (a resumed
sweep) count as done but not into the rate, so the time left is not flattered by them.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

PROGRESS = ".progress.json"


def count_finished(sweep_dir: Path) -> int:
    return sum(1 for _ in Path(sweep_dir).rglob("summary.json"))


def start(sweep_dir: str | Path, total: int) -> None:
    """Record the sweep's size and start (atomically: jobs may read it at any time)."""
    from sim.data.io import write_atomic

    root = Path(sweep_dir)
    root.mkdir(parents=True, exist_ok=True)
    state = {"total": int(total), "t0": time.time(), "done0": count_finished(root)}
    write_atomic(root / PROGRESS, lambda p: p.write_text(json.dumps(state)))


def _duration(s: float) -> str:
    s = max(0, int(round(s)))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def line(sweep_dir: str | Path) -> str | None:
    """The progress line for the sweep in ``sweep_dir``, or None if it has no record."""
    root = Path(sweep_dir)
    try:
        state = json.loads((root / PROGRESS).read_text())
    except (OSError, ValueError):
        return None
    total = max(1, int(state["total"]))
    done = min(total, count_finished(root))
    elapsed = time.time() - float(state["t0"])
    new = done - int(state.get("done0", 0))
    text = f"siyu-sim: [{done}/{total}] {100 * done // total}%, {_duration(elapsed)} elapsed"
    if 0 < new and done < total:
        text += f", ~{_duration(elapsed / new * (total - done))} left"
    elif done >= total:
        text += ", all runs finished"
    return text


def report(sweep_dir: str | Path) -> None:
    text = line(sweep_dir)
    if text:
        print(text, file=sys.stderr, flush=True)


def basic_sweep_size(config) -> int:
    """How many jobs Hydra's basic sweeper makes of a multirun config (its params and the
    command line, later overrides of a key replacing earlier ones)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    params = OmegaConf.select(config, "hydra.sweeper.params", default=None) or {}
    args = [f"{k}={v}" for k, v in params.items()]
    args += list(OmegaConf.to_container(config.hydra.overrides.task, resolve=False))
    sizes: dict[str, int] = {}
    for ov in OverridesParser.create().parse_overrides(args):
        key = ov.get_key_element()
        sizes[key] = len(list(ov.sweep_string_iterator())) if ov.is_discrete_sweep() else 1
    n = 1
    for v in sizes.values():
        n *= v
    return n
