"""Fit the simulator to a brand's own transaction log (docs/fit.md).

``python -m sim.fit --transactions FILE --out DIR [--calibration-end YYYY-MM-DD]`` reads a
CSV or Parquet log (customer_id, date, amount), derives what the brand knows about itself,
calibrates a market preset to it (``sim.calibration``'s Optuna study on common seeds,
resumable) and writes the preset, a fit report and ``DIR/forecast.csv``. From Python::

    from sim.fit import read_log, prepare, build_problem, fit
    log = read_log("tx.csv")
    spec = prepare(log, calibration_end="1997-09-30")
    result = fit(spec, build_problem(spec, trials=40), "outputs/fit/mybrand")
"""

from sim.fit.core import FitResult, FitSpec, build_problem, fit, prepare
from sim.fit.ingest import Columns, LogError, TransactionLog, read_log

__all__ = ["Columns", "FitResult", "FitSpec", "LogError", "TransactionLog", "build_problem", "fit",
           "prepare", "read_log"]
