"""Miss-ratio curves: exact (Mattson's stack algorithm), SHARDS, and miniature simulation; a sharded fleet's, exact."""

from tuner.mrc.curve import METHODS, CurvesResult, default_sizes, miss_ratio_curve, miss_ratio_curves
from tuner.mrc.fleet import fleet_curves

__all__ = ["METHODS", "CurvesResult", "default_sizes", "fleet_curves", "miss_ratio_curve", "miss_ratio_curves"]
