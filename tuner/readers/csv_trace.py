"""``csv`` / ``tsv``: one request per row, columns chosen by header name or 1-based number.

The header is detected (a first row naming a known column, or text above
numbers). Without options the key is the column named key/id/obj_id/url/…, or
the first column; time, size, operation and TTL columns are used when present.
Operations are the words ``words.OPERATIONS`` names, in any case (get, set,
delete, memcached's gets/add/cas/incr…); a TTL is seconds ≥ 0, 0 or an empty
field meaning none. A row whose operation or TTL cannot be read is skipped and
counted under its reason.
Blank lines (nothing but spaces, tabs and carriage returns that are not the
delimiter) are ignored as in the text reader, never a header nor a request
for the empty key. A compiled scanner splits rows over the raw bytes (quoted
fields with ``""`` escapes included), so keys stay raw bytes and millions of
rows parse per second.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from numba import njit

from tuner.errors import TraceError
from tuner.readers.base import Columns, Tally, concat, finish
from tuner.readers.interning import KeyTable, unpack_keys
from tuner.readers.lines import iter_text
from tuner.readers.numbers import seconds, ttl_seconds, unsigned
from tuner.readers.words import OPERATIONS, operation_code
from tuner.trace import GET, Trace

KEY, TIME, SIZE, OP, TTL = range(5)
COLUMN_NAMES = {
    KEY: ("key", "id", "obj_id", "object_id", "object", "objid", "url", "path", "block", "lbn", "lba"),
    TIME: ("timestamp", "time", "ts", "clock_time", "epoch", "t"),
    SIZE: ("size", "obj_size", "object_size", "bytes", "length", "len"),
    OP: ("op", "operation", "cmd", "command", "type", "method"),
    TTL: ("ttl", "ttl_seconds", "time_to_live"),
}
OPTION_NAMES = {KEY: "key_col", TIME: "time_col", SIZE: "size_col", OP: "op_col", TTL: "ttl_col"}
TOO_FEW, BAD_TIME, BAD_SIZE, NEGATIVE, BAD_OP, BAD_TTL = 1, 2, 3, 4, 5, 6
BLANK = 7  # not a reason to skip: blank lines are ignored, counted beside the skip reasons
REASONS = {
    TOO_FEW: "too few fields",
    BAD_TIME: "time not a number",
    BAD_SIZE: "size not a whole number",
    NEGATIVE: "negative size",
    BAD_OP: "unknown operation",
    BAD_TTL: "TTL not a number of seconds ≥ 0",
}
_NUMBER = re.compile(rb"\s*[-+]?\d+(\.\d*)?([eE][-+]?\d+)?\s*")


@njit(cache=True, nogil=True)
def _field_end(buf, start, cursor):
    """A field that ran into the line feed of a CRLF line ends before the carriage return."""
    if buf[cursor] == 10 and cursor > start and buf[cursor - 1] == 13:
        return cursor - 1
    return cursor


@njit(cache=True, nogil=True)
def _parse_rows(buf, position, line, delimiter, wanted, ops_table, out, tally):
    """Parse the rows of ``buf`` (whole lines) from ``position`` until it ends or ``out`` is full.

    One pass finds the line ends and the ``wanted`` columns (0-based, -1 =
    none; quoted fields with ``""`` escapes included) and decodes time, size,
    operation and TTL. Kept rows go to ``out`` (key start, end, time, size, op, ttl);
    ``tally`` counts each skip reason and keeps its first line; blank lines
    are not rows, only counted under ``BLANK``. A negative size stops the
    scan (the reader refuses the file). Returns (position, line, rows
    written).
    """
    op_names, op_offsets, op_codes = ops_table
    key_spans, times, sizes, ops, ttls = out
    counts, first_lines = tally
    starts, ends = np.empty(5, np.int64), np.empty(5, np.int64)
    last = wanted.max()
    n_buf, written, capacity = len(buf), 0, len(times)
    while position < n_buf and written < capacity:
        after_blanks = position
        while buf[after_blanks] != delimiter and (
            buf[after_blanks] == 32 or buf[after_blanks] == 9 or buf[after_blanks] == 13
        ):
            after_blanks += 1
        if buf[after_blanks] == 10:
            counts[BLANK] += 1
            position = after_blanks + 1
            line += 1
            continue
        starts[:] = -1
        column = 0
        while True:
            if buf[position] == 34:
                field_start = position + 1
                cursor = field_start
                while buf[cursor] != 10:
                    if buf[cursor] == 34:
                        if buf[cursor + 1] == 34:
                            cursor += 2
                            continue
                        break
                    cursor += 1
                field_end = _field_end(buf, field_start, cursor)
                while buf[cursor] != delimiter and buf[cursor] != 10:
                    cursor += 1
            else:
                field_start = position
                cursor = position
                while buf[cursor] != delimiter and buf[cursor] != 10:
                    cursor += 1
                field_end = _field_end(buf, field_start, cursor)
            for slot in range(5):
                if wanted[slot] == column:
                    starts[slot], ends[slot] = field_start, field_end
            column += 1
            position = cursor + 1
            if buf[cursor] == 10:
                break
            if column > last:
                while buf[position - 1] != 10:
                    position += 1
                break
        line += 1
        code = TOO_FEW if column <= last else 0
        time, size, op, ttl = 0.0, np.int64(1), np.int8(GET), 0.0
        if code == 0 and starts[TIME] >= 0:
            time = seconds(buf, starts[TIME], ends[TIME])
            if np.isnan(time):
                code = BAD_TIME
        if code == 0 and starts[SIZE] >= 0:
            start, end = starts[SIZE], ends[SIZE]
            if end > start + 1 and buf[start] == 45 and unsigned(buf, start + 1, end, False) >= 0:
                counts[NEGATIVE] += 1
                first_lines[NEGATIVE] = line - 1
                return position, line, written
            size = unsigned(buf, start, end, False)
            if size < 0:
                code = BAD_SIZE
        if code == 0 and starts[OP] >= 0:
            op = operation_code(buf, starts[OP], ends[OP], op_names, op_offsets, op_codes)
            if op < 0:
                code = BAD_OP
        if code == 0 and starts[TTL] >= 0:
            ttl = ttl_seconds(buf, starts[TTL], ends[TTL])
            if np.isnan(ttl):
                code = BAD_TTL
        if code:
            counts[code] += 1
            if first_lines[code] < 0:
                first_lines[code] = line - 1
            continue
        key_spans[written, 0], key_spans[written, 1] = starts[KEY], ends[KEY]
        times[written], sizes[written], ops[written], ttls[written] = time, size, op, ttl
        written += 1
    return position, line, written


def _is_blank(line: bytes, delimiter: bytes) -> bool:
    """Whether the scanner ignores ``line`` as blank (a delimiter, even among blanks, makes fields)."""
    return not line.strip(b" \t\r".replace(delimiter, b""))


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
    """0-based column index for key, time, size, op and ttl (-1: not used)."""
    wanted = np.full(5, -1, np.int64)
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


def read_csv(
    path: Path,
    *,
    delimiter: str = ",",
    key_col: str | None = None,
    time_col: str | None = None,
    size_col: str | None = None,
    op_col: str | None = None,
    ttl_col: str | None = None,
    strict: bool = False,
    keep_order: bool = False,
) -> Trace:
    """A delimited trace; columns by header name or 1-based number."""
    separator = delimiter.encode()
    if len(separator) != 1:
        raise TraceError(f"the delimiter must be one byte, not {delimiter!r}")
    options = {KEY: key_col, TIME: time_col, SIZE: size_col, OP: op_col, TTL: ttl_col}
    options = {slot: None if value is None else str(value).strip() for slot, value in options.items()}
    keys, tally = KeyTable(), Tally()
    counts, first_lines = np.zeros(BLANK + 1, np.int64), np.full(BLANK + 1, -1, np.int64)
    ids, times, sizes, ops, ttls, line, wanted, header_line = [], [], [], [], [], 1, None, False
    for buf in iter_text(path):
        position = 0
        if wanted is None:
            position, wanted = _columns_from_first_lines(path, buf, separator, options)
            header_line = position > 0
            line = 2 if header_line else 1
        while position < len(buf):
            capacity = (len(buf) - position) // 16 + 1024
            out = (np.empty((capacity, 2), np.int64), np.empty(capacity, np.float64), np.empty(capacity, np.int64),
                   np.empty(capacity, np.int8), np.empty(capacity, np.float32))  # fmt: skip
            position, line, written = _parse_rows(buf, position, line, separator[0], wanted, OPERATIONS, out,
                                                  (counts, first_lines))  # fmt: skip
            if counts[NEGATIVE]:
                raise TraceError(f"{path}: line {first_lines[NEGATIVE]:,}: negative size")
            key_spans, time, size, op, ttl = (column[:written] for column in out)
            ids.append(keys.intern(buf, key_spans[:, 0], key_spans[:, 1]))
            times.append(time)
            sizes.append(size)
            ops.append(op)
            ttls.append(ttl)
    tally.lines = line - 1
    for code, reason in REASONS.items():
        tally.add(reason, counts[code], first_lines[code])
    if header_line and not tally.skipped:  # with no row, the header and blank lines are why: say so
        tally.ignore("only a header" if tally.lines == 1 else "header", 1)
    tally.ignore("blank", counts[BLANK])
    columns = Columns(
        concat(ids, np.int32),
        unpack_keys(*keys.packed()),
        concat(times, np.float64) if wanted is not None and wanted[TIME] >= 0 else None,
        concat(sizes, np.int64),
        concat(ops, np.int8),
        concat(ttls, np.float32) if wanted is not None and wanted[TTL] >= 0 else None,
        info={"format": "tsv" if delimiter == "\t" else "csv"},
    )
    return finish(path, columns, tally, strict=strict, keep_order=keep_order)


def _columns_from_first_lines(
    path: Path, buf: np.ndarray, separator: bytes, options: dict[int, str | None]
) -> tuple[int, np.ndarray]:
    """Which columns to read, and where the rows start (after the header line, if there is one)."""
    head = buf[: 1 << 16].tobytes()
    if head.count(b"\n") < 2 and len(head) < len(buf):
        head = buf.tobytes()  # long first lines: look at the whole buffer
    lines = head.split(b"\n", 2)
    first = _header_fields(lines[0].removesuffix(b"\r"), separator)
    second = _header_fields(lines[1].removesuffix(b"\r"), separator) if len(lines) > 2 else None
    if not _is_blank(lines[0], separator) and _has_header(first, second, options):
        return len(lines[0]) + 1, _resolve(path, first, options)
    return 0, _resolve(path, None, options)
