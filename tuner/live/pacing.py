"""Pacing a live replay by the trace's clock: ``verify --speed N`` sends request ``i`` no earlier than
``t0 + (ts_i - ts_0) / N`` seconds of wall time, ``t0`` being when the first request went.

A real server keeps time by the wall clock (Redis's one-second LRU clock, its
LFU decay in minutes, TTLs), so a replay sent as fast as it goes compresses
the trace's hours into seconds, and the server then behaves unlike it would
in production (Redis's LRU, its idle times all equal, evicts nearly at
random). Paced at ``speed`` 1, the server's clock runs with the trace's.
Without a speed a replay goes as fast as it can (every request is due at once).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from tuner.errors import CachetuneError


def check_speed(speed: float | None) -> None:
    """A one-line CachetuneError unless ``speed`` is None (unpaced) or positive."""
    if speed is not None and not speed > 0:
        raise CachetuneError(f"speed must be positive, got {speed:g}", parameter="speed")


class Pacer:
    """When each request of a trace is due, on the monotonic clock from the first ``wait``."""

    def __init__(self, timestamps: np.ndarray, speed: float | None) -> None:
        check_speed(speed)
        paced = speed is not None and len(timestamps) > 0
        self.offsets = (timestamps - timestamps[0]) / speed if paced else None
        self.origin: float | None = None

    def wait(self, at: int, deadline: float) -> int:
        """Sleep until request ``at`` is due (or ``deadline``, monotonic seconds, comes first); one past
        the last request due by then."""
        if self.offsets is None:
            return sys.maxsize
        now = time.monotonic()
        if self.origin is None:
            self.origin = now
        due = self.origin + self.offsets[at]
        if due > now:
            time.sleep(max(0.0, min(due, deadline) - now))
            now = time.monotonic()
        return int(np.searchsorted(self.offsets, now - self.origin, side="right"))
