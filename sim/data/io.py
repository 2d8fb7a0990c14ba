"""Atomic file writes: every output appears whole or not at all.

Each writer writes to a hidden temporary file in the target's directory and renames it
over the target (``os.replace`` is atomic on POSIX within one file system), so a run
killed half-way never leaves a truncated file that a report could mistake for a result,
and an existing file is replaced only by a complete new one.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np


@contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside ``path``; on success rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str | os.PathLike, writer: Callable[[Path], None]) -> Path:
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return _jsonable(x.item())
    if isinstance(x, float) and not np.isfinite(x):
        return None  # JSON has no NaN/inf; null means "undefined for this run"
    if isinstance(x, Path):
        return str(x)
    return x


def write_json(path: str | os.PathLike, data: dict) -> Path:
    text = json.dumps(_jsonable(data), indent=2, sort_keys=False, allow_nan=False) + "\n"
    return write_atomic(path, lambda p: p.write_text(text))


def write_parquet(path: str | os.PathLike, columns: dict[str, np.ndarray]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({k: np.asarray(v) for k, v in columns.items()})
    return write_atomic(path, lambda p: pq.write_table(table, p))


def read_parquet(path: str | os.PathLike) -> dict[str, np.ndarray]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    return {name: table.column(name).to_numpy() for name in table.column_names}


def write_png(path: str | os.PathLike, fig, dpi: int = 110) -> Path:
    """A matplotlib figure as a PNG file, written atomically."""
    return write_atomic(path, lambda p: fig.savefig(p, format="png", dpi=dpi))


def png_bytes(fig, dpi: int | str = "figure") -> bytes:
    """A matplotlib figure as PNG bytes (for HTML reports and the dashboard); ``dpi``
    "figure" keeps the figure's own."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
