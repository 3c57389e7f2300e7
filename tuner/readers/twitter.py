"""``twitter``: Twitter's production cache traces, ``timestamp,key,key size,value size,client id,operation,TTL``.

The traces of 54 Twemcache clusters published with Yang, Yue and Rashmi, "A
large scale analysis of hundreds of in-memory cache clusters at Twitter"
(OSDI 2020; github.com/twitter/cache-trace): one request per line, no header,
times and TTLs in seconds (a TTL of 0: none). A request's size is its key's
bytes plus its value's, the bytes a cache holds for it. The operations are
memcached's commands: get and gets are GETs, delete a DELETE, set, add,
replace, cas, append, prepend, incr and decr SETs; a line with any other word
is skipped as an unknown operation. The key is whatever lies between the first
comma and the fifth from the end, so a key holding a comma stays one key.

The files come zstd-compressed (``cluster52.0.zst``), which the readers tell by
content. Nothing in a line says it is Twitter's (it is also a valid csv row),
so the format is never detected: ``--trace-format twitter`` asks for it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numba import njit

from tuner.readers.base import Columns, Tally, concat, finish
from tuner.readers.interning import KeyTable, unpack_keys
from tuner.readers.lines import iter_line_blocks
from tuner.readers.numbers import seconds, ttl_seconds, unsigned
from tuner.readers.words import operation_code, operation_table
from tuner.trace import DELETE, GET, SET, Trace

FIELDS = ("timestamp", "key", "key size", "value size", "client id", "operation", "TTL")
OPERATIONS = operation_table({
    GET: (b"get", b"gets"),
    SET: (b"set", b"add", b"replace", b"cas", b"append", b"prepend", b"incr", b"decr"),
    DELETE: (b"delete",),
})  # fmt: skip
NOT_TWITTER, BAD_TIME, BAD_SIZE, BAD_OP, BAD_TTL = 1, 2, 3, 4, 5
BLANK = 6  # not a reason to skip: empty lines are ignored, counted beside the skip reasons
REASONS = {
    NOT_TWITTER: f"not {len(FIELDS)} comma-separated fields",
    BAD_TIME: "time not a number",
    BAD_SIZE: "key or value size not a whole number",
    BAD_OP: "unknown operation",
    BAD_TTL: "TTL not a number of seconds ≥ 0",
}
_COMMA = 44
_AFTER_KEY = len(FIELDS) - 2  # the commas from the end of the line back to the key's end


@njit(cache=True, nogil=True)
def _parse_lines(buf, starts, ends, operations):
    """Key span, time, size, operation and TTL of each line, and an error code (0 = good)."""
    words, offsets, op_codes = operations
    n = len(starts)
    key_spans = np.empty((n, 2), np.int64)
    times, sizes = np.zeros(n, np.float64), np.zeros(n, np.int64)
    ops, ttls = np.zeros(n, np.int8), np.zeros(n, np.float32)
    codes = np.zeros(n, np.uint8)
    commas = np.empty(_AFTER_KEY, np.int64)  # commas[0] ends the key, commas[-1] starts the TTL
    for i in range(n):
        start, end = starts[i], ends[i]
        if end == start:
            codes[i] = BLANK
            continue
        first = start
        while first < end and buf[first] != _COMMA:
            first += 1
        found, position = 0, end - 1
        while found < _AFTER_KEY and position > first:
            if buf[position] == _COMMA:
                found += 1
                commas[_AFTER_KEY - found] = position
            position -= 1
        if found < _AFTER_KEY:
            codes[i] = NOT_TWITTER
            continue
        time = seconds(buf, start, first)
        key_size = unsigned(buf, commas[0] + 1, commas[1], False)
        value_size = unsigned(buf, commas[1] + 1, commas[2], False)
        op = operation_code(buf, commas[3] + 1, commas[4], words, offsets, op_codes)
        ttl = ttl_seconds(buf, commas[4] + 1, end)
        if np.isnan(time):
            codes[i] = BAD_TIME
        elif key_size < 0 or value_size < 0:
            codes[i] = BAD_SIZE
        elif op < 0:
            codes[i] = BAD_OP
        elif np.isnan(ttl):
            codes[i] = BAD_TTL
        key_spans[i, 0], key_spans[i, 1] = first + 1, commas[0]
        times[i], sizes[i], ops[i], ttls[i] = time, key_size + value_size, op, ttl
    return key_spans, times, sizes, ops, ttls, codes


def read_twitter(path: Path, *, strict: bool = False, keep_order: bool = False) -> Trace:
    """A Twitter cache trace with its times, sizes (key + value), operations and TTLs."""
    keys, tally, ids, columns, blank = KeyTable(), Tally(), [], ([], [], [], []), 0
    for block in iter_line_blocks(path):
        tally.lines += len(block)
        key_spans, *values, codes = _parse_lines(block.buf, block.starts, block.ends, OPERATIONS)
        tally.add_codes(codes, REASONS, block.first_line + np.arange(len(block)))
        blank += int(np.count_nonzero(codes == BLANK))
        good = codes == 0
        ids.append(keys.intern(block.buf, key_spans[good, 0], key_spans[good, 1]))
        for parts, column in zip(columns, values, strict=True):
            parts.append(column[good])
    tally.ignore("blank", blank)
    times, sizes, ops, ttls = (concat(parts, dtype) for parts, dtype in
                               zip(columns, (np.float64, np.int64, np.int8, np.float32), strict=True))  # fmt: skip
    trace_columns = Columns(concat(ids, np.int32), unpack_keys(*keys.packed()), times, sizes, ops, ttls,
                            info={"format": "twitter"})  # fmt: skip
    return finish(path, trace_columns, tally, strict=strict, keep_order=keep_order)
