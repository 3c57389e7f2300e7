"""Text traces as blocks of whole lines, read in chunks so memory never holds the whole text."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tuner.errors import TraceError
from tuner.readers.compression import CHUNK_BYTES, iter_chunks

LONGEST_LINE = 16 << 20


@dataclass(frozen=True)
class LineBlock:
    """Whole lines of a text trace: ``buf[starts[i]:ends[i]]`` is line ``first_line + i`` without its line end."""

    buf: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    first_line: int

    def __len__(self) -> int:
        return len(self.starts)


def _block(data: bytes, length: int, first_line: int) -> LineBlock:
    """The lines of ``data[:length]`` (which ends with a newline), without copying the bytes."""
    buf = np.frombuffer(data, np.uint8, count=length)
    newlines = np.flatnonzero(buf == 10)
    starts = np.empty(len(newlines), np.int64)
    starts[:1] = 0
    starts[1:] = newlines[:-1] + 1
    ends = newlines.astype(np.int64)
    carriage_return = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
    ends -= carriage_return
    return LineBlock(buf, starts, ends, first_line)


def iter_line_blocks(path: Path, chunk_bytes: int = CHUNK_BYTES) -> Iterator[LineBlock]:
    """The file's lines (decompressed, LF or CRLF), a block of whole lines at a time."""
    carry = b""
    next_line = 1
    for chunk in iter_chunks(path, chunk_bytes):
        data = carry + chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            if len(data) > LONGEST_LINE:
                limit = LONGEST_LINE >> 20
                raise TraceError(f"{path}: line {next_line:,} is longer than {limit} MiB: not a text trace")
            carry = data
            continue
        carry = data[cut + 1 :]
        block = _block(data, cut + 1, next_line)
        next_line += len(block)
        yield block
    if carry:
        yield _block(carry + b"\n", len(carry) + 1, next_line)
