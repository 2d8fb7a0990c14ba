"""siyu-sim's sweepers, where Hydra looks for plugins (sim/experiments/sweeper.py).

A study config selects the study sweeper with
``hydra.sweeper._target_: hydra_plugins.siyu_study_sweeper.study_sweeper.StudySweeper``;
every other sweep runs :class:`PlannedSweeper` (conf/config.yaml).
"""

from sim.experiments.sweeper import PlannedSweeperBase, StudySweeperBase


class PlannedSweeper(PlannedSweeperBase):
    """Hydra's basic sweeper, without composing every job once more before launching it."""


class StudySweeper(StudySweeperBase):
    """Runs a factorial, uncertainty or optimisation study's design (sim/experiments/design.py)."""
