"""siyu-sim's Hydra launcher on Ray: ``hydra/launcher=ray`` (a Ray instance of its own) and
``hydra/launcher=ray_cluster`` (``conf/hydra/launcher/ray_cluster.yaml``: join a running
cluster). Built on Ray's public API only (``ray.init``, ``ray.remote``, ``ray.get``), so it
works with current Ray releases; see experiments/README.md.

Lives in the ``hydra_plugins`` namespace package, where Hydra discovers launchers. Importing
it does not import Ray (Hydra imports every plugin on every start); the launch does.
"""
