"""siyu-sim: an agent-based simulator of a brand's private-domain customer ecosystem."""

from sim.cli import load_config
from sim.config import Config, ConfigError, to_config
from sim.core.model import SiyuModel
from sim.run import run
from sim.version import __version__

__all__ = ["Config", "ConfigError", "SiyuModel", "__version__", "load_config", "run", "to_config"]
