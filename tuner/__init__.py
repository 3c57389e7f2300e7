"""cachetune: measure and tune cache eviction policies on your own traffic."""

from tuner import numba_cache  # noqa: F401  (must run before numba is imported)
from tuner.analyze import TraceAnalysis, analyze
from tuner.bench import BenchResult, bench
from tuner.capacity import Capacity, parse_capacity
from tuner.engine.replay import ReplayResult, replay
from tuner.errors import CachetuneError
from tuner.mrc import CurvesResult, fleet_curves, miss_ratio_curve, miss_ratio_curves
from tuner.optimize import OptimizeResult, optimize
from tuner.policies import POLICIES, get_policy
from tuner.readers import read_trace
from tuner.shards import ShardResult, shard_replay
from tuner.trace import Trace
from tuner.workloads import generate

__version__ = "0.1.0"

__all__ = [
    "POLICIES",
    "BenchResult",
    "CachetuneError",
    "Capacity",
    "CurvesResult",
    "OptimizeResult",
    "ReplayResult",
    "ShardResult",
    "Trace",
    "TraceAnalysis",
    "analyze",
    "bench",
    "fleet_curves",
    "generate",
    "get_policy",
    "miss_ratio_curve",
    "miss_ratio_curves",
    "optimize",
    "parse_capacity",
    "read_trace",
    "replay",
    "shard_replay",
]
