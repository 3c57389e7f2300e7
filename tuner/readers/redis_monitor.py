"""``redis-monitor``: the lines Redis's MONITOR prints, as ``redis-cli monitor`` saves them.

A line is ``1700000000.123456 [0 127.0.0.1:50000] "SET" "key" "value"``: the
time, the database and client, then each argument quoted the way redis
7.0's ``sdscatrepr`` quotes it (``\\"``, ``\\\\``, ``\\n``, ``\\r``, ``\\t``,
``\\a``, ``\\b``, ``\\xHH`` for any other byte that is not printable ASCII).
``MonitorTranslator`` turns the commands into requests, and both this reader
and ``cachetune capture`` (``tuner.live.redis_capture``) use it, so a saved
log and a live capture of the same commands give the same trace:

- GET, GETEX and each key of MGET: GET;
- SET (with EX/PX/EXAT/PXAT as its TTL, KEEPTTL keeping the last TTL seen),
  SETEX, PSETEX, SETNX, GETSET, each pair of MSET/MSETNX: SET with the
  value's size; APPEND and SETRANGE: SET at the size they leave; INCR, DECR,
  INCRBY, DECRBY, INCRBYFLOAT: SET at the key's last size;
- DEL, UNLINK (each key), GETDEL: DELETE;
- EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT: a TTL change, recorded as a SET of
  the key at its last size with the new TTL (it restarts the object's
  clock, as Redis does; a replay counts it as a write);
- anything else (hashes, lists, PING, INFO, …): counted by name in
  ``info["other_commands"]`` and skipped.

Simplifications: MONITOR shows commands, not results, so a SETNX or MSETNX
that did nothing still counts as a SET; a GET's size is the size of the
key's last SET seen (1, counted in ``info["unknown_sizes"]``, when none was
seen: ``cachetune capture --probe-sizes`` asks the server); keys of database
n ≠ 0 are prefixed ``db<n>:`` so that equal names in two databases stay two
objects.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from tuner.readers.base import Columns, Tally, finish
from tuner.readers.compression import iter_chunks
from tuner.trace import DELETE, GET, SET, Trace

# time, database, client (an IPv6 client prints as [::1]:port), then the arguments
_LINE = re.compile(rb'(\d+(?:\.\d+)?) \[(\d+) (.*?)\]((?: "(?:[^"\\]|\\.)*")+)\s*$', re.DOTALL)
_ARGUMENT = re.compile(rb'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_ESCAPE = re.compile(rb"\\(x[0-9a-fA-F]{2}|.)", re.DOTALL)
_ESCAPED = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"a": b"\a", b"b": b"\b", b"\\": b"\\", b'"': b'"'}

Record = tuple[float, int, bytes, int, float]  # time, op, key, size, ttl


def _unescape(match: re.Match) -> bytes:
    code = match.group(1)
    return bytes([int(code[1:], 16)]) if len(code) == 3 and code[:1] == b"x" else _ESCAPED.get(code, code)


def parse_line(line: bytes) -> tuple[float, int, bytes, list[bytes]] | None:
    """(time, database, client, arguments) of one MONITOR line, or None when it is not one."""
    match = _LINE.match(line)
    if match is None:
        return None
    arguments = [_ESCAPE.sub(_unescape, raw) if b"\\" in raw else raw for raw in _ARGUMENT.findall(match.group(4))]
    return float(match.group(1)), int(match.group(2)), match.group(3), arguments


def _number(text: bytes) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


class MonitorTranslator:
    """MONITOR commands in, requests ``(time, op, key, size, ttl)`` out, with the sizes and TTLs seen so far.

    ``probe(key)`` (optional) gives the size of a key read before any SET of
    it was seen (or None); ``ignore_client`` names a client whose commands are
    not the application's (the capture's own probe connection).
    """

    def __init__(self, probe: Callable[[bytes], int | None] | None = None, ignore_client: bytes | None = None) -> None:
        self._databases: dict[int, tuple[dict[bytes, int], dict[bytes, float]]] = {}
        self.sizes: dict[bytes, int] = {}  # of the database of the line being translated
        self.ttls: dict[bytes, float] = {}
        self.other_commands: Counter = Counter()
        self.unknown_sizes = 0
        self.ttl_changes = 0
        self.probe = probe
        self.ignore_client = ignore_client

    def _size(self, key: bytes) -> int:
        size = self.sizes.get(key)
        if size is None and self.probe is not None:
            size = self.probe(key)
            if size is not None and size > 0:
                self.sizes[key] = size
            else:
                size = None
        if size is None:
            self.unknown_sizes += 1
            return 1
        return size

    def _set(self, time: float, key: bytes, size: int, ttl: float) -> Record:
        self.sizes[key] = size
        if ttl > 0:
            self.ttls[key] = ttl
        else:
            self.ttls.pop(key, None)
        return (time, SET, key, size, ttl)

    def translate(self, line: bytes) -> list[Record] | None:
        """The requests of one MONITOR line (often one, none for other commands); None for a malformed line."""
        parsed = parse_line(line)
        if parsed is None:
            return None
        time, database, client, arguments = parsed
        if (self.ignore_client is not None and client == self.ignore_client) or not arguments:
            return []
        command = arguments[0].upper()
        self.sizes, self.ttls = self._databases.setdefault(database, ({}, {}))
        try:
            records = self._requests(time, command, arguments)
            if database and records:
                records = [(at, op, b"db%d:" % database + key, size, ttl) for at, op, key, size, ttl in records]
        except (IndexError, ValueError):  # too few arguments or a bad number: Redis refused it too
            records = None
        if records is None:
            self.other_commands[command.decode("latin-1")] += 1
            return []
        return records

    def _requests(self, time: float, command: bytes, arguments: list[bytes]) -> list[Record] | None:
        if command in (b"GET", b"GETEX"):
            key = arguments[1]
            return [(time, GET, key, self._size(key), 0.0)]
        if command == b"MGET":
            return [(time, GET, key, self._size(key), 0.0) for key in arguments[1:]]
        if command in (b"DEL", b"UNLINK"):
            for key in arguments[1:]:
                self.sizes.pop(key, None)
                self.ttls.pop(key, None)
            return [(time, DELETE, key, 1, 0.0) for key in arguments[1:]]
        if command == b"GETDEL":
            self.sizes.pop(arguments[1], None)
            self.ttls.pop(arguments[1], None)
            return [(time, DELETE, arguments[1], 1, 0.0)]
        return self._writes(time, command, arguments)

    def _writes(self, time: float, command: bytes, arguments: list[bytes]) -> list[Record] | None:
        key = arguments[1] if len(arguments) > 1 else b""
        if command == b"SET":
            return [self._set(time, key, len(arguments[2]), self._set_ttl(time, key, arguments[3:]))]
        if command == b"SETEX":
            return [self._set(time, key, len(arguments[3]), float(arguments[2]))]
        if command == b"PSETEX":
            return [self._set(time, key, len(arguments[3]), float(arguments[2]) / 1000.0)]
        if command in (b"SETNX", b"GETSET"):
            return [self._set(time, key, len(arguments[2]), 0.0)]
        if command in (b"MSET", b"MSETNX"):
            pairs = arguments[1:]
            if not pairs or len(pairs) % 2:
                return None
            return [self._set(time, pairs[k], len(pairs[k + 1]), 0.0) for k in range(0, len(pairs), 2)]
        if command in (b"INCR", b"DECR", b"INCRBY", b"DECRBY", b"INCRBYFLOAT"):
            return [self._set(time, key, self._size(key), self.ttls.get(key, 0.0))]
        if command == b"APPEND":
            size = self.sizes.get(key, 0) + len(arguments[2])
            return [self._set(time, key, size, self.ttls.get(key, 0.0))]
        if command == b"SETRANGE":
            size = max(self.sizes.get(key, 0), int(arguments[2]) + len(arguments[3]))
            return [self._set(time, key, size, self.ttls.get(key, 0.0))]
        if command in (b"EXPIRE", b"PEXPIRE", b"EXPIREAT", b"PEXPIREAT"):
            amount = float(arguments[2])
            ttl = {b"EXPIRE": amount, b"PEXPIRE": amount / 1000.0, b"EXPIREAT": amount - time,
                   b"PEXPIREAT": amount / 1000.0 - time}[command]  # fmt: skip
            self.ttl_changes += 1
            return [self._set(time, key, self._size(key), max(ttl, 0.001))]
        return None

    def _set_ttl(self, time: float, key: bytes, options: list[bytes]) -> float:
        """The TTL SET's options give (EX, PX, EXAT, PXAT; KEEPTTL: the key's last one), 0 for none."""
        words = [option.upper() for option in options]
        for unit, scale in ((b"EX", 1.0), (b"PX", 0.001)):
            if unit in words:
                return float(options[words.index(unit) + 1]) * scale
        for unit, scale in ((b"EXAT", 1.0), (b"PXAT", 0.001)):
            if unit in words:
                return max(float(options[words.index(unit) + 1]) * scale - time, 0.001)
        if b"KEEPTTL" in words:
            return self.ttls.get(key, 0.0)
        return 0.0

    def info(self) -> dict:
        return {"other_commands": dict(self.other_commands), "unknown_sizes": self.unknown_sizes,
                "ttl_changes": self.ttl_changes}  # fmt: skip


def iter_lines(path: Path) -> Iterator[bytes]:
    """The file's lines (any compression), without their line ends."""
    rest = b""
    for chunk in iter_chunks(path):
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        for line in lines:
            yield line.removesuffix(b"\r")
    if rest:
        yield rest.removesuffix(b"\r")


