"""siyu-sim's study sweeper, where Hydra looks for plugins (sim/experiments/sweeper.py).

A study config selects it with
``hydra.sweeper._target_: hydra_plugins.siyu_study_sweeper.study_sweeper.StudySweeper``.
"""

from sim.experiments.sweeper import StudySweeperBase


class StudySweeper(StudySweeperBase):
    """Runs a factorial, uncertainty or optimisation study's design (sim/experiments/design.py)."""
