"""docs/mechanisms.md, generated from the declarations (``python scripts/gen_docs.py``).

One table per phase of the day (the config keys each mechanism reads, the columns it owns,
the results it writes), the model's own columns and results, and every column of the
daily series with its unit, kind and declaring mechanism. Nothing here is written by hand:
``tests/test_contract.py`` fails when the file differs from what this module generates.
"""

from __future__ import annotations

import numpy as np

from sim.core.flows import CORE_RESULTS
from sim.core.loop import PHASES
from sim.core.mechanisms.base import Column, Result
from sim.core.population import CORE_COLUMNS

KIND_TEXT = {
    "count": "count (x scale)", "money": "yuan (x scale)", "fixed": "count/yuan (real)",
    "level": "level", "stock": "stock (x scale)", "signal": "signal (not in series)",
}


def _first_line(doc: str | None) -> str:
    return " ".join((doc or "").strip().split("\n\n")[0].split())


def _dtype(col: Column) -> str:
    return np.dtype(col.dtype).name


def _fill(col: Column) -> str:
    return "a parameter" if callable(col.fill) else repr(col.fill)


def _columns_table(cols: tuple[Column, ...]) -> list[str]:
    if not cols:
        return ["Columns: none."]
    lines = ["| column | dtype | fill | meaning |", "|---|---|---|---|"]
    lines += [f"| `{c.name}` | {_dtype(c)} | {_fill(c)} | {c.doc} |" for c in cols]
    return lines


def _results_table(results: tuple[Result, ...]) -> list[str]:
    if not results:
        return ["Results: none."]
    lines = ["| result | unit | kind | meaning |", "|---|---|---|---|"]
    lines += [f"| `{r.name}` | {r.unit} | {KIND_TEXT[r.kind]} | {r.doc}"
              + (f" (run total: `{r.total}`)" if r.total else "") + " |" for r in results]
    return lines


def mechanisms_markdown() -> str:
    """The text of docs/mechanisms.md."""
    import sys

    out = [
        "# Mechanisms: what each phase reads, owns and writes",
        "",
        "Generated from the mechanism classes by `python scripts/gen_docs.py`; do not edit by",
        "hand (`tests/test_contract.py` checks it). The contract is in",
        "`sim/core/mechanisms/base.py`; the phase order in `sim/core/loop.py`. A mechanism that",
        "reads a config key it does not declare fails when it runs. Kinds: `count` and `money`",
        "are summed over the day and reported x `population.scale`; `fixed` are real accounts,",
        "groups or fixed costs (not scaled); `level` is the day's value; `stock` is computed",
        "from the columns at the day's end; `signal` passes between phases within a day.",
        "",
        "## The day, phase by phase",
        "",
        "| # | phase | what it does | config keys read |",
        "|---|---|---|---|",
    ]
    for i, cls in enumerate(PHASES, 1):
        reads = ", ".join(f"`{r}`" for r in cls.reads) or "none"
        out.append(f"| {i} | `{cls.name}` | {cls.doc} | {reads} |")
    out.append(f"| {len(PHASES) + 1} | `metrics` | the day's row is computed from the columns "
               "and collected | none |")
    for cls in PHASES:
        module = sys.modules[cls.__module__]
        out += ["", f"## `{cls.name}` ({cls.__module__.replace('.', '/')}.py)", "",
                _first_line(module.__doc__), ""]
        out += _columns_table(cls.columns) + [""] + _results_table(cls.results)
    out += ["", "## The model itself (sim/core/population.py, sim/core/flows.py)", "",
            "Traits, the lifecycle and the purchase ledger; users join, leave and buy through "
            "`SiyuModel.join`, `leave` and `book`.", ""]
    out += _columns_table(CORE_COLUMNS) + [""] + _results_table(CORE_RESULTS)
    out += ["", "## Series columns (series.parquet)", "",
            "One row per simulated day, in this order.", "",
            "| column | unit | kind | declared by |", "|---|---|---|---|"]
    owners = [("model", r) for r in CORE_RESULTS] + [
        (cls.name, r) for cls in PHASES for r in cls.results]
    out += [f"| `{r.name}` | {r.unit} | {KIND_TEXT[r.kind]} | {who} |"
            for who, r in owners if r.in_series]
    return "\n".join(out) + "\n"
