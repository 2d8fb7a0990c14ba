"""The launcher's config, registered as ``hydra/launcher=ray``.

No ``from __future__ import annotations`` here: Hydra loads plugin modules outside
``sys.modules``, where dataclasses cannot resolve string annotations.
"""

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore


@dataclass
class RayLauncherConf:
    _target_: str = "hydra_plugins.siyu_ray_launcher.launcher.RayLauncher"
    # keyword arguments of ray.init(). address "local": a new Ray instance of the sweep's own
    # on this machine (never a stale one from /tmp/ray); "auto" or "ray://host:10001": join a
    # running cluster (conf/hydra/launcher/ray_cluster.yaml). num_cpus null: every core.
    # Add any other ray.init argument with +hydra.launcher.init.NAME=VALUE.
    init: dict[str, Any] = field(default_factory=lambda: {
        "address": "local", "num_cpus": None, "include_dashboard": False})
    # resources of one run (ray.remote options): the model is single-threaded
    remote: dict[str, Any] = field(default_factory=lambda: {"num_cpus": 1})
    # the workers chdir to the launching directory so relative sweep dirs land in the same
    # place as with the other launchers (needs a file system the nodes share on a cluster)
    chdir_to_driver_cwd: bool = True


ConfigStore.instance().store(group="hydra/launcher", name="ray", node=RayLauncherConf,
                             provider="siyu_ray_launcher")