def read_redis_monitor(path: Path, *, strict: bool = False, keep_order: bool = False) -> Trace:
    """A saved MONITOR log (``redis-cli monitor > file``); keys are the raw bytes."""
    translator, tally = MonitorTranslator(), Tally()
    ids: list[int] = []
    key_ids: dict[bytes, int] = {}
    times, sizes, ops, ttls = [], [], [], []
    other = 0
    for number, line in enumerate(iter_lines(path), 1):
        tally.lines = number
        if not line.strip() or line.strip() == b"OK":
            tally.ignore("blank or OK", 1)
            continue
        records = translator.translate(line)
        if records is None:
            tally.add("not a MONITOR line", 1, number)
            continue
        if not records:
            other += 1
        for time, op, key, size, ttl in records:
            ids.append(key_ids.setdefault(key, len(key_ids)))
            times.append(time)
            sizes.append(size)
            ops.append(op)
            ttls.append(ttl)
    tally.ignore("other commands", other)
    keys = np.empty(len(key_ids), object)
    keys[:] = list(key_ids)
    columns = Columns(np.array(ids, np.int32), keys, np.array(times, np.float64), np.array(sizes, np.int64),
                      np.array(ops, np.int8), np.array(ttls, np.float32),
                      info={"format": "redis-monitor", **translator.info()})  # fmt: skip
    return finish(path, columns, tally, strict=strict, keep_order=keep_order)
