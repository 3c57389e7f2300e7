"""``nginx`` / ``apache``: web server access logs, in a named or the server's own log format.

A format string (nginx ``$var`` or Apache ``%x`` syntax) compiles into tokens:
literals that must match and fields that run to the next literal's first byte.
A field opened by ``"`` runs to the next unescaped ``"`` that is followed by the
rest of its literal, so ``\\"`` escapes and even stray quotes inside user
agents parse. A compiled scanner walks the raw bytes of every line; keys stay
raw bytes (interned without decoding), times become UTC epoch seconds. The
method becomes the request's operation by the words ``words.OPERATIONS`` names
(PUT and POST: SET, DELETE: DELETE); any other method (GET, HEAD, OPTIONS…) is
a GET.

``combined`` is the default and also accepts ``common`` lines (the fields after
the size are optional); anything after the last field is ignored.
"""

from __future__ import annotations

import re
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

from tuner.errors import TraceError
from tuner.readers.base import Columns, Tally, concat, finish
from tuner.readers.interning import KeyTable, key_hash, unpack_keys
from tuner.readers.lines import iter_text
from tuner.readers.numbers import digits, seconds, unsigned
from tuner.readers.words import OPERATIONS, operation_code, pack_words, word_index
from tuner.trace import GET, Trace

NAMED_FORMATS = {
    "combined": '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent"',
    "common": '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent',
}
# Fields after these positions may be missing from a line of a named format (common lines in a combined log).
_OPTIONAL_AFTER = {"combined": "$body_bytes_sent"}

IGNORE, REQUEST, TIME_LOCAL, STATUS, BYTES, HOST, METHOD, URI, MSEC = range(9)
N_ROLES = 9
NGINX_ROLES = {
    "request": REQUEST, "time_local": TIME_LOCAL, "status": STATUS, "body_bytes_sent": BYTES, "bytes_sent": BYTES,
    "host": HOST, "http_host": HOST, "server_name": HOST, "request_method": METHOD, "request_uri": URI, "msec": MSEC,
}  # fmt: skip
APACHE_ROLES = {
    "r": REQUEST, "t": TIME_LOCAL, ">s": STATUS, "s": STATUS, "<s": STATUS, "b": BYTES, "B": BYTES, "O": BYTES,
    "v": HOST, "V": HOST, "{Host}i": HOST, "m": METHOD, "U": URI,
}  # fmt: skip
_NGINX_FIELD = re.compile(r"\$(\w+)|\$\{(\w+)\}")
_APACHE_FIELD = re.compile(r"%[<>!,\d]*(\{[^}]*\}[a-zA-Z]|[a-zA-Z%])")

LITERAL, FIELD = 0, 1
NOT_LOG, NO_REQUEST, BAD_TIME, BAD_STATUS, BAD_SIZE = 1, 2, 3, 4, 5
METHOD_FILTERED, STATUS_FILTERED = 6, 7  # kept out on purpose, not skipped
REASONS = {
    NOT_LOG: "not a log line",
    NO_REQUEST: "without method and path",
    BAD_TIME: "bad timestamp",
    BAD_STATUS: "bad status",
    BAD_SIZE: "bad size",
}
_MONTHS = np.frombuffer(b"JanFebMarAprMayJunJulAugSepOctNovDec", np.uint8)


