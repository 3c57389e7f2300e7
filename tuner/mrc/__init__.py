"""Miss-ratio curves: exact (Mattson's stack algorithm), SHARDS, and miniature simulation."""

from tuner.mrc.curve import METHODS, CurvesResult, default_sizes, miss_ratio_curve, miss_ratio_curves

__all__ = ["METHODS", "CurvesResult", "default_sizes", "miss_ratio_curve", "miss_ratio_curves"]
