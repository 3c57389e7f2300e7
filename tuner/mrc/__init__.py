"""Miss-ratio curves: exact (Mattson's stack algorithm), SHARDS, and miniature simulation."""

from tuner.mrc.curve import METHODS, default_sizes, miss_ratio_curve

__all__ = ["METHODS", "default_sizes", "miss_ratio_curve"]
