"""``oracle-general``: libCacheSim's binary trace, 24-byte little-endian records.

Each record is ``uint32 timestamp, uint64 obj_id, uint32 obj_size, int64
next_access_vtime`` (Yang et al., libCacheSim). An uncompressed file is read
through a memory map, so only the id, time and size columns are ever copied;
a length that is not a multiple of 24 means a partial record and is refused.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tuner.errors import TraceError
from tuner.readers.base import Columns, concat, factorized, finish
from tuner.readers.compression import compression_of, iter_chunks
from tuner.trace import Trace

RECORD = np.dtype([("time", "<u4"), ("id", "<u8"), ("size", "<u4"), ("next_access", "<i8")])


def _refuse_partial(path: Path, n_bytes: int) -> None:
    if n_bytes == 0:
        raise TraceError(f"{path}: no requests: the file is empty")
    if n_bytes % RECORD.itemsize:
        whole = n_bytes - n_bytes % RECORD.itemsize
        raise TraceError(
            f"{path}: {n_bytes:,} bytes is not a whole number of {RECORD.itemsize}-byte oracleGeneral records "
            f"(a partial record at byte offset {whole:,})"
        )


def _columns(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Object ids, timestamps and sizes of every record."""
    if compression_of(path) is None:
        _refuse_partial(path, path.stat().st_size)
        records = np.memmap(path, RECORD, mode="r")
        return np.asarray(records["id"]), records["time"].astype(np.float64), records["size"].astype(np.int64)
    ids, times, sizes, carry, total = [], [], [], b"", 0
    for chunk in iter_chunks(path):
        data = carry + chunk
        whole = len(data) - len(data) % RECORD.itemsize
        records = np.frombuffer(data[:whole], RECORD)
        ids.append(records["id"].copy())
        times.append(records["time"].astype(np.float64))
        sizes.append(records["size"].astype(np.int64))
        carry, total = data[whole:], total + len(chunk)
    _refuse_partial(path, total)
    return concat(ids, np.uint64), concat(times, np.float64), concat(sizes, np.int64)


def read_oracle_general(path: Path, *, strict: bool = False, keep_order: bool = False) -> Trace:
    """A libCacheSim oracleGeneral trace with its timestamps and per-request sizes."""
    object_ids, timestamps, sizes = _columns(path)
    ids, keys = factorized(object_ids)
    columns = Columns(ids, keys, timestamps, sizes, info={"format": "oracle-general"})
    return finish(path, columns, None, strict=strict, keep_order=keep_order)
