"""Studies: Hydra experiments swept over arms and seeds, compared in pairs, reported in HTML.

- a study is ``experiments/NAME.yaml`` (a ``# @package _global_`` delta with its sweep and
  its :class:`~sim.experiments.callback.StudyCallback`); ``python -m sim -m experiment=NAME``
  runs it and writes ``report.html`` in its sweep dir;
- :mod:`~sim.experiments.job` runs one job (resumable: finished runs are skipped);
- :mod:`~sim.experiments.aggregate` reads a sweep dir into a row-per-run table;
- :mod:`~sim.experiments.stats` / :mod:`~sim.experiments.analysis`: paired differences with
  t intervals over seeds; :mod:`~sim.experiments.report`: the HTML report;
- ``python -m sim.experiments report SWEEP_DIR`` rebuilds a report from saved files.
"""

from sim.experiments.stats import Interval, paired_difference, t_interval
from sim.experiments.study import KPIS, StudySpec

__all__ = ["KPIS", "Interval", "StudySpec", "paired_difference", "t_interval"]
