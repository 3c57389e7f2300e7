"""``csv`` / ``tsv``: one request per row, columns chosen by header name or 1-based number.

The header is detected (a first row naming a known column, or text above
numbers). Without options the key is the column named key/id/obj_id/url/…, or
the first column; time, size and operation columns are used when present. A
compiled scanner splits rows over the raw bytes (quoted fields with ``""``
escapes included), so keys stay raw bytes and millions of rows parse per second.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from numba import njit

from tuner.errors import TraceError
from tuner.readers.access_log import _seconds, _unsigned
from tuner.readers.base import Columns, Tally, concat, finish
from tuner.readers.interning import KeyTable, unpack_keys
from tuner.readers.lines import LineBlock, iter_line_blocks
from tuner.trace import DELETE, GET, SET, Trace

KEY, TIME, SIZE, OP = range(4)
COLUMN_NAMES = {
    KEY: ("key", "id", "obj_id", "object_id", "object", "objid", "url", "path", "block", "lbn", "lba"),
    TIME: ("timestamp", "time", "ts", "clock_time", "epoch", "t"),
    SIZE: ("size", "obj_size", "object_size", "bytes", "length", "len"),
    OP: ("op", "operation", "cmd", "command", "type", "method"),
}
OPTION_NAMES = {KEY: "key_col", TIME: "time_col", SIZE: "size_col", OP: "op_col"}
OPS = {
    GET: (b"get", b"gets", b"read", b"r", b"lookup", b"head"),
    SET: (b"set", b"write", b"w", b"put", b"insert", b"add", b"update", b"replace", b"cas", b"post"),
    DELETE: (b"delete", b"del", b"remove", b"evict"),
}
TOO_FEW, BAD_TIME, BAD_SIZE, NEGATIVE, BAD_OP = 1, 2, 3, 4, 5
REASONS = {
    TOO_FEW: "too few fields",
    BAD_TIME: "time not a number",
    BAD_SIZE: "size not a whole number",
    NEGATIVE: "negative size",
    BAD_OP: "unknown operation",
}
_NUMBER = re.compile(rb"\s*[-+]?\d+(\.\d*)?([eE][-+]?\d+)?\s*")


@njit(cache=True, nogil=True)
def _split(buf, starts, ends, delimiter, wanted):
    """Starts and ends (one row per slot) of the ``wanted`` columns (0-based, -1 = none); TOO_FEW for short rows."""
    n = len(starts)
    field_starts, field_ends = np.full((4, n), -1, np.int64), np.full((4, n), -1, np.int64)
    codes = np.zeros(n, np.uint8)
    last = wanted.max()
    for i in range(n):
        position, end, column = starts[i], ends[i], 0
        while column <= last:
            if position < end and buf[position] == 34:
                field_start = position + 1
                cursor = field_start
                while cursor < end:
                    if buf[cursor] == 34:
                        if cursor + 1 < end and buf[cursor + 1] == 34:
                            cursor += 2
                            continue
                        break
                    cursor += 1
                field_end = cursor
                cursor = min(cursor + 1, end)
                while cursor < end and buf[cursor] != delimiter:
                    cursor += 1
            else:
                field_start = position
                cursor = position
                while cursor < end and buf[cursor] != delimiter:
                    cursor += 1
                field_end = cursor
            for slot in range(4):
                if wanted[slot] == column:
                    field_starts[slot, i], field_ends[slot, i] = field_start, field_end
            column += 1
            if cursor >= end:
                break
            position = cursor + 1
        if column <= last:
            codes[i] = TOO_FEW
    return field_starts, field_ends, codes


@njit(cache=True, nogil=True)
def _numbers(buf, field_starts, field_ends, codes):
    """Times (float seconds) and sizes (whole bytes) of the rows; bad values set a code."""
    n = len(codes)
    times, sizes = np.zeros(n, np.float64), np.ones(n, np.int64)
    for i in range(n):
        if codes[i]:
            continue
        if field_starts[TIME, i] >= 0:
            times[i] = _seconds(buf, field_starts[TIME, i], field_ends[TIME, i])
            if np.isnan(times[i]):
                codes[i] = BAD_TIME
                continue
        if field_starts[SIZE, i] >= 0:
            start, end = field_starts[SIZE, i], field_ends[SIZE, i]
            if end > start + 1 and buf[start] == 45 and _unsigned(buf, start + 1, end, False) >= 0:
                codes[i] = NEGATIVE
                continue
            sizes[i] = _unsigned(buf, start, end, False)
            if sizes[i] < 0:
                codes[i] = BAD_SIZE
    return times, sizes


def _header_fields(line: bytes, delimiter: bytes) -> list[str]:
    return [field.strip().strip('"').lower() for field in line.decode("latin-1").split(delimiter.decode())]


def _has_header(first: list[str], second: list[str] | None, options: dict[int, str | None]) -> bool:
    if any(value is not None and not value.isdigit() for value in options.values()):
        return True
    known = {name for names in COLUMN_NAMES.values() for name in names}
    if any(field in known for field in first):
        return True
    numeric = [bool(_NUMBER.fullmatch(field.encode())) for field in first]
    second_numeric = [bool(_NUMBER.fullmatch(field.encode())) for field in (second or [])]
    return not any(numeric) and any(second_numeric)


def _resolve(path: Path, header: list[str] | None, options: dict[int, str | None]) -> np.ndarray:
    """0-based column index for key, time, size and op (-1: not used)."""
    wanted = np.full(4, -1, np.int64)
    for slot, value in options.items():
        option = "--" + OPTION_NAMES[slot].replace("_", "-")
        if value is not None and value.isdigit():
            if int(value) < 1:
                raise TraceError(f"{path}: {option} {value}: columns are numbered from 1")
            wanted[slot] = int(value) - 1
        elif value is not None:
            if value.lower() not in (header or []):
                columns = ", ".join(header or [])
                raise TraceError(f"{path}: {option} {value!r} is not a column of the header ({columns})")
            wanted[slot] = header.index(value.lower())
        elif header is not None:
            found = [header.index(name) for name in COLUMN_NAMES[slot] if name in header]
            wanted[slot] = found[0] if found else -1
    if wanted[KEY] < 0:
        if header is not None and options[KEY] is None:
            raise TraceError(
                f"{path}: line 1: no key column in the header ({', '.join(header)}); name one with --key-col"
            )
        wanted[KEY] = 0
    return wanted


def _op_codes(table: KeyTable) -> np.ndarray:
    """Op code of each interned operation name, -1 when unknown."""
    lookup = {name: code for code, names in OPS.items() for name in names}
    return np.array([lookup.get(name.strip().lower(), -1) for name in unpack_keys(*table.packed())], np.int8)


def read_csv(
    path: Path,
    *,
    delimiter: str = ",",
    key_col: str | None = None,
    time_col: str | None = None,
    size_col: str | None = None,
    op_col: str | None = None,
    strict: bool = False,
    keep_order: bool = False,
) -> Trace:
    """A delimited trace; columns by header name or 1-based number."""
    separator = delimiter.encode()
    if len(separator) != 1:
        raise TraceError(f"the delimiter must be one byte, not {delimiter!r}")
    options = {KEY: key_col, TIME: time_col, SIZE: size_col, OP: op_col}
    options = {slot: None if value is None else str(value).strip() for slot, value in options.items()}
    keys, op_table, tally = KeyTable(), KeyTable(), Tally()
    ids, times, sizes, ops = [], [], [], []
    wanted = None
    for block in iter_line_blocks(path):
        tally.lines += len(block)
        if wanted is None:
            block, wanted = _columns_from_first_block(path, block, separator, options)
        field_starts, field_ends, codes = _split(block.buf, block.starts, block.ends, separator[0], wanted)
        time, size = _numbers(block.buf, field_starts, field_ends, codes)
        op = np.zeros(len(codes), np.int8)
        if wanted[OP] >= 0:
            op_ids = op_table.intern(block.buf, field_starts[OP].clip(0), field_ends[OP].clip(0))
            op = _op_codes(op_table)[op_ids] if len(op_ids) else op
            codes[(codes == 0) & (op < 0)] = BAD_OP
        if codes.any():
            if np.any(codes == NEGATIVE):
                line = block.first_line + int(np.argmax(codes == NEGATIVE))
                raise TraceError(f"{path}: line {line:,}: negative size")
            tally.add_codes(codes, REASONS, block.first_line + np.arange(len(block)))
            keep = codes == 0
            field_starts, field_ends = field_starts[:, keep], field_ends[:, keep]
            time, size, op = time[keep], size[keep], op[keep]
        ids.append(keys.intern(block.buf, field_starts[KEY], field_ends[KEY]))
        times.append(time)
        sizes.append(size)
        ops.append(op)
    columns = Columns(
        concat(ids, np.int32),
        unpack_keys(*keys.packed()),
        concat(times, np.float64) if wanted is not None and wanted[TIME] >= 0 else None,
        concat(sizes, np.int64),
        concat(ops, np.int8),
        info={"format": "tsv" if delimiter == "\t" else "csv"},
    )
    return finish(path, columns, tally, strict=strict, keep_order=keep_order)


def _columns_from_first_block(
    path: Path, block: LineBlock, separator: bytes, options: dict[int, str | None]
) -> tuple[LineBlock, np.ndarray]:
    """Which columns to read, and the block without its header line."""
    rows = [block.buf[block.starts[i] : block.ends[i]].tobytes() for i in range(min(2, len(block)))]
    first = _header_fields(rows[0], separator)
    second = _header_fields(rows[1], separator) if len(rows) > 1 else None
    if _has_header(first, second, options):
        wanted = _resolve(path, first, options)
        return LineBlock(block.buf, block.starts[1:], block.ends[1:], block.first_line + 1), wanted
    return block, _resolve(path, None, options)