class LogFormat:
    """A compiled log format: token arrays the scanner walks."""

    def __init__(self, format_string: str, syntax: str = "nginx") -> None:
        name = format_string
        format_string = NAMED_FORMATS.get(format_string, format_string)
        tokens: list[tuple[int, int, bytes]] = []  # (kind, role, literal)
        optional_from = None
        pattern, roles = (_APACHE_FIELD, APACHE_ROLES) if syntax == "apache" else (_NGINX_FIELD, NGINX_ROLES)
        position = 0
        for match in pattern.finditer(format_string):
            literal = format_string[position : match.start()]
            if syntax == "apache":
                literal = literal.replace('\\"', '"')
            if literal:
                tokens.append((LITERAL, IGNORE, literal.encode("latin-1")))
            elif tokens and tokens[-1][0] == FIELD:
                raise TraceError(f"log format {name!r}: {match.group(0)!r} and the field before it need a separator")
            field = match.group(1) or match.group(2) if syntax != "apache" else match.group(1)
            if syntax == "apache" and field == "%":
                tokens.append((LITERAL, IGNORE, b"%"))
            elif syntax == "apache" and field == "t":
                tokens += [(LITERAL, IGNORE, b"["), (FIELD, TIME_LOCAL, b""), (LITERAL, IGNORE, b"]")]
            else:
                role = roles.get(field, IGNORE)
                if role != IGNORE and any(token[1] == role for token in tokens):
                    role = IGNORE  # the first field of a kind wins ($body_bytes_sent before $bytes_sent)
                tokens.append((FIELD, role, b""))
            if _OPTIONAL_AFTER.get(name) == match.group(0):
                optional_from = len(tokens)
            position = match.end()
        if format_string[position:]:
            tokens.append((LITERAL, IGNORE, format_string[position:].replace('\\"', '"').encode("latin-1")))
        tokens = _merge_literals(tokens)
        if any(b"\n" in literal or b"\r" in literal for _, _, literal in tokens):
            raise TraceError(f"log format {name!r}: a log line cannot hold a line break")
        if not any(kind == FIELD for kind, _, _ in tokens):
            raise TraceError(f"log format {name!r} has no fields")
        self.roles_present = {role for kind, role, _ in tokens if kind == FIELD and role != IGNORE}
        self.kinds = np.array([kind for kind, _, _ in tokens], np.int8)
        self.roles = np.array([role for _, role, _ in tokens], np.int8)
        literals = [literal for _, _, literal in tokens]
        bounds = np.cumsum([0] + [len(literal) for literal in literals])
        self.literal_starts, self.literal_ends = bounds[:-1].astype(np.int64), bounds[1:].astype(np.int64)
        self.literals = np.frombuffer(b"".join(literals) or b"\0", np.uint8)
        # a field right after a literal ending in '"' runs to the closing quote
        self.quoted = np.array([i > 0 and literals[i - 1].endswith(b'"') for i in range(len(tokens))], np.bool_)
        self.optional_from = len(tokens) if optional_from is None else optional_from


def _merge_literals(tokens: list[tuple[int, int, bytes]]) -> list[tuple[int, int, bytes]]:
    merged: list[tuple[int, int, bytes]] = []
    for token in tokens:
        if merged and token[0] == LITERAL and merged[-1][0] == LITERAL:
            merged[-1] = (LITERAL, IGNORE, merged[-1][2] + token[2])
        else:
            merged.append(token)
    return merged


@njit(cache=True, nogil=True, inline="always")
def _at_line_end(buf, position):
    """Whether ``position`` is where its line ends: at the line feed, or at a carriage return right before it."""
    byte = buf[position]
    return byte == 10 or (byte == 13 and buf[position + 1] == 10)


@njit(cache=True, nogil=True)
def _field_end(buf, cursor, stop):
    """Where a field that runs to the byte ``stop`` or to the line's end ends."""
    while True:
        byte = buf[cursor]
        if byte == stop or (byte < 14 and _at_line_end(buf, cursor)):
            return cursor
        cursor += 1


@njit(cache=True, nogil=True)
def _quoted_end(buf, cursor, literals, next_start, next_end):
    """Where a quoted field ends: at a ``"`` (not escaped by ``\\``) followed by the rest of the next literal; -1
    when the line ends first."""
    while True:
        byte = buf[cursor]
        if byte == 92:
            if _at_line_end(buf, cursor + 1):
                return -1
            cursor += 2
            continue
        if byte == 34:
            if _literal_at(buf, cursor, literals, next_start, next_end):
                return cursor
        elif byte < 14 and _at_line_end(buf, cursor):
            return -1
        cursor += 1


@njit(cache=True, nogil=True)
def _literal_at(buf, position, literals, literal_start, literal_end):
    """Whether the literal is at ``position``; a literal holds no line break, so a match never leaves the line."""
    for k in range(literal_end - literal_start):  # noqa: SIM110  (a generator would not compile)
        if buf[position + k] != literals[literal_start + k]:
            return False
    return True


