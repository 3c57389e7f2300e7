"""Decompression by content: gzip, zstd, xz and bz2 are told apart by their magic bytes.

A name can lie (a ``.log`` that is really gzip'd); the first bytes cannot. Every
decompression failure (a truncated download, a corrupt block) becomes a
``TraceError`` naming the file and how far into it the stream broke, so a
damaged file never reads as a silently shortened trace.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
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


class _ZstdFrames(io.RawIOBase):
    """zstd frames one after another; a frame cut short is an error (a stream reader would stop silently)."""

    def __init__(self, path: Path) -> None:
        self._raw = open(path, "rb")  # noqa: SIM115  (closed with the stream)
        self._decoder = zstandard.ZstdDecompressor().decompressobj()
        self._inside_frame = False
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, view) -> int:
        while not self._pending:
            block = self._raw.read(CHUNK_BYTES)
            if not block:
                if self._inside_frame:
                    raise EOFError("the zstd stream ends inside a frame")
                return 0
            output = []
            while block:
                self._inside_frame = True
                output.append(self._decoder.decompress(block))
                block = b""
                if self._decoder.eof:
                    block = self._decoder.unused_data
                    self._decoder, self._inside_frame = zstandard.ZstdDecompressor().decompressobj(), False
            self._pending = memoryview(b"".join(output))
        count = min(len(view), len(self._pending))
        view[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    def close(self) -> None:
        self._raw.close()
        super().close()


class DecompressedStream:
    """The file's decompressed bytes; a decoding failure becomes a TraceError saying how far the stream got."""

    def __init__(self, path: Path) -> None:
        self.path, self.compression, self.delivered = path, compression_of(path), 0
        self._handle = None
        self._handle = self._guarded(self._open)

    def _open(self):
        if self.compression == "zstd":
            return _ZstdFrames(self.path)
        opener = {"gzip": gzip.open, "xz": lzma.open, "bz2": bz2.open}.get(self.compression)
        return opener(self.path, "rb") if opener else open(self.path, "rb", buffering=0)

    def _guarded(self, call, *args):
        try:
            return call(*args)
        except _DECODE_ERRORS as error:
            reason = str(error) or type(error).__name__
            raise TraceError(
                f"{self.path}: corrupt or truncated {self.compression or 'file'} data after "
                f"{self.delivered:,} decompressed bytes: {reason}"
            ) from None

    def read(self, n_bytes: int) -> bytes:
        """Up to ``n_bytes`` (fewer only at the end of the stream)."""
        parts, wanted = [], n_bytes
        while wanted and (part := self._guarded(self._handle.read, wanted)):
            parts.append(part)
            wanted -= len(part)
            self.delivered += len(part)
        return b"".join(parts)

    def readinto(self, buffer: np.ndarray) -> int:
        """Fill ``buffer`` (a uint8 array) as far as the stream goes; the count of bytes put in."""
        view, filled = memoryview(buffer), 0
        while filled < len(view) and (count := self._guarded(self._handle.readinto, view[filled:])):
            filled += count
        self.delivered += filled
        return filled

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()

    def __enter__(self) -> DecompressedStream:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def iter_chunks(path: Path, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The decompressed bytes in chunks of ``chunk_bytes`` (the last shorter); corrupt data raises TraceError."""
    with DecompressedStream(path) as stream:
        while chunk := stream.read(chunk_bytes):
            yield chunk


def read_head(path: Path, n_bytes: int = 64 << 10) -> bytes:
    """Up to ``n_bytes`` of the decompressed start of the file (for format detection)."""
    head = bytearray()
    for chunk in iter_chunks(path, n_bytes):
        head += chunk
        if len(head) >= n_bytes:
            break
    return bytes(head[:n_bytes])
