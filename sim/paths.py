"""Where the Hydra configs and the study definitions live, in a checkout and in a wheel.

In a checkout (and an editable install) they are the repository's top-level ``conf/`` and
``experiments/``; a built wheel carries the same files inside the package, as
``sim/conf/`` and ``sim/experiments/definitions/`` (pyproject.toml, ``force-include``).
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _first_dir(*candidates: Path) -> Path:
    for c in candidates:
        if c.is_dir():
            return c
    return candidates[-1]


CONF_DIR = _first_dir(_PKG / "conf", _PKG.parent / "conf")
EXPERIMENTS_DIR = _first_dir(_PKG / "experiments" / "definitions", _PKG.parent / "experiments")


def group_dir(group: str) -> Path:
    """The folder holding a config group's presets (``experiment`` is the study folder)."""
    return EXPERIMENTS_DIR if group == "experiment" else CONF_DIR / group


def group_options(group: str) -> list[str]:
    """The preset names of a config group, sorted."""
    return sorted(p.stem for p in group_dir(group).glob("*.yaml"))
