"""``u32be`` / ``i32be`` / ``i64be``: packed big-endian integer keys, as in Caffeine's and cache2k's binary traces.

There are no line ends to resynchronise on, so a file whose length is not a
whole number of keys is corrupt and refused rather than shortened.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tuner.errors import TraceError
from tuner.readers.base import Columns, concat, factorized, finish
from tuner.readers.compression import iter_chunks
from tuner.trace import Trace

DTYPES = {"u32be": np.dtype(">u4"), "i32be": np.dtype(">i4"), "i64be": np.dtype(">i8")}


def read_packed(path: Path, *, dtype_name: str, strict: bool = False, keep_order: bool = False) -> Trace:
    """Keys packed one after another as big-endian integers of one width."""
    dtype = DTYPES[dtype_name]
    parts, carry, total = [], b"", 0
    for chunk in iter_chunks(path):
        data = carry + chunk
        whole = len(data) - len(data) % dtype.itemsize
        parts.append(np.frombuffer(data[:whole], dtype).astype(np.int64))
        carry = data[whole:]
        total += len(chunk)
    if carry:
        raise TraceError(
            f"{path}: {total:,} bytes is not a whole number of {dtype.itemsize}-byte {dtype_name} keys "
            f"(a partial key at byte offset {total - len(carry):,})"
        )
    if total == 0:
        raise TraceError(f"{path}: no requests: the file is empty")
    ids, keys = factorized(concat(parts, np.int64))
    return finish(path, Columns(ids, keys, info={"format": dtype_name}), None, strict=strict, keep_order=keep_order)
