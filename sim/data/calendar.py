"""Simulated days as calendar dates: the one place that maps a day index to a date.

The model counts days from 1 (``calendar.start_date``, default 2025-01-01, is day 1; the
model has no seasonality, so the date is a label). Exports carry both: the integer ``day``
and a ``date`` column, midnight of that day as ``datetime64[s]`` (parquet ``timestamp[ms]``,
no time zone), which pandas reads as ``datetime64`` (``.dt`` works; a parquet ``date32``
would come back as Python objects), polars as ``Datetime``, DuckDB as ``TIMESTAMP``, and
lifetimes' ``summary_data_from_transaction_data`` and pymc-marketing's ``rfm_summary`` as
dates without conversion (an integer ``date`` is read as nanoseconds since 1970: every
customer gets frequency 0 and T 0).
"""

from __future__ import annotations

import numpy as np

DEFAULT_START = "2025-01-01"   # = sim.config.CalendarConfig.start_date's default


def start(start_date: str | np.datetime64 = DEFAULT_START) -> np.datetime64:
    """``start_date`` (YYYY-MM-DD) as ``datetime64[D]``; ValueError if it is not a date."""
    try:
        return np.datetime64(start_date, "D")
    except ValueError:
        raise ValueError(f"{start_date!r} is not a date (YYYY-MM-DD)") from None


def to_dates(day: np.ndarray, start_date: str | np.datetime64 = DEFAULT_START) -> np.ndarray:
    """Day index (1 = ``start_date``) -> ``datetime64[D]``."""
    return start(start_date) + (np.asarray(day).astype(np.int64) - 1).astype("timedelta64[D]")


def to_days(dates: np.ndarray, start_date: str | np.datetime64 = DEFAULT_START) -> np.ndarray:
    """``datetime64`` dates -> day index (``start_date`` = 1), int64."""
    d = np.asarray(dates).astype("datetime64[D]")
    return (d - start(start_date)).astype(np.int64) + 1


def with_dates(columns: dict[str, np.ndarray], start_date: str | np.datetime64 = DEFAULT_START
               ) -> dict[str, np.ndarray]:
    """The columns of a series or a transaction log with a calendar ``date`` beside ``day``.

    A series has ``day``: ``date`` is inserted after it. A transaction log whose ``date`` is
    an integer day index (``SiyuModel.transaction_log()``) gets ``day`` (that index) and
    ``date`` (the calendar date) in its place. Columns that already carry dates are kept.
    """
    out: dict[str, np.ndarray] = {}

    def stamp(day: np.ndarray) -> np.ndarray:
        return to_dates(day, start_date).astype("datetime64[s]")

    if "day" in columns:
        for k, v in columns.items():
            if k == "date":
                continue
            out[k] = v
            if k == "day":
                out["date"] = stamp(v)
        return out
    date = columns.get("date")
    if date is None or np.issubdtype(np.asarray(date).dtype, np.datetime64):
        return dict(columns)
    for k, v in columns.items():
        if k == "date":
            out["date"] = stamp(v)
            out["day"] = np.asarray(v).astype(np.int32)
        else:
            out[k] = v
    return out


__all__ = ["DEFAULT_START", "start", "to_dates", "to_days", "with_dates"]
