import sys

from sim.fit.cli import main

sys.exit(main())
