"""The strategist dashboard (``python -m sim.dashboard``; docs/dashboard.md).

``sim.dashboard.model`` (baseline and arm on paired seeds, a ``mesa.Model``),
``sim.dashboard.plots`` (KPI table with paired intervals, plots), ``sim.dashboard.network``
(the private domain's structure on a sample), ``sim.dashboard.export`` (the downloads) and
``sim.dashboard.assets`` (Solara's front-end files for offline use) need only the core
dependencies; Solara itself (the ``viz`` extra) is imported by ``sim.dashboard.app`` alone.
"""
