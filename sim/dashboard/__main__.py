"""``python -m sim.dashboard``: the strategist dashboard (docs/dashboard.md)."""

from sim.dashboard.app import main

main()