@njit(cache=True, nogil=True)
def _scan_line(buf, position, spans, kinds, roles, literal_starts, literal_ends, literals, quoted, optional_from):
    """Fill ``spans`` (role: start, end; -1 when absent) for the line at ``position``; (whether it fits, where the
    scan stopped, at or before the line's end).

    The line's end is found on the way (``_at_line_end``), not in a pass of its own before the scan.
    """
    for slot in range(N_ROLES):
        spans[slot, 0] = -1
        spans[slot, 1] = -1
    n_tokens = len(kinds)
    token = 0
    while token < n_tokens:
        if token >= optional_from and _at_line_end(buf, position):
            return True, position
        if kinds[token] == LITERAL:
            if not _literal_at(buf, position, literals, literal_starts[token], literal_ends[token]):
                return False, position
            position += literal_ends[token] - literal_starts[token]
            token += 1
            continue
        after = token + 1
        cursor = position
        if after >= n_tokens:
            cursor = _field_end(buf, cursor, 32)
        elif quoted[token]:
            cursor = _quoted_end(buf, cursor, literals, literal_starts[after], literal_ends[after])
            if cursor < 0:
                return False, position
        else:
            cursor = _field_end(buf, cursor, literals[literal_starts[after]])
        if roles[token] != IGNORE:
            spans[roles[token], 0] = position
            spans[roles[token], 1] = cursor
        position = cursor
        token += 1
    return True, position


@njit(cache=True, nogil=True)
def _days_from_civil(year, month, day):
    """Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm)."""
    year -= month <= 2
    era = (year if year >= 0 else year - 399) // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


@njit(cache=True, nogil=True)
def _dayseconds(buf, start):
    """``10/Oct/2026:…:… -0700``: UTC epoch seconds of that local midnight; -1 << 62 when malformed."""
    for offset, separator in ((2, 47), (6, 47), (20, 32)):
        if buf[start + offset] != separator:
            return np.int64(-1) << 62
    month = 0
    for candidate in range(12):
        if (buf[start + 3] == _MONTHS[3 * candidate] and buf[start + 4] == _MONTHS[3 * candidate + 1]
                and buf[start + 5] == _MONTHS[3 * candidate + 2]):  # fmt: skip
            month = candidate + 1
    day, year = digits(buf, start, 2), digits(buf, start + 7, 4)
    zone_hours, zone_minutes = digits(buf, start + 22, 2), digits(buf, start + 24, 2)
    sign = 1 if buf[start + 21] == 43 else (-1 if buf[start + 21] == 45 else 0)
    if month == 0 or sign == 0 or not (1 <= day <= 31) or year < 0 or zone_hours < 0 or zone_minutes < 0:
        return np.int64(-1) << 62
    return _days_from_civil(year, month, day) * 86400 - sign * (zone_hours * 3600 + zone_minutes * 60)


@njit(cache=True, nogil=True)
def _time_local(buf, start, end, day_cache):
    """``10/Oct/2026:13:55:36 -0700`` as UTC epoch seconds, NaN when malformed.

    ``day_cache`` holds where the last good time of this buffer starts and its
    day's seconds: consecutive lines share the day, so the date is parsed only
    when its bytes change.
    """
    if end - start != 26:
        return np.nan
    previous = day_cache[0]
    same_day = previous >= 0
    if same_day:  # the date (dd/Mon/yyyy) and zone ( -0700), not the time of day
        for offset in range(11):
            if buf[start + offset] != buf[previous + offset]:
                same_day = False
        for offset in range(20, 26):
            if buf[start + offset] != buf[previous + offset]:
                same_day = False
    if same_day:
        day = day_cache[1]
    else:
        day = _dayseconds(buf, start)
        if day == np.int64(-1) << 62:
            return np.nan
        day_cache[0], day_cache[1] = start, day
    if buf[start + 11] != 58 or buf[start + 14] != 58 or buf[start + 17] != 58:
        return np.nan
    hour, minute, second = digits(buf, start + 12, 2), digits(buf, start + 15, 2), digits(buf, start + 18, 2)
    if not (0 <= hour < 24) or not (0 <= minute < 60) or not (0 <= second <= 60):
        return np.nan
    return float(day + hour * 3600 + minute * 60 + second)


@njit(cache=True, nogil=True)
def _space_at_or_after(buf, cursor, end):
    """The first space in ``buf[cursor:end]``, or ``end``."""
    while cursor < end:
        if buf[cursor] == 32:
            return cursor
        cursor += 1
    return end


