"""Helpers for the strategist dashboard (``sim/dashboard/app.py``).

``sim.dashboard.model`` (the two-scenario wrapper model), ``sim.dashboard.plots`` and ``sim.dashboard.network``
(matplotlib figures) and ``sim.dashboard.assets`` (Solara's front-end files for offline use) need
only the core dependencies; Solara itself (the ``viz`` extra) is imported by ``sim.dashboard`` alone.
"""
