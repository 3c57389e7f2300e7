"""``arc``: the ARC paper's traces, lines ``start_block n_blocks ignored request_no``.

Each line asks for ``n_blocks`` consecutive blocks, so it expands into the keys
``start … start+n-1`` (Megiddo & Modha, "ARC: A Self-Tuning, Low Overhead
Replacement Cache", FAST 2003; the expanded counts equal its Table III).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numba import njit

from tuner.readers.base import Columns, Tally, concat, factorized, finish
from tuner.readers.lines import iter_line_blocks
from tuner.trace import Trace

NOT_ARC, BAD_COUNT = 1, 2
REASONS = {NOT_ARC: "not an ARC line (start n_blocks ...)", BAD_COUNT: "block count outside 1 … 1,048,576"}
_LARGEST = 1 << 62
_MOST_BLOCKS = 1 << 20


@njit(cache=True, nogil=True)
def _parse_lines(buf, starts, ends):
    """Start block and block count of each line, and an error code (0 = good)."""
    n = len(starts)
    first_block, n_blocks = np.zeros(n, np.int64), np.zeros(n, np.int64)
    codes = np.zeros(n, np.uint8)
    for i in range(n):
        position, end = starts[i], ends[i]
        values = np.zeros(2, np.int64)
        for field in range(2):
            while position < end and (buf[position] == 32 or buf[position] == 9):
                position += 1
            negative = position < end and buf[position] == 45
            if negative:
                position += 1
            digits = 0
            value = np.int64(0)
            while position < end and 48 <= buf[position] <= 57 and value < _LARGEST // 10:
                value = value * 10 + (buf[position] - 48)
                position += 1
                digits += 1
            if digits == 0 or (position < end and buf[position] != 32 and buf[position] != 9):
                codes[i] = NOT_ARC
                break
            values[field] = -value if negative else value
        if codes[i] == 0:
            first_block[i], n_blocks[i] = values[0], values[1]
            if values[1] < 1 or values[1] > _MOST_BLOCKS:
                codes[i] = BAD_COUNT
    return first_block, n_blocks, codes


def read_arc(path: Path, *, strict: bool = False, keep_order: bool = False) -> Trace:
    """An ARC trace, each line expanded into its blocks."""
    tally, parts = Tally(), []
    for block in iter_line_blocks(path):
        tally.lines += len(block)
        first_block, n_blocks, codes = _parse_lines(block.buf, block.starts, block.ends)
        tally.add_codes(codes, REASONS, block.first_line + np.arange(len(block)))
        good = codes == 0
        first_block, n_blocks = first_block[good], n_blocks[good]
        line_of_key = np.repeat(np.arange(len(n_blocks)), n_blocks)
        offset_in_line = np.arange(len(line_of_key)) - np.repeat(np.cumsum(n_blocks) - n_blocks, n_blocks)
        parts.append(first_block[line_of_key] + offset_in_line)
    ids, keys = factorized(concat(parts, np.int64))
    return finish(path, Columns(ids, keys, info={"format": "arc"}), tally, strict=strict, keep_order=keep_order)
