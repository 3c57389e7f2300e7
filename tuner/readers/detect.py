"""Which reader a file needs: its decompressed first bytes first, then its name.

A web server log line is unmistakable and wins over any name, and so are a
capture file's header and ``redis-cli monitor``'s lines. Otherwise the
extension (after compression suffixes) decides, and where it says nothing the
content's shape does: four integers per line is an ARC trace, one token per
line a text trace, tabs or commas a delimited table. Binary data is read as
oracleGeneral (``.bin``) or as packed big-endian integers (``.trace``), whose
width the byte statistics tell; anything else is refused with a hint.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from tuner.capture.file_format import HEADER as CAPTURE_HEADER
from tuner.errors import TraceError
from tuner.readers.compression import read_head

COMPRESSION_SUFFIXES = {".gz", ".gzip", ".zst", ".zstd", ".xz", ".bz2", ".lzma"}
BY_EXTENSION = {
    ".log": "nginx",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".lis": "arc",
    ".txt": "text",
    ".bin": "oracle-general",
    ".oraclegeneral": "oracle-general",
}
_LOG_LINE = re.compile(rb"^\S+ \S+ \S+ \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] \"")
_ARC_LINE = re.compile(rb"^\s*\d+\s+\d+\s+\S+\s+\S+\s*$")
# redis-cli monitor: 1700000000.123456 [0 127.0.0.1:50000] "GET" "key" (its first line is OK)
_MONITOR_LINE = re.compile(rb'^\d+(?:\.\d+)? \[\d+ .*?\] "')
_TOKEN_LINE = re.compile(rb"^\s*[^\s,]+\s*$")
_PRINTABLE = np.zeros(256, bool)
_PRINTABLE[32:127] = _PRINTABLE[128:] = True
_PRINTABLE[[9, 10, 13]] = True


def _extension(path: Path) -> str:
    suffixes = [suffix.lower() for suffix in path.suffixes if suffix.lower() not in COMPRESSION_SUFFIXES]
    return suffixes[-1] if suffixes else ""


def looks_like_text(head: bytes) -> bool:
    """No NUL byte and nearly every byte printable (Latin-1 and UTF-8 bytes count as printable)."""
    data = np.frombuffer(head, np.uint8)
    return b"\0" not in head and float(_PRINTABLE[data].mean()) >= 0.97


def packed_width(head: bytes) -> str:
    """``i64be`` or ``u32be`` from the byte statistics of packed integer keys.

    64-bit keys show it two ways: small ones leave the high bytes of every other
    32-bit word empty (byte columns with a period of 8, not 4), and random 64-bit
    hashes make each high word fix its low word, so pairing words adds no variety.
    """
    if len(head) % 8 or len(head) < 64:
        return "u32be"
    columns = np.frombuffer(head, np.uint8).reshape(-1, 8)
    entropy = []
    for position in range(8):
        counts = np.bincount(columns[:, position], minlength=256) / len(columns)
        counts = counts[counts > 0]
        entropy.append(float(-(counts * np.log2(counts)).sum()))
    if max(abs(entropy[p] - entropy[p + 4]) for p in range(4)) > 0.5:
        return "i64be"
    words = np.frombuffer(head, ">u4")
    pairs = np.frombuffer(head, ">u8")
    word_variety = len(np.unique(words)) / len(words)
    pair_variety = len(np.unique(pairs)) / len(pairs)
    return "i64be" if word_variety >= 0.9 * pair_variety else "u32be"


def detect_format(path: Path) -> str:
    """The reader name for ``path``."""
    head = read_head(path)
    if not head:
        raise TraceError(f"{path}: no requests: the file is empty")
    extension = _extension(path)
    if looks_like_text(head):
        lines = [line for line in head.split(b"\n")[:50] if line.strip()]
        if len(head) == 64 << 10 and len(lines) > 1:
            lines = lines[:-1]  # the last line may be cut off
        if lines and sum(bool(_LOG_LINE.match(line)) for line in lines) * 2 >= len(lines):
            return "nginx"
        if lines and lines[0].rstrip(b"\r") == CAPTURE_HEADER.rstrip(b"\n"):
            return "capture"
        monitor = [line for line in lines if line.strip() != b"OK"]
        if monitor and sum(bool(_MONITOR_LINE.match(line)) for line in monitor) * 2 >= len(monitor):
            return "redis-monitor"
        if extension in BY_EXTENSION and BY_EXTENSION[extension] != "oracle-general":
            return BY_EXTENSION[extension]
        if lines and all(_ARC_LINE.match(line) for line in lines):
            return "arc"
        if lines and all(_TOKEN_LINE.match(line) for line in lines):
            return "text"
        if lines and all(b"\t" in line for line in lines):
            return "tsv"
        if lines and all(b"," in line for line in lines):
            return "csv"
        raise TraceError(f"{path}: cannot tell the trace format of this text; give --trace-format")
    if extension in (".bin", ".oraclegeneral"):
        return "oracle-general"
    if extension == ".trace":
        return packed_width(head[: len(head) - len(head) % 8])
    raise TraceError(
        f"{path}: binary data of unknown format; give --trace-format (oracle-general, u32be, i32be or i64be)"
    )