@njit(cache=True, nogil=True)
def _line_code(buf, spans, drop_query, day_cache):
    """(code, key start, key end, method start, method end, status, size, time) of a line that fits the format.

    ``code`` is 0 for a usable line, else the reason it is skipped (and the
    rest is meaningless).
    """
    target_start, target_end = spans[URI, 0], spans[URI, 1]
    method_start, method_end = spans[METHOD, 0], spans[METHOD, 1]
    if spans[REQUEST, 0] >= 0:
        start, end = spans[REQUEST, 0], spans[REQUEST, 1]
        cursor = _space_at_or_after(buf, start, end)
        if method_start < 0:
            method_start, method_end = start, cursor
        while cursor < end:
            if buf[cursor] != 32:
                break
            cursor += 1
        if target_start < 0:
            target_start = cursor
            target_end = _space_at_or_after(buf, cursor, end)
    if target_start < 0 or target_end <= target_start or method_end <= method_start:
        return NO_REQUEST, 0, 0, 0, 0, 0, 0, 0.0
    if drop_query:
        for position in range(target_start, target_end):
            if buf[position] == 63:
                target_end = position
                break
    time = 0.0
    if spans[TIME_LOCAL, 0] >= 0:
        time = _time_local(buf, spans[TIME_LOCAL, 0], spans[TIME_LOCAL, 1], day_cache)
    elif spans[MSEC, 0] >= 0:
        time = seconds(buf, spans[MSEC, 0], spans[MSEC, 1])
    if np.isnan(time):
        return BAD_TIME, 0, 0, 0, 0, 0, 0, 0.0
    status = 0
    if spans[STATUS, 0] >= 0:
        status = unsigned(buf, spans[STATUS, 0], spans[STATUS, 1], False)
        if status < 0 or status > 999:
            return BAD_STATUS, 0, 0, 0, 0, 0, 0, 0.0
    size = 0
    if spans[BYTES, 0] >= 0:
        size = unsigned(buf, spans[BYTES, 0], spans[BYTES, 1], True)
        if size < 0:
            return BAD_SIZE, 0, 0, 0, 0, 0, 0, 0.0
    return 0, target_start, target_end, method_start, method_end, status, size, time


@njit(cache=True, nogil=True)
def _parse_block(buf, position, line, fmt, options, out, tally):
    """Parse the lines of ``buf`` (whole lines) from ``position`` until it ends or ``out`` is full.

    ``fmt`` is the compiled format, ``options`` what to keep and the
    operations table. Kept requests go to ``out`` (key start, end, host start,
    end; time; size; operation; the key's hash and whether it is short, see
    ``interning.key_hash``: hashing here, in the
    parsing threads, leaves only the table probes to the one interning
    thread); ``tally`` counts each reason (REASONS, then METHOD_FILTERED and
    STATUS_FILTERED) and keeps the first line of each. Returns (position,
    line, requests written).
    """
    kinds, roles, literal_starts, literal_ends, literals, quoted, optional_from = fmt
    drop_query, key_host, check_methods, methods, method_offsets, check_statuses, status_kept, operations = options
    operation_words, operation_offsets, operation_codes = operations
    spans_out, times_out, sizes_out, ops_out, hashes_out, shorts_out = out
    counts, first_lines = tally
    spans = np.empty((N_ROLES, 2), np.int64)
    day_cache = np.full(2, -1, np.int64)
    n_buf, written, capacity = len(buf), 0, len(times_out)
    while position < n_buf and written < capacity:
        fits, cursor = _scan_line(buf, position, spans, kinds, roles, literal_starts, literal_ends, literals, quoted,
                                  optional_from)  # fmt: skip
        code, key_start, key_end, method_start, method_end, status, size, time = NOT_LOG, 0, 0, 0, 0, 0, 0, 0.0
        if fits:
            code, key_start, key_end, method_start, method_end, status, size, time = _line_code(buf, spans, drop_query,
                                                                                                day_cache)  # fmt: skip
        while buf[cursor] != 10:  # what follows the last field is ignored
            cursor += 1
        position = cursor + 1
        line += 1
        if code == 0 and check_methods and word_index(buf, method_start, method_end, methods, method_offsets) < 0:
            code = METHOD_FILTERED
        if code == 0 and check_statuses and not status_kept[status]:
            code = STATUS_FILTERED
        if code:
            counts[code] += 1
            if first_lines[code] < 0:
                first_lines[code] = line - 1
            continue
        host_start, host_end = (spans[HOST, 0], spans[HOST, 1]) if key_host else (0, 0)
        spans_out[written, 0], spans_out[written, 1] = key_start, key_end
        spans_out[written, 2], spans_out[written, 3] = host_start, host_end
        times_out[written] = time
        sizes_out[written] = size
        op = operation_code(buf, method_start, method_end, operation_words, operation_offsets, operation_codes)
        ops_out[written] = op if op >= 0 else GET
        hashes_out[written], short = key_hash(buf, host_start, host_end, key_start, key_end)
        shorts_out[written] = short >= 0
        written += 1
    return position, line, written


