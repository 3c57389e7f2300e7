"""``text``: one key per line, as in the LIRS traces and libCacheSim's txt traces.

Lines that are empty or a lone ``*`` (checkpoints of the LIRS authors'
simulator) are not requests; surrounding blanks and CRLF line ends are
dropped. Keys are the line's raw bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numba import njit

from tuner.readers.base import Columns, Tally, concat, finish
from tuner.readers.interning import KeyTable, unpack_keys
from tuner.readers.lines import iter_line_blocks
from tuner.trace import Trace


@njit(cache=True, nogil=True)
def trim_blanks(buf, starts, ends):
    """Spans without leading and trailing spaces and tabs."""
    trimmed_starts, trimmed_ends = starts.copy(), ends.copy()
    for i in range(len(starts)):
        start, end = starts[i], ends[i]
        while start < end and (buf[start] == 32 or buf[start] == 9):
            start += 1
        while end > start and (buf[end - 1] == 32 or buf[end - 1] == 9):
            end -= 1
        trimmed_starts[i], trimmed_ends[i] = start, end
    return trimmed_starts, trimmed_ends


def read_text(path: Path, *, strict: bool = False, keep_order: bool = False) -> Trace:
    """A one-key-per-line trace."""
    table, tally, ids, ignored = KeyTable(), Tally(), [], 0
    for block in iter_line_blocks(path):
        tally.lines += len(block)
        starts, ends = trim_blanks(block.buf, block.starts, block.ends)
        lengths = ends - starts
        checkpoint = (lengths == 1) & (block.buf[np.minimum(starts, len(block.buf) - 1)] == ord("*"))
        request = (lengths > 0) & ~checkpoint
        ignored += len(request) - int(request.sum())
        ids.append(table.intern(block.buf, starts[request], ends[request]))
    tally.ignore("blank or checkpoints", ignored)
    keys = unpack_keys(*table.packed())
    columns = Columns(concat(ids, np.int32), keys, info={"format": "text", "ignored_lines": ignored})
    return finish(path, columns, tally, strict=strict, keep_order=keep_order)
