"""A trace routed once over a fleet of shards, replayed many times: what ``mrc --shards`` and
``optimize --shards`` need beyond ``tuner.shards.shard_replay``.

Routing a trace (hashing every key) and cutting it into the shards' sub-traces
costs more than a replay, so a ``Fleet`` does both once and keeps them. Its
``replay`` gives the fleet's figures as one ``ReplayResult``: counts summed
over the shards (each replayed alone at the per-shard capacity, as
``shard_replay`` does), spans in the whole trace's time, and checkpoints and
timeline windows at positions of the whole trace. A position of the whole
trace (a held-out cut, a window's end) falls in each shard's sub-trace after
that shard's requests before it, so the cut is at the same instant for every
shard: the trace is cut first, then routed.

The fleet's ``dirty_peak`` is the sum of the shards' peaks: the most dirty
objects the fleet can hold at once (the shards' peaks need not coincide).
``window_backend_writes`` is left out (None): the shards' windows start at
their own first request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from tuner.capacity import Capacity
from tuner.engine.replay import HOUR, ReplayResult, replay
from tuner.shards import check_shards, shard_of_objects, shard_parts, sub_trace, summed_counts
from tuner.trace import Trace

# ReplayResult's tallies that add up over shards.
_SUMMED = ("evictions", "used", "resident", "backend_writes", "writebacks", "invalidations", "expirations",
           "rejected", "dirty_peak", "dirty_at_end", "seconds")  # fmt: skip


@dataclass(frozen=True, eq=False)
class Fleet:
    """``trace`` routed over ``shards`` caches by ``hash``; ``routing`` is each object's shard."""

    trace: Trace
    shards: int
    hash: str
    routing: np.ndarray = field(repr=False)
    _prefixes: dict[int, Fleet] = field(default_factory=dict, repr=False)

    @classmethod
    def route(cls, trace: Trace, shards: int, hash: str = "redis-cluster") -> Fleet:
        """Route ``trace``'s keys as ``tuner.shards.shard_of_objects`` does."""
        check_shards(shards, hash, hash_parameter="shard_hash")
        return cls(trace, int(shards), hash, shard_of_objects(trace, shards, hash))

    @cached_property
    def positions(self) -> tuple[np.ndarray, ...]:
        """Each shard's requests' positions in the whole trace, in order."""
        by_request = self.routing[self.trace.ids]
        return tuple(np.flatnonzero(by_request == shard) for shard in range(self.shards))

    @cached_property
    def parts(self) -> tuple[Trace, ...]:
        """Each shard's requests as a trace of their own (``tuner.shards.sub_trace``)."""
        return tuple(map(shard_parts(self.trace, self.routing), range(self.shards)))

    def prefix(self, stop: int) -> Fleet:
        """The fleet of the trace's first ``stop`` requests (kept: trials replay the same prefixes again)."""
        if stop == len(self.trace):
            return self
        if stop not in self._prefixes:
            # Ids are dense in order of first appearance, so the prefix keeps its ids (and the routing's start).
            part = sub_trace(self.trace, np.arange(len(self.trace)) < stop, self.trace.name)
            self._prefixes[stop] = Fleet(part, self.shards, self.hash, self.routing[: part.n_objects])
        return self._prefixes[stop]

    def local(self, positions) -> np.ndarray:
        """Each shard's position for each of the whole trace's ``positions``: a row per shard."""
        marks = np.asarray(positions, np.int64)
        return np.array([np.searchsorted(own, marks, side="left") for own in self.positions], np.int64)

    def working_set(self, unit: str) -> int:
        """The largest shard's working set in ``unit`` (objects or bytes): a per-shard size holding everything."""
        return max((part.n_objects if unit == "objects" else part.working_set_bytes for part in self.parts),
                   default=0)  # fmt: skip

    def replay(self, policy: str, capacity: Capacity, *, checkpoints=(), window_seconds: float = HOUR,
               **options: Any) -> ReplayResult:  # fmt: skip
        """Every shard replayed alone at ``capacity`` each (``tuner.replay`` with ``options``), as the fleet's
        one result; ``checkpoints`` are positions in the whole trace."""
        trace = self.trace
        window_ends = trace.window_ends(window_seconds) if len(trace) else np.zeros(0, np.int64)
        marks = np.union1d(np.asarray(checkpoints, np.int64), window_ends).astype(np.int64)
        local = self.local(marks)
        results = []
        for shard, part in enumerate(self.parts):
            own = tuple(int(position) for position in np.unique(local[shard]))
            results.append(replay(part, policy, capacity, checkpoints=own, window_seconds=window_seconds, **options))
        before = [summed_counts([one.counts_before(int(local[shard][k])) for shard, one in enumerate(results)],
                          _span_before(trace, int(mark))) for k, mark in enumerate(marks)]  # fmt: skip
        at_mark = dict(zip(marks.tolist(), before, strict=True))
        at_window_end = [at_mark[int(end)] for end in window_ends]
        misses_so_far = np.array([0.0, *(counts.misses for counts in at_window_end)])
        hit_bytes_so_far = np.array([0.0, *(counts.bytes_requested - counts.bytes_missed for counts in at_window_end)])
        first = results[0]
        return ReplayResult(
            **vars(summed_counts(results, trace.span_seconds)),
            policy=first.policy,
            params=first.params,
            capacity=first.capacity,
            write_policy=first.write_policy,
            ttl=first.ttl,
            flush_interval=first.flush_interval,
            max_object_size=first.max_object_size,
            **{name: sum(getattr(one, name) for one in results) for name in _SUMMED},
            window_seconds=float(window_seconds),
            window_misses=np.diff(misses_so_far).astype(np.int64),
            window_bytes_hit=np.diff(hit_bytes_so_far).astype(np.int64),
            checkpoints=tuple(int(position) for position in checkpoints),
            checkpoint_counts=tuple(at_mark[int(position)] for position in checkpoints),
        )


def _span_before(trace: Trace, position: int) -> float:
    """The span of the whole trace's requests before ``position``, as a single replay counts it."""
    return float(trace.timestamps[position - 1] - trace.timestamps[0]) if position else 0.0
