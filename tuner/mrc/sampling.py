"""Spatial sampling: keep every request for a hashed subset of the objects.

Sampling objects rather than requests keeps each sampled object's whole
reuse pattern, so a sample of rate R behaves like the full trace seen
through a cache R times smaller (Waldspurger et al., FAST 2015 and ATC
2017). An object is kept when ``hash(id) mod P < T`` with ``P = 2**24`` and
``T = round(R * P)``; the hash is splitmix64 of the dense id mixed with the
seed, so a sample depends only on the trace, the rate and the seed, and a
lower rate's sample is a subset of a higher one's. The sample is gathered
block by block, so a memory-mapped trace costs memory for its sample only.
"""

from __future__ import annotations

import numpy as np

from tuner.errors import CachetuneError
from tuner.seeds import DEFAULT_SEED
from tuner.trace import Trace, chunks

MODULUS_BITS = 24
MODULUS = 1 << MODULUS_BITS


def _splitmix64(values: np.ndarray) -> np.ndarray:
    """Steele, Lea and Flood's splitmix64 finaliser (uint64 arithmetic wraps)."""
    mixed = values + np.uint64(0x9E3779B97F4A7C15)
    mixed = (mixed ^ (mixed >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    mixed = (mixed ^ (mixed >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return mixed ^ (mixed >> np.uint64(31))


def check_rate(rate: float) -> None:
    """Refuse a sampling rate outside (0, 1]; it is the user's ``sample_rate`` wherever one reaches here."""
    if not 0.0 < rate <= 1.0:
        raise CachetuneError(f"sample_rate must be in (0, 1], got {rate:g}", parameter="sample_rate")


def threshold(rate: float) -> int:
    """``T`` for a sampling rate: objects whose hash mod ``MODULUS`` is below it are kept."""
    check_rate(rate)
    return max(1, round(rate * MODULUS))


def object_hashes(n_objects: int, seed: int = DEFAULT_SEED) -> np.ndarray:
    """Each dense object id's hash modulo ``MODULUS``."""
    salt = _splitmix64(np.array([seed], np.uint64))[0]
    ids = np.arange(n_objects, dtype=np.uint64) ^ salt
    return (_splitmix64(ids) & np.uint64(MODULUS - 1)).astype(np.int64)


def sampled_objects(n_objects: int, rate: float, seed: int = DEFAULT_SEED) -> np.ndarray:
    """Which dense object ids are sampled at ``rate``."""
    return object_hashes(n_objects, seed) < threshold(rate)


def sample_mask(trace: Trace, rate: float, seed: int = DEFAULT_SEED) -> np.ndarray:
    """Which of ``trace``'s requests belong to the objects sampled at ``rate``."""
    return sampled_objects(trace.n_objects, rate, seed)[trace.ids]


def sampled_columns(trace: Trace, rate: float, seed: int, names: tuple[str, ...]) -> list[np.ndarray]:
    """The named columns of ``trace`` at the requests of the objects sampled at ``rate``, gathered block by
    block (no mask as long as the trace)."""
    kept = sampled_objects(trace.n_objects, rate, seed)
    parts: list[list[np.ndarray]] = [[] for _ in names]
    for block in chunks(len(trace)):
        mask = kept[trace.ids[block]]
        for gathered, name in zip(parts, names, strict=True):
            gathered.append(getattr(trace, name)[block][mask])
    return [np.concatenate(gathered) if gathered else getattr(trace, name)[:0]
            for gathered, name in zip(parts, names, strict=True)]  # fmt: skip


def sample_trace(trace: Trace, rate: float, seed: int = DEFAULT_SEED) -> Trace:
    """The requests of the objects sampled at ``rate``, as a trace of their own.

    Its keys are the full trace's dense ids (``trace.keys`` maps them back).
    """
    columns = ("ids", "timestamps", "sizes", "ops", "ttls")
    return Trace.from_arrays(
        *sampled_columns(trace, rate, seed, columns),
        name=f"{trace.name} (sampled at {rate:g})",
        info={**trace.info, "sample_rate": rate, "sample_seed": seed},
    )