def _status_filter(statuses: str | None) -> tuple[set[int], set[int]] | None:
    """'200,304' or '2xx,304' as (exact codes, hundreds); None keeps every status."""
    if statuses is None or statuses.strip().lower() == "all":
        return None
    exact, hundreds = set(), set()
    for part in statuses.replace(" ", "").split(","):
        if re.fullmatch(r"[1-5]xx", part, re.IGNORECASE):
            hundreds.add(int(part[0]))
        elif re.fullmatch(r"\d{3}", part):
            exact.add(int(part))
        else:
            raise TraceError(f"--statuses: {part!r} is not a status like 200 or 2xx")
    return exact, hundreds


@dataclass
class _ParsedPart:
    """One piece of a buffer, parsed: kept requests and the skip tally, line numbers counted from the piece's start.

    ``requests`` holds blocks of (key spans, times, sizes, operations, key hashes, short key?).
    """

    buf: np.ndarray
    requests: list[tuple[np.ndarray, ...]]
    lines: int
    counts: np.ndarray
    first_lines: np.ndarray


def _parse_part(buf: np.ndarray, fmt: tuple, options: tuple) -> _ParsedPart:
    """Parse a piece of whole lines (in a worker thread: the kernel releases the GIL)."""
    counts, first_lines = np.zeros(STATUS_FILTERED + 1, np.int64), np.full(STATUS_FILTERED + 1, -1, np.int64)
    requests, position, line = [], 0, 1
    while position < len(buf):
        capacity = (len(buf) - position) // 64 + 1024
        out = (np.empty((capacity, 4), np.int64), np.empty(capacity, np.float64), np.empty(capacity, np.int64),
               np.empty(capacity, np.int8), np.empty(capacity, np.uint64), np.empty(capacity, np.bool_))  # fmt: skip
        position, line, written = _parse_block(buf, position, line, fmt, options, out, (counts, first_lines))
        requests.append(tuple(column[:written] for column in out))
    return _ParsedPart(buf, requests, line - 1, counts, first_lines)


def _pieces(buf: np.ndarray, piece_bytes: int = 1024 << 10) -> list[np.ndarray]:
    """``buf`` cut at line ends into pieces of about ``piece_bytes``, small enough that two threads share the
    parsing evenly while the reading thread reads ahead and interns what they finished."""
    pieces, start = [], 0
    while len(buf) - start > piece_bytes + (piece_bytes >> 1):
        near = np.flatnonzero(buf[start + piece_bytes : start + piece_bytes + (1 << 16)] == 10)
        if not len(near):
            break  # a line longer than 64 KiB: leave the rest whole
        cut = start + piece_bytes + int(near[0]) + 1
        pieces.append(buf[start:cut])
        start = cut
    pieces.append(buf[start:])
    return pieces


def _method_filter(methods: str) -> tuple[bool, np.ndarray, np.ndarray]:
    """'GET,HEAD' as (check?, *the names' word table); 'all' checks nothing."""
    if methods.strip().lower() == "all":
        return False, *pack_words([])
    return True, *pack_words(sorted({method.strip().lower().encode() for method in methods.split(",")}))


