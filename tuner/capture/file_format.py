"""The capture file: a zstd-compressed CSV the csv reader reads as it is, with the capture's own figures beside it.

Rows are ``time,key,size,op,ttl``: seconds since the epoch (6 decimals), the
key (a 16-hex-digit salted hash, or the raw key with ``keep_keys``), the size
in bytes (1 where the source has none), ``get``/``set``/``delete`` and the TTL
in seconds (empty: none). The header names columns the csv reader knows, so
``--trace-format csv`` reads the file too. Each write is one zstd frame (a
file cut short by a crash loses at most its last frame). After the rows of a
write comes a zstd *skippable frame* (magic ``0x184D2A5C``) holding JSON: the
records written and dropped so far, whether keys are hashed, the salt's
fingerprint, the source. Decompressors pass over skippable frames
(``zstdcat`` prints only the CSV); ``read_summary`` finds the last one from
the file's end, where the payload ends in its length and ``CTCAPT01``.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import zstandard

from tuner.trace import DELETE, GET, SET

HEADER = b"time,key,size,op,ttl\n"
OP_WORDS = {GET: b"get", SET: b"set", DELETE: b"delete"}
SKIPPABLE_MAGIC = 0x184D2A5C
MARKER = b"CTCAPT01"
_TAIL = struct.Struct("<I8s")  # the JSON's length, then MARKER: the last 12 bytes of a summary frame
_LEVEL = 3


def ttl_text(ttl: float) -> bytes:
    """A TTL as the csv reader takes it: empty for none, whole seconds without a point, no exponent."""
    if not ttl or ttl <= 0:
        return b""
    return b"%d" % ttl if ttl == int(ttl) else b"%.3f" % ttl


def summary_frame(summary: dict) -> bytes:
    """A skippable frame carrying ``summary`` as JSON, findable from the end of the file."""
    payload = json.dumps(summary, sort_keys=True).encode()
    body = payload + _TAIL.pack(len(payload), MARKER)
    return struct.pack("<II", SKIPPABLE_MAGIC, len(body)) + body


def read_summary(path: Path) -> dict | None:
    """The last summary written to a capture file, or None when the file does not end in one."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            end = handle.tell()
            if end < _TAIL.size + 8:
                return None
            handle.seek(end - _TAIL.size)
            length, marker = _TAIL.unpack(handle.read(_TAIL.size))
            start = end - _TAIL.size - length - 8
            if marker != MARKER or start < 0:
                return None
            handle.seek(start)
            magic, size = struct.unpack("<II", handle.read(8))
            if magic != SKIPPABLE_MAGIC or size != length + _TAIL.size:
                return None
            return json.loads(handle.read(length))
    except (OSError, ValueError):
        return None


def claim_path(path: Path) -> Path:
    """Create the file this process writes: ``path`` itself if nobody has, else the name with the pid.

    Nothing is overwritten: a second process (a forked worker, the next run)
    finds ``path`` taken and writes ``app.4242.trace`` beside it (``.1``,
    ``.2`` after the pid if even that exists). Creation is atomic
    (``O_EXCL``), so two workers starting at once never share a file.
    """
    stem, dot, suffixes = path.name.partition(".")
    own = [f"{stem}.{os.getpid()}"] + [f"{stem}.{os.getpid()}.{n}" for n in range(1, 100)]
    candidates = [path] + [path.with_name(name + dot + suffixes) for name in own]
    for candidate in candidates:
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            return candidate
        except FileExistsError:
            continue
    raise FileExistsError(f"{path}: it and 100 names beside it exist")


class CaptureFile:
    """One process's capture file: the header, then frames of rows each followed by the summary so far.

    Written with ``os.write`` on a raw descriptor (no Python buffer a forked
    child could flush twice). Not thread-safe: one writer owns it.
    """

    def __init__(self, path: Path) -> None:
        self.path = claim_path(Path(path))
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        self._compressor = zstandard.ZstdCompressor(level=_LEVEL)
        self._started = False

    def write(self, rows: bytes, summary: dict) -> None:
        """Rows (whole lines) as one frame, then ``summary``."""
        if not self._started:
            rows, self._started = HEADER + rows, True
        data = self._compressor.compress(rows) if rows else b""
        self._write_all(data + summary_frame(summary))

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def abandon(self) -> None:
        """Drop the descriptor without writing (in a forked child: the file is the parent's)."""
        self.close()


def format_rows(records, key_text, floor: float = 0.0) -> tuple[bytes, float]:
    """CSV lines for records ``(time, op, key, size, ttl)``, keys through ``key_text``, and the last time written.

    Threads read the clock before they append, so two records can be a
    microsecond out of order: each time is held at least at the one before
    (``floor`` carries over from the previous call), keeping the order the
    requests were recorded in and times that never go backwards.
    """
    words, ttl_of, lines = OP_WORDS, ttl_text, []
    for time, op, key, size, ttl in records:
        floor = time if time > floor else floor
        lines.append(b"%.6f,%s,%d,%s,%s\n" % (floor, key_text(key), size, words[op], ttl_of(ttl)))
    return b"".join(lines), floor
