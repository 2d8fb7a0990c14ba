"""The parameter declaration helper and the configuration error type."""

from __future__ import annotations

from dataclasses import field
from typing import Any


class ConfigError(ValueError):
    """A bad configuration value. ``str(err)`` is one line naming the key and what is allowed."""


def param(default: Any, lo: float | None = None, hi: float | None = None, *, unit: str = "",
          source: str = "assumption", doc: str = "", lo_open: bool = False) -> Any:
    """Declare a parameter: default, allowed range [lo, hi] (or (lo, hi] with lo_open), unit, source."""
    meta = {"lo": lo, "hi": hi, "unit": unit, "source": source, "doc": doc, "lo_open": lo_open}
    return field(default=default, metadata=meta)


def sub(factory: Any) -> Any:
    """A nested config section (a dataclass, or a function returning a configured instance)."""
    return field(default_factory=factory)


PROB = {"lo": 0.0, "hi": 1.0, "unit": "probability"}
