"""cachetune: measure and tune cache eviction policies on your own traffic."""

from tuner import numba_cache  # noqa: F401  (must run before numba is imported)
from tuner.capacity import Capacity, parse_capacity
from tuner.engine.replay import ReplayResult, replay
from tuner.policies import POLICIES, get_policy
from tuner.trace import Trace

__version__ = "0.1.0"

__all__ = ["POLICIES", "Capacity", "ReplayResult", "Trace", "get_policy", "parse_capacity", "replay"]
