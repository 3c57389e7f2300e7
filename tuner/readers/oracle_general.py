"""``oracle-general``: libCacheSim's binary trace, 24-byte little-endian records.

Each record is ``uint32 timestamp, uint64 obj_id, uint32 obj_size, int64
next_access_vtime`` (Yang et al., libCacheSim). An uncompressed file is read
through a memory map, so only the id, time and size columns are ever copied;
a length that is not a multiple of 24 means a partial record and is refused.

``stream_oracle_general`` reads a trace of any length in chunks of
``CHUNK_RECORDS`` records straight into a parsed-trace cache entry: object
ids are interned chunk by chunk (``IntegerIds``, the same dense ids as
``pandas.factorize``) and each chunk's columns are appended to the entry's
files, so memory holds one chunk and the distinct objects, not the trace.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from tuner.errors import TraceError
from tuner.readers.base import Columns, concat, factorized, finish
from tuner.readers.cache import EntryWriter
from tuner.readers.compression import compression_of, iter_chunks
from tuner.readers.integer_ids import IntegerIds
from tuner.trace import Trace

RECORD = np.dtype([("time", "<u4"), ("id", "<u8"), ("size", "<u4"), ("next_access", "<i8")])
CHUNK_RECORDS = 1 << 24  # 384 MiB of records a chunk
STREAMED = {"ids": np.int32, "timestamps": np.float64, "sizes": np.uint32, "ops": np.int8, "ttls": np.float32}


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
    """Object ids, timestamps and sizes of every record, in memory."""
    ids, times, sizes = [], [], []
    for records in _record_chunks(path, CHUNK_RECORDS):
        ids.append(records["id"].copy())
        times.append(records["time"].astype(np.float64))
        sizes.append(records["size"].astype(np.int64))
    return concat(ids, np.uint64), concat(times, np.float64), concat(sizes, np.int64)


def read_oracle_general(path: Path, *, strict: bool = False, keep_order: bool = False) -> Trace:
    """A libCacheSim oracleGeneral trace with its timestamps and per-request sizes."""
    object_ids, timestamps, sizes = _columns(path)
    ids, keys = factorized(object_ids)
    columns = Columns(ids, keys, timestamps, sizes, info={"format": "oracle-general"})
    return finish(path, columns, None, strict=strict, keep_order=keep_order)


def _record_chunks(path: Path, chunk_records: int) -> Iterator[np.ndarray]:
    """The file's records, ``chunk_records`` at a time (mapped when uncompressed, else decompressed)."""
    if compression_of(path) is None:
        _refuse_partial(path, path.stat().st_size)
        records = np.memmap(path, RECORD, mode="r")
        for start in range(0, len(records), chunk_records):
            yield records[start : start + chunk_records]
        return
    carry, total = b"", 0
    for chunk in iter_chunks(path, chunk_records * RECORD.itemsize):
        data = carry + chunk
        whole = len(data) - len(data) % RECORD.itemsize
        yield np.frombuffer(data[:whole], RECORD)
        carry, total = data[whole:], total + len(chunk)
    _refuse_partial(path, total)


def stream_oracle_general(
    path: Path,
    writer: EntryWriter,
    *,
    strict: bool = False,
    keep_order: bool = False,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> bool:
    """Parse ``path`` into ``writer``'s entry chunk by chunk; False (nothing kept) when its timestamps go
    backwards, which only the in-memory reader can sort (or hold, with ``keep_order``).

    ``on_progress(records read, records in the file or None when compressed)`` follows the reading.
    """
    del strict, keep_order  # no record is ever skipped; time order is checked here
    compressed = compression_of(path) is not None
    total = None if compressed else path.stat().st_size // RECORD.itemsize
    object_ids, latest, done = IntegerIds(), -np.inf, 0
    for records in _record_chunks(path, CHUNK_RECORDS):
        times = records["time"].astype(np.float64)
        if len(times) and (times[0] < latest or np.any(times[1:] < times[:-1])):
            return False
        latest = times[-1] if len(times) else latest
        ids = object_ids.intern(records["id"])
        writer.append(ids=ids, timestamps=times, sizes=records["size"])
        writer.append_zeros(ops=len(ids), ttls=len(ids))
        done += len(ids)
        if on_progress is not None:
            on_progress(done, total)
    info = {"format": "oracle-general", "skipped_lines": 0, "skipped": {}, "path": str(path)}
    writer.finish(object_ids.keys, info)
    return True
