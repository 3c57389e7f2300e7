"""The one columnar trace every workload generator and trace reader produces."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from tuner.errors import CachetuneError

# Operation codes in ``Trace.ops``.
GET, SET, DELETE = 0, 1, 2
# Requests per block when a pass over a column must not make a temporary as long as the trace (a trace can be
# memory-mapped and larger than memory): 4M requests keep each temporary at 32 MiB at most.
CHUNK_REQUESTS = 1 << 22


def chunks(n: int, size: int = CHUNK_REQUESTS) -> Iterator[slice]:
    """Consecutive slices covering ``range(n)``, ``size`` positions each (the last shorter)."""
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def any_in_chunks(column: np.ndarray, test: Callable[[np.ndarray], np.ndarray]) -> bool:
    """Whether ``test`` holds for any value of ``column``, one block at a time."""
    return any(bool(np.any(test(column[part]))) for part in chunks(len(column)))


def request_scratch(column: np.ndarray, dtype) -> np.ndarray:
    """An uninitialised array as long as ``column`` (one value per request): in memory, or, when the column
    is memory-mapped, mapped from an unnamed file beside it, whose pages the kernel writes back and drops, so
    a trace larger than memory does not need its length in memory (OPT's next uses, for one)."""
    if not isinstance(column, np.memmap) or column.filename is None:
        return np.empty(len(column), dtype)
    with tempfile.TemporaryFile(dir=Path(column.filename).parent) as handle:  # unlinked: gone when unmapped
        return np.memmap(handle, dtype, mode="w+", shape=(len(column),))


def _decreases(times: np.ndarray) -> bool:
    """Whether any timestamp is below the one before it (blocks overlap by one, so no step is missed)."""
    return any(bool(np.any(np.diff(times[part.start : part.stop + 1]) < 0)) for part in chunks(len(times)))


@dataclass(frozen=True, eq=False)
class Trace:
    """Requests as parallel numpy arrays.

    ``ids`` are dense object ids 0..n_objects-1 numbered in order of first
    appearance (hot objects end up close together in memory), ``keys[id]`` is
    the original key, ``timestamps`` are seconds (float64, non-decreasing),
    ``sizes`` are bytes (1 where the source has none), ``ops`` are GET, SET
    or DELETE codes and ``ttls`` each request's time to live in seconds
    (float32; 0 = none given). A long trace read from the parsed-trace cache
    holds memory-mapped columns (``np.memmap``) and uint32 sizes when they
    fit; passes over its columns go block by block (``chunks``), never
    making a temporary as long as the trace. ``name`` says where the requests came from;
    ``info`` holds what the source reported about itself (skipped lines,
    generator options).
    """

    ids: np.ndarray
    timestamps: np.ndarray
    sizes: np.ndarray
    ops: np.ndarray
    ttls: np.ndarray
    keys: np.ndarray
    name: str = "trace"
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.ids)
        if not (len(self.timestamps) == len(self.sizes) == len(self.ops) == len(self.ttls) == n):
            raise CachetuneError("trace columns must have equal lengths")

    @classmethod
    def from_arrays(
        cls,
        keys,
        timestamps=None,
        sizes=None,
        ops=None,
        ttls=None,
        *,
        name: str = "trace",
        info: dict | None = None,
    ) -> Trace:
        """A trace from any sequence of hashable keys.

        Without ``timestamps`` requests are one second apart; without ``sizes``
        every object has size 1 (capacities then count objects); without
        ``ops`` every request is a GET; without ``ttls`` none has a TTL.
        """
        codes, uniques = pd.factorize(np.asarray(keys), sort=False)
        if len(codes) and codes.min() < 0:
            raise CachetuneError("keys must not contain missing values", parameter="keys")
        n = len(codes)
        times = np.arange(n, dtype=np.float64) if timestamps is None else np.asarray(timestamps, np.float64)
        size_column = np.ones(n, np.int64) if sizes is None else np.asarray(sizes, np.int64)
        op_column, ttl_column = _ops_and_ttls(n, ops, ttls)
        if n and size_column.min() < 0:
            raise CachetuneError("sizes must not be negative", parameter="sizes")
        if _decreases(times):
            raise CachetuneError("timestamps must not decrease", parameter="timestamps")
        return cls(
            ids=codes.astype(np.int32),
            timestamps=times,
            sizes=size_column,
            ops=op_column,
            ttls=ttl_column,
            keys=np.asarray(uniques),
            name=name,
            info=dict(info or {}),
        )

    @classmethod
    def from_codes(
        cls,
        ids,
        keys,
        timestamps=None,
        sizes=None,
        ops=None,
        ttls=None,
        *,
        name: str = "trace",
        info: dict | None = None,
    ) -> Trace:
        """A trace from ids already dense and numbered in order of first appearance.

        Trace readers intern keys as they parse, so factorizing again (as
        ``from_arrays`` does) would only repeat work; ``keys[id]`` is the key.
        """
        id_column = np.asarray(ids, np.int32)
        n = len(id_column)
        times = np.arange(n, dtype=np.float64) if timestamps is None else np.asarray(timestamps, np.float64)
        size_column = np.ones(n, np.int64) if sizes is None else np.asarray(sizes, np.int64)
        op_column, ttl_column = _ops_and_ttls(n, ops, ttls)
        if n and (id_column.min() < 0 or id_column.max() >= len(keys)):
            raise CachetuneError("ids must index keys", parameter="ids")
        if n and size_column.min() < 0:
            raise CachetuneError("sizes must not be negative", parameter="sizes")
        if _decreases(times):
            raise CachetuneError("timestamps must not decrease", parameter="timestamps")
        return cls(id_column, times, size_column, op_column, ttl_column, np.asarray(keys), name=name,
                   info=dict(info or {}))  # fmt: skip

    @cached_property
    def has_writes(self) -> bool:
        """Whether any request is a SET or a DELETE."""
        return any_in_chunks(self.ops, lambda ops: ops != GET)

    @cached_property
    def has_ttls(self) -> bool:
        """Whether any request carries a TTL."""
        return any_in_chunks(self.ttls, lambda ttls: ttls > 0)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def n_objects(self) -> int:
        return len(self.keys)

    @property
    def span_seconds(self) -> float:
        """Time from the first to the last request."""
        return float(self.timestamps[-1] - self.timestamps[0]) if len(self) else 0.0

    @cached_property
    def has_sizes(self) -> bool:
        """Whether the source gave sizes, so byte capacities mean something."""
        return any_in_chunks(self.sizes, lambda sizes: sizes != 1)

    @cached_property
    def largest_size(self) -> int:
        """The largest request size in bytes (0 for an empty trace)."""
        return int(self.sizes.max()) if len(self) else 0

    @cached_property
    def unit_sizes(self) -> np.ndarray:
        """All-ones sizes, used when the capacity counts objects (a read-only view, no memory)."""
        return np.broadcast_to(np.int64(1), (len(self),))

    def window_ends(self, window_seconds: float) -> np.ndarray:
        """One past the last request of each ``window_seconds`` window, counted from the first request's time."""
        if not len(self):
            return np.zeros(1, np.int64)
        start = float(self.timestamps[0])
        n_windows = int(self.span_seconds // window_seconds) + 1
        edges = start + window_seconds * np.arange(1, n_windows + 1)
        ends = np.searchsorted(self.timestamps, edges, side="left").astype(np.int64)
        ends[-1] = len(self)
        return ends

    @cached_property
    def object_sizes(self) -> np.ndarray:
        """Each object's largest request size in bytes, by id."""
        largest = np.zeros(self.n_objects, np.int64)
        for part in chunks(len(self)):
            np.maximum.at(largest, self.ids[part], self.sizes[part])
        return largest

    @cached_property
    def working_set_bytes(self) -> int:
        """Bytes of all unique objects, each at its largest size."""
        return int(self.object_sizes.sum())

    def describe(self) -> dict:
        """Headline statistics for reports and run records."""
        return {
            "name": self.name,
            "requests": len(self),
            "unique_objects": self.n_objects,
            "bytes": int(self.sizes.sum()),
            "span_hours": self.span_seconds / 3600.0,
        }


def _ops_and_ttls(n: int, ops, ttls) -> tuple[np.ndarray, np.ndarray]:
    """The operation and TTL columns, GET and no TTL where not given, checked."""
    op_column = np.full(n, GET, np.int8) if ops is None else np.asarray(ops, np.int8)
    ttl_column = np.zeros(n, np.float32) if ttls is None else np.asarray(ttls, np.float32)
    if len(op_column) and (op_column.min() < GET or op_column.max() > DELETE):
        raise CachetuneError("ops must be GET, SET or DELETE codes", parameter="ops")
    if any_in_chunks(ttl_column, lambda ttls: ~(ttls >= 0)):
        raise CachetuneError("ttls must not be negative", parameter="ttls")
    return op_column, ttl_column