def _status_table(kept_statuses: tuple[set[int], set[int]] | None) -> np.ndarray:
    """Whether each status 0…999 is kept."""
    if kept_statuses is None:
        return np.ones(1000, np.bool_)
    exact, hundreds = kept_statuses
    codes = np.arange(1000)
    return np.isin(codes, list(exact)) | np.isin(codes // 100, list(hundreds))


def _filtered_reason(filtered: dict[str, int], methods: str, statuses: str | None) -> str:
    """'filtered out (method not GET,HEAD: 5, status not 2xx: 2)': the lines kept out on purpose, and why."""
    kept = {"method": methods, "status": statuses}
    return "filtered out (" + ", ".join(f"{kind} not {kept[kind]}: {count:,}" for kind, count in filtered.items()
                                        if count) + ")"  # fmt: skip


def read_access_log(
    path: Path,
    *,
    syntax: str = "nginx",
    log_format: str = "combined",
    key_host: bool = False,
    drop_query: bool = False,
    methods: str = "GET,HEAD",
    statuses: str | None = None,
    object_size: str = "largest",
    strict: bool = False,
    keep_order: bool = False,
) -> Trace:
    """An access log as requests keyed by their target (``host + target`` with ``key_host``).

    ``methods`` and ``statuses`` keep only those requests (``methods='all'``
    keeps every method); ``object_size='largest'`` gives each object the largest
    size it was sent with (a 304 or HEAD sends no body), ``'each'`` keeps each
    request's own. A format without a bytes field has no sizes: every size is 1, so capacities count objects.
    """
    compiled = LogFormat(log_format, syntax)
    if key_host and HOST not in compiled.roles_present:
        raise TraceError(f"{path}: key_host needs a host field ($host) in the log format")
    if object_size not in ("largest", "each"):
        raise TraceError(f"object_size must be 'largest' or 'each', not {object_size!r}")
    kept_statuses = _status_filter(statuses)
    if kept_statuses and STATUS not in compiled.roles_present:
        raise TraceError(f"{path}: statuses needs a status field in the log format")
    fmt = (compiled.kinds, compiled.roles, compiled.literal_starts, compiled.literal_ends, compiled.literals,
           compiled.quoted, compiled.optional_from)  # fmt: skip
    options = (drop_query, key_host, *_method_filter(methods), kept_statuses is not None,
               _status_table(kept_statuses), OPERATIONS)  # fmt: skip
    keys, tally = KeyTable(), Tally()
    counts, first_lines = np.zeros(STATUS_FILTERED + 1, np.int64), np.full(STATUS_FILTERED + 1, -1, np.int64)
    ids, times, sizes, ops, line = [], [], [], [], 1

    def take(part: _ParsedPart) -> None:
        """Count a parsed piece's lines and intern its keys (pieces come in file order)."""
        nonlocal line
        part.first_lines[part.first_lines >= 0] += line - 1
        first_lines[first_lines < 0] = part.first_lines[first_lines < 0]
        counts[:] += part.counts
        line += part.lines
        for spans, time, size, op, hashes, shorts in part.requests:
            ids.append(keys.intern_hashed(part.buf, spans, hashes, shorts))
            times.append(time)
            sizes.append(size)
            ops.append(op)

    parsing: deque = deque()  # futures of the pieces being parsed, in file order
    with ThreadPoolExecutor(max_workers=2) as parsers:
        # two buffers take turns: while the parsers work on one, this thread reads the next into the other and
        # interns the pieces they finished; a buffer is read into again only once all its keys are interned
        for buf in iter_text(path, 4 << 20, stores=2):
            started = [parsers.submit(_parse_part, piece, fmt, options) for piece in _pieces(buf)]
            while parsing:
                take(parsing.popleft().result())
            parsing.extend(started)
        while parsing:
            take(parsing.popleft().result())
    tally.lines = line - 1
    for code, reason in REASONS.items():
        tally.add(reason, counts[code], first_lines[code])
    filtered = {"method": int(counts[METHOD_FILTERED]), "status": int(counts[STATUS_FILTERED])}
    tally.ignore(_filtered_reason(filtered, methods, statuses), sum(filtered.values()))
    id_column, unique_keys = concat(ids, np.int32), unpack_keys(*keys.packed())
    # without a bytes field the log has no sizes: all 1, as in every reader whose source has none
    size_column = concat(sizes, np.int64) if BYTES in compiled.roles_present else None
    if object_size == "largest" and size_column is not None and len(id_column):
        largest = np.zeros(len(unique_keys), np.int64)
        np.maximum.at(largest, id_column, size_column)
        size_column = largest[id_column]
    has_time = bool(compiled.roles_present & {TIME_LOCAL, MSEC})
    info = {"format": syntax, "log_format": log_format, "filtered": filtered}
    columns = Columns(id_column, unique_keys, concat(times, np.float64) if has_time else None, size_column,
                      concat(ops, np.int8), info=info)  # fmt: skip
    return finish(path, columns, tally, strict=strict, keep_order=keep_order)
