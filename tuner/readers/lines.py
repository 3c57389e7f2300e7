"""Text traces as buffers of whole lines, read in chunks so memory never holds the whole text.

One buffer is filled in place again and again (``readinto``), so reading costs
no fresh memory per chunk; the unfinished line at a chunk's end moves to the
front and the next read goes after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tuner.errors import TraceError
from tuner.readers.compression import CHUNK_BYTES, DecompressedStream

LONGEST_LINE = 16 << 20
FIRST_READ = 1 << 20


@dataclass(frozen=True)
class LineBlock:
    """Whole lines of a text trace: ``buf[starts[i]:ends[i]]`` is line ``first_line + i`` without its line end."""

    buf: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    first_line: int

    def __len__(self) -> int:
        return len(self.starts)


def iter_text(path: Path, chunk_bytes: int = CHUNK_BYTES, stores: int = 1) -> Iterator[np.ndarray]:
    """The decompressed text as uint8 views of whole lines, each view ending with a line feed.

    The views share ``stores`` buffers that take turns: a view holds its bytes
    only until the ``stores``-th next one is taken, so a reader copies what it
    keeps (the key table does); with two, a reader can still work on one view
    while the next is read and parsed. A last line without a line feed gets one.
    """
    texts = [bytearray(min(chunk_bytes, FIRST_READ) + 1) for _ in range(stores)]  # bytearrays find line ends at C speed
    turn = 0
    text = texts[turn]
    store = np.frombuffer(text, np.uint8)
    held = 0  # bytes of an unfinished line at the front of the store
    with DecompressedStream(path) as stream:
        while True:
            filled = held + stream.readinto(store[held:-1])
            if filled == held:
                break
            cut = text.rfind(b"\n", held, filled)
            if cut < 0 and filled > LONGEST_LINE:
                raise TraceError(f"{path}: byte offset {stream.delivered - filled:,}: a line longer than "
                                 f"{LONGEST_LINE >> 20} MiB: not a text trace")  # fmt: skip
            if filled == len(text) - 1 and (cut < 0 or len(text) - 1 < chunk_bytes):
                text = texts[turn] = text + bytearray(
                    len(text) - 1
                )  # small files stay cheap, large ones read in big chunks
                store = np.frombuffer(text, np.uint8)
            if cut < 0:
                held = filled
                continue
            yield store[: cut + 1]
            held = filled - cut - 1
            turn = (turn + 1) % stores
            if len(texts[turn]) < len(text):
                texts[turn] = bytearray(len(text))
            following = np.frombuffer(texts[turn], np.uint8)
            following[:held] = store[cut + 1 : filled]
            text, store = texts[turn], following
    if held:
        store[held] = 10
        yield store[: held + 1]


def _block(buf: np.ndarray, first_line: int) -> LineBlock:
    """The lines of ``buf`` (which ends with a line feed), without copying the bytes."""
    newlines = np.flatnonzero(buf == 10)
    starts = np.empty(len(newlines), np.int64)
    starts[:1] = 0
    starts[1:] = newlines[:-1] + 1
    ends = newlines.astype(np.int64)
    carriage_return = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
    ends -= carriage_return
    return LineBlock(buf, starts, ends, first_line)


def iter_line_blocks(path: Path, chunk_bytes: int = CHUNK_BYTES) -> Iterator[LineBlock]:
    """The file's lines (decompressed, LF or CRLF), a block of whole lines at a time (valid until the next)."""
    next_line = 1
    for buf in iter_text(path, chunk_bytes):
        block = _block(buf, next_line)
        next_line += len(block)
        yield block
