"""Zipf popularity interrupted by scans: the case scan-resistant policies exist for.

A share ``scan_share`` of the requests are sequential scans of ``scan_length``
keys that are never requested again (a backup, a crawler, a batch report);
the rest follow Zipf(``alpha``) over ``objects`` popular keys, as in
``zipf``. Each scan pushes one-time keys through the cache: LRU and FIFO
evict the popular set to hold them, while ARC, 2Q, S3-FIFO or LFU keep it
(O'Neil et al., "The LRU-K page replacement algorithm", SIGMOD 1993, use the
same mix to motivate scan resistance).
"""

import numpy as np

from tuner.errors import WorkloadError
from tuner.workloads.base import Generator, Option
from tuner.workloads.zipf import zipf_keys


def zipf_scan_keys(rng: np.random.Generator, requests: int, objects: int, *, alpha: float, scan_share: float,
                   scan_length: int) -> np.ndarray:  # fmt: skip
    """Zipf keys ``0..objects-1`` with whole scans of fresh keys (``objects`` upward) at random places."""
    if not 0.0 <= scan_share < 1.0:
        raise WorkloadError(f"scan_share must be at least 0 and below 1, got {scan_share}", parameter="scan_share")
    if scan_length < 1:
        raise WorkloadError(f"scan_length must be at least 1, got {scan_length}", parameter="scan_length")
    scans = int(requests * scan_share) // scan_length
    popular = zipf_keys(rng, requests - scans * scan_length, objects, alpha=alpha)
    # Scan i starts after the popular request at places[i] (sorted), shifted by the scans before it.
    places = np.sort(rng.integers(0, len(popular) + 1, scans))
    starts = places + np.arange(scans) * scan_length
    in_scan = np.zeros(requests, bool)
    offsets = (starts[:, None] + np.arange(scan_length)).ravel()
    in_scan[offsets] = True
    keys = np.empty(requests, np.int64)
    keys[~in_scan] = popular
    keys[in_scan] = objects + np.arange(scans * scan_length)
    return keys


GENERATOR = Generator(
    "zipf-scan",
    zipf_scan_keys,
    (
        Option("alpha", 0.8, "Zipf exponent of the popular keys"),
        Option("scan_share", 0.2, "share of requests in scans of one-time keys (below 1)"),
        Option("scan_length", 2_000, "keys per scan"),
    ),
)
