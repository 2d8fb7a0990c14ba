"""``python -m sim.calibration --preset car``: calibrate a preset (docs/calibration.md)."""

import sys

from sim.calibration.cli import main

sys.exit(main())
