"""Calibration: fit a preset's free parameters to target figures with Optuna.

``python -m sim.calibration --preset car --trials 40 --out DIR`` (docs/calibration.md). From
Python::

    from sim.calibration import PROBLEMS, calibrate
    result = calibrate(PROBLEMS["phone"], "outputs/calibration/phone", trials=30)
    result.best          # {"channels.personal_wechat.monthly_churn": ..., ...}
"""

from sim.calibration.core import (
    CalibrationResult,
    Evaluator,
    calibrate,
    hydra_overrides,
    objective,
    open_study,
    set_values,
)
from sim.calibration.problems import (
    MEASURES,
    PROBLEMS,
    Arm,
    CalibrationError,
    Param,
    Problem,
    Target,
    get_problem,
    measure,
)
from sim.calibration.report import install_presets, preset_texts

__all__ = ["MEASURES", "PROBLEMS", "Arm", "CalibrationError", "CalibrationResult", "Evaluator",
           "Param", "Problem", "Target", "calibrate", "get_problem", "hydra_overrides",
           "install_presets", "measure", "objective", "open_study", "preset_texts", "set_values"]
