"""Zipf popularity: the object of popularity rank k is requested with
probability proportional to 1/k^alpha. Keys are shuffled so that popularity is
not key order (a policy must not profit from id locality)."""

import numpy as np

from tuner.errors import WorkloadError
from tuner.workloads.base import Generator, Option


def zipf_keys(rng: np.random.Generator, requests: int, objects: int, *, alpha: float) -> np.ndarray:
    """``requests`` keys drawn by inverse-CDF sampling over ``objects`` ranks."""
    if not alpha > 0:
        raise WorkloadError(f"alpha must be positive, got {alpha}", parameter="alpha")
    weights = np.arange(1, objects + 1, dtype=np.float64) ** -alpha
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    ranks = np.minimum(np.searchsorted(cdf, rng.random(requests), side="right"), objects - 1)
    return rng.permutation(objects).astype(np.int64)[ranks]


GENERATOR = Generator("zipf", zipf_keys, (Option("alpha", 1.0, "Zipf exponent (higher: more skewed)"),))
