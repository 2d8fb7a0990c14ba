"""Read a brand's transaction log (CSV or Parquet) and check it row by row.

Required columns (names configurable): ``customer_id`` (any text or number), ``date`` (a
calendar date: ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM[:SS]``, ``YYYY/MM/DD`` or ``YYYYMMDD``;
the time of day is dropped) and ``amount`` (a number >= 0, in the brand's currency).
Optional: ``channel`` (where the purchase was made), ``member`` (is the buyer in the
private domain: 1/0, true/false, yes/no) and ``referred_by`` (who brought the customer;
empty = nobody), used when present.

Nothing is dropped silently. A row that cannot be read (missing id, a date that is not a
date, an amount that is not a number or is negative) is an error: :class:`LogError` lists
one line per kind of problem with its count and the first line numbers (CSV: the line in
the file, header = line 1; Parquet: the row, first = 1), and nothing is written. Rows that
are read but not used (non-member purchases when a ``member`` column is given) are counted
in :attr:`TransactionLog.notes` and the report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SHOW_LINES = 5          # line numbers shown per kind of problem
TRUE = {"1", "true", "t", "yes", "y", "member"}
FALSE = {"0", "false", "f", "no", "n", "", "non-member", "nonmember"}


class LogError(ValueError):
    """A transaction log that cannot be used: one line per kind of problem."""


@dataclass
class Columns:
    customer_id: str = "customer_id"
    date: str = "date"
    amount: str = "amount"
    channel: str | None = "channel"          # optional: used when the file has it
    member: str | None = "member"
    referred_by: str | None = "referred_by"


@dataclass
class TransactionLog:
    """A checked log: one row per transaction, dates as ``datetime64[D]``."""

    customer: np.ndarray                     # int64 codes 0..n_customers-1
    date: np.ndarray                         # datetime64[D]
    amount: np.ndarray                       # float64 >= 0
    labels: np.ndarray                       # original customer ids (str), by code
    channel: np.ndarray | None = None        # str per row
    referred: np.ndarray | None = None       # bool per customer (code): brought by someone
    source: str = ""
    rows_read: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def n_customers(self) -> int:
        return len(self.labels)

    @property
    def first_date(self) -> np.datetime64:
        return self.date.min()

    @property
    def last_date(self) -> np.datetime64:
        return self.date.max()


# --------------------------------------------------------------------------- reading


def _read_table(path: Path, delimiter: str | None, header: bool) -> tuple[dict[str, np.ndarray], int]:
    """Every column as strings, and the line number of the first data row."""
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as exc:
            raise LogError(f"{path}: not a readable Parquet file ({exc})") from None
        cols = {}
        for name in table.column_names:
            col = table.column(name)
            import pyarrow as pa
            import pyarrow.compute as pc

            if pa.types.is_timestamp(col.type) or pa.types.is_date(col.type):
                col = pc.strftime(col.cast(pa.timestamp("s")), format="%Y-%m-%d")
            arr = np.array([("" if v is None else str(v)) for v in col.to_pylist()], dtype=object)
            cols[name] = arr
        return cols, 1
    if suffix not in (".csv", ".txt", ".tsv", ".gz"):
        raise LogError(f"{path}: unknown file type {suffix!r}; give a .csv (or .txt/.tsv) or "
                       ".parquet file")
    import csv
    import gzip
    import io

    opener = gzip.open if suffix == ".gz" else open
    with opener(path, "rt", newline="", encoding="utf-8-sig") as fh:
        text = fh.read()
    if delimiter == "whitespace":
        rows = [line.split() for line in text.splitlines()]
    else:
        delim = {"tab": "\t", None: None}.get(delimiter, delimiter)
        if delim is None:
            delim = "\t" if suffix == ".tsv" else ","
        rows = list(csv.reader(io.StringIO(text), delimiter=delim))
    if not rows:
        raise LogError(f"{path}: empty file")
    if header:
        names, body, first_line = [c.strip() for c in rows[0]], rows[1:], 2
    else:
        names = [f"col{i + 1}" for i in range(max(len(r) for r in rows))]
        body, first_line = rows, 1
    width = len(names)
    # blank lines: skipped, but counted and reported
    blank = [i for i, r in enumerate(body) if not any(c.strip() for c in r)]
    bad_width = [i for i, r in enumerate(body) if any(c.strip() for c in r) and len(r) != width]
    if bad_width:
        raise LogError(_problem(f"rows with {'a different number of fields than the header' if header else 'a different number of fields'} "
                                f"({width})", np.array(bad_width), first_line, "line"))
    keep = [r for r in body if any(c.strip() for c in r)]
    cols = {n: np.array([r[j].strip() for r in keep], dtype=object) for j, n in enumerate(names)}
    # line numbers of kept rows
    lines = np.array([i for i, r in enumerate(body) if any(c.strip() for c in r)]) + first_line
    cols["__line__"] = lines
    if blank:
        cols["__blank__"] = np.array(blank) + first_line
    return cols, first_line


def _problem(what: str, idx: np.ndarray, first_line: int, unit: str, lines=None) -> str:
    nums = (lines[idx] if lines is not None else idx + first_line)[:SHOW_LINES]
    more = "" if len(idx) <= SHOW_LINES else ", ..."
    return f"{len(idx):,} {what} ({unit}s {', '.join(str(int(n)) for n in nums)}{more})"


_ISO = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T].*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\.0+)?$")


def parse_dates(values: np.ndarray) -> np.ndarray:
    """Strings -> ``datetime64[D]``; NaT where a value is not a date."""
    out = np.full(len(values), np.datetime64("NaT", "D"), dtype="datetime64[D]")
    for i, v in enumerate(values):
        m = _ISO.match(v) or _COMPACT.match(v)
        if m is None:
            continue
        y, mo, d = (int(g) for g in m.groups())
        try:
            out[i] = np.datetime64(f"{y:04d}-{mo:02d}-{d:02d}", "D")
        except ValueError:
            continue
    return out


def _parse_amounts(values: np.ndarray) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        try:
            x = float(v.replace(",", "")) if v else np.nan
        except ValueError:
            continue
        out[i] = x
    return out


def read_log(path: str | Path, columns: Columns | None = None, *, delimiter: str | None = None,
             header: bool = True, member_only: bool = True) -> TransactionLog:
    """Read and check a transaction log; raise :class:`LogError` listing every problem."""
    path = Path(path)
    cols_spec = columns or Columns()
    if not path.is_file():
        raise LogError(f"{path}: no such file")
    cols, first_line = _read_table(path, delimiter, header)
    lines = cols.pop("__line__", None)
    blank = cols.pop("__blank__", None)
    unit = "line" if lines is not None else "row"
    names = list(cols)
    missing = [c for c in (cols_spec.customer_id, cols_spec.date, cols_spec.amount) if c not in cols]
    if missing:
        raise LogError(f"{path}: no column {', '.join(repr(m) for m in missing)}; the file has "
                       f"{', '.join(repr(n) for n in names)} (name yours with --customer-col, "
                       "--date-col, --amount-col)")
    cid = cols[cols_spec.customer_id]
    n = len(cid)
    if n == 0:
        raise LogError(f"{path}: no transactions (only a header)")
    problems: list[str] = []

    def flag(what: str, bad: np.ndarray) -> None:
        idx = np.flatnonzero(bad)
        if len(idx):
            problems.append(_problem(what, idx, first_line, unit, lines))

    raw_dates = cols[cols_spec.date]
    dates = parse_dates(raw_dates)
    amounts = _parse_amounts(cols[cols_spec.amount])
    flag(f"rows without a customer id (column {cols_spec.customer_id!r})", cid == "")
    flag(f"rows without a date (column {cols_spec.date!r})", raw_dates == "")
    flag(f"rows whose date is not a date (want YYYY-MM-DD or YYYYMMDD; column {cols_spec.date!r})",
         (raw_dates != "") & np.isnat(dates))
    raw_amt = cols[cols_spec.amount]
    flag(f"rows without an amount (column {cols_spec.amount!r})", raw_amt == "")
    flag(f"rows whose amount is not a number (column {cols_spec.amount!r})",
         (raw_amt != "") & ~np.isfinite(amounts))
    flag(f"rows with a negative amount (refunds and returns: net them into the purchase or "
         f"remove them; column {cols_spec.amount!r})", np.isfinite(amounts) & (amounts < 0))
    member = None
    if cols_spec.member and cols_spec.member in cols:
        mv = np.char.lower(cols[cols_spec.member].astype(str))
        ok_t, ok_f = np.isin(mv, list(TRUE)), np.isin(mv, list(FALSE))
        flag(f"rows whose member flag is not 1/0, true/false or yes/no (column "
             f"{cols_spec.member!r})", ~(ok_t | ok_f))
        member = ok_t
    if problems:
        raise LogError(f"{path}: {n:,} rows read, cannot use the log:\n  - " + "\n  - ".join(problems))

    notes = []
    if blank is not None and len(blank):
        notes.append(f"{len(blank):,} blank lines skipped (lines "
                     f"{', '.join(map(str, blank[:SHOW_LINES]))}{', ...' if len(blank) > SHOW_LINES else ''})")
    keep = np.ones(n, dtype=bool)
    if member is not None and member_only:
        keep = member
        if (~keep).any():
            notes.append(f"{int((~keep).sum()):,} of {n:,} rows are purchases by non-members "
                         f"(column {cols_spec.member!r}): not used; the simulator's log holds "
                         "private-domain purchases only")
        if not keep.any():
            raise LogError(f"{path}: no row is a member purchase (column {cols_spec.member!r})")
    labels, codes = np.unique(cid[keep].astype(str), return_inverse=True)
    log = TransactionLog(customer=codes.astype(np.int64), date=dates[keep],
                         amount=amounts[keep].astype(np.float64), labels=labels,
                         source=str(path), rows_read=n, notes=notes)
    if cols_spec.channel and cols_spec.channel in cols:
        log.channel = cols[cols_spec.channel][keep].astype(str)
    if cols_spec.referred_by and cols_spec.referred_by in cols:
        ref = cols[cols_spec.referred_by][keep].astype(str)
        has = np.isin(np.char.lower(ref), ["", "none", "nan", "null", "0"], invert=True)
        log.referred = np.bincount(log.customer, weights=has, minlength=len(labels)) > 0
    return log


__all__ = ["Columns", "LogError", "TransactionLog", "parse_dates", "read_log"]
