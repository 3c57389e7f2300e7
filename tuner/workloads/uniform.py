"""Uniform popularity: every object equally likely; no policy beats another by much."""

import numpy as np

from tuner.workloads.base import Generator


def uniform_keys(rng: np.random.Generator, requests: int, objects: int) -> np.ndarray:
    """``requests`` keys drawn uniformly from ``objects``."""
    return rng.integers(0, objects, requests, dtype=np.int64)


GENERATOR = Generator("uniform", uniform_keys)
