"""Uniform popularity: every object equally likely; no policy beats another by much."""

import numpy as np


def uniform_keys(rng: np.random.Generator, requests: int, objects: int) -> np.ndarray:
    """``requests`` keys drawn uniformly from ``objects``."""
    return rng.integers(0, objects, requests, dtype=np.int64)
