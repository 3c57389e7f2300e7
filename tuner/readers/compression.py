"""Decompression by content: gzip, zstd, xz and bz2 are told apart by their magic bytes.

A name can lie (a ``.log`` that is really gzip'd); the first bytes cannot. Every
decompression failure (a truncated download, a corrupt block) becomes a
``TraceError`` naming the file and how far into it the stream broke, so a
damaged file never reads as a silently shortened trace.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from collections.abc import Iterator
from pathlib import Path

import zstandard

from tuner.errors import TraceError

MAGIC = {
    "gzip": b"\x1f\x8b",
    "zstd": b"\x28\xb5\x2f\xfd",
    "xz": b"\xfd7zXZ\x00",
    "bz2": b"BZh",
}
CHUNK_BYTES = 32 << 20

_DECODE_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError, zstandard.ZstdError, ValueError)


def compression_of(path: Path) -> str | None:
    """The compression the file's first bytes announce, or None for a plain file."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as error:
        raise TraceError(f"{path}: cannot open: {error.strerror or error}") from None
    for name, magic in MAGIC.items():
        if head.startswith(magic):
            return name
    return None


def _zstd_chunks(path: Path, chunk_bytes: int) -> Iterator[bytes]:
    """zstd frames one after another; a frame cut short is an error (a stream reader would stop silently)."""
    with open(path, "rb") as raw:
        decoder, inside_frame = zstandard.ZstdDecompressor().decompressobj(), False
        while block := raw.read(chunk_bytes):
            while block:
                inside_frame = True
                if output := decoder.decompress(block):
                    yield output
                block = b""
                if decoder.eof:
                    block = decoder.unused_data
                    decoder, inside_frame = zstandard.ZstdDecompressor().decompressobj(), False
        if inside_frame:
            raise EOFError("the zstd stream ends inside a frame")


def _stream_chunks(path: Path, compression: str | None, chunk_bytes: int) -> Iterator[bytes]:
    if compression == "zstd":
        yield from _zstd_chunks(path, chunk_bytes)
        return
    opener = {"gzip": gzip.open, "xz": lzma.open, "bz2": bz2.open}.get(compression, open)
    with opener(path, "rb") as handle:
        while chunk := handle.read(chunk_bytes):
            yield chunk


def iter_chunks(path: Path, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The decompressed bytes in chunks of about ``chunk_bytes``; corrupt data raises TraceError."""
    compression = compression_of(path)
    delivered = 0
    chunks = _stream_chunks(path, compression, chunk_bytes)
    while True:
        try:
            chunk = next(chunks, None)
        except _DECODE_ERRORS as error:
            reason = str(error) or type(error).__name__
            raise TraceError(
                f"{path}: corrupt or truncated {compression or 'file'} data after {delivered:,} "
                f"decompressed bytes: {reason}"
            ) from None
        if chunk is None:
            return
        delivered += len(chunk)
        yield chunk


def read_head(path: Path, n_bytes: int = 64 << 10) -> bytes:
    """Up to ``n_bytes`` of the decompressed start of the file (for format detection)."""
    head = bytearray()
    for chunk in iter_chunks(path, n_bytes):
        head += chunk
        if len(head) >= n_bytes:
            break
    return bytes(head[:n_bytes])
