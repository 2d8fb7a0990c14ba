"""The code version recorded with every output (package version and git commit)."""

from __future__ import annotations

import subprocess
from functools import lru_cache
from pathlib import Path

__version__ = "0.1.0"


@lru_cache(maxsize=1)
def code_version() -> dict[str, object]:
    root = Path(__file__).resolve().parent.parent
    info: dict[str, object] = {"package": __version__, "git": None, "dirty": None}
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, timeout=5,
                               check=True).stdout.strip()
        info["git"], info["dirty"] = sha, bool(dirty)
    except (OSError, subprocess.SubprocessError):
        pass  # not a git checkout (an installed copy): the package version stands alone
    return info
