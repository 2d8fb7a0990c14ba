"""Dotted config keys (``strategy.promotion.depth``): one walker for every module that reads,
sets, flattens or nests them."""

from __future__ import annotations

from typing import Any

_MISSING = object()


def parent_of(obj: Any, key: str) -> tuple[Any, str]:
    """The object holding the last part of ``key``, and that part's name."""
    *path, name = key.split(".")
    for part in path:
        obj = getattr(obj, part)
    return obj, name


def get_key(obj: Any, key: str, default: Any = _MISSING) -> Any:
    """The value at dotted ``key`` (``default`` if a part is missing, else AttributeError)."""
    for part in key.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            if default is _MISSING:
                raise
            return default
    return obj


def flatten(d: dict, prefix: str = "") -> dict[str, Any]:
    """A nested dict as ``{dotted key: value}``."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def nest(values: dict[str, Any]) -> dict[str, Any]:
    """``{dotted key: value}`` as a nested dict (the inverse of :func:`flatten`)."""
    out: dict[str, Any] = {}
    for key, v in values.items():
        *path, name = key.split(".")
        d = out
        for part in path:
            d = d.setdefault(part, {})
        d[name] = v
    return out
