"""Helpers for the strategist dashboard (``sim/app.py``).

``sim.viz.model`` (the two-scenario wrapper model), ``sim.viz.plots`` and ``sim.viz.network``
(matplotlib figures) and ``sim.viz.assets`` (Solara's front-end files for offline use) need
only the core dependencies; Solara itself (the ``viz`` extra) is imported by ``sim.app`` alone.
"""
