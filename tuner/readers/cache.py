"""The parsed-trace cache: a trace parsed once is loaded from a folder of ``.npy`` columns afterwards.

Entries are keyed by a hash of the file's content plus the reader and its
options, so an edited file or other options never hit a stale entry. Hashing a
large log still takes time, so a small stat index maps (path, size, mtime,
inode) to the content hash already computed; a changed stat means rehashing.
The folder is ``$CACHETUNE_CACHE_DIR`` or ``$XDG_CACHE_HOME/cachetune/traces``.

An entry is a folder with one raw ``.npy`` file per column (numpy's own
format: a header, then the array's bytes, so it memory-maps at no cost), the
keys (an integer array, or packed bytes and offsets) and ``entry.json`` (the
trace's info, and its lengths, which a damaged entry fails to match). Sizes
are stored in 32 bits when they fit. Readers that stream (``EntryWriter``)
append each chunk's columns to the files as they parse, so a trace larger than
memory never exists in memory. A trace of ``MAPPED_FROM`` requests or more is
loaded memory-mapped: its pages are the file's, which the kernel reads ahead and
drops at will, so the memory it costs is bounded by the objects, not the
requests. Smaller traces are loaded into memory in the columns' usual types
(int64 sizes), so they replay through the loops already compiled for them.
The mapping is copy-on-write (``mmap_mode="c"``): numba compiles another loop
for a read-only array, and nothing ever writes to a trace's columns.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from tuner.readers.interning import unpack_keys
from tuner.trace import Trace

FORMAT_VERSION = 7  # raised whenever a reader's output or the entry's layout changes
_HASH_CHUNK = 8 << 20
COLUMNS = ("ids", "timestamps", "sizes", "ops", "ttls")
MAPPED_FROM = 1 << 24  # requests: ~350 MB in memory; a longer trace is replayed from its mapped files


def cache_folder() -> Path:
    if "CACHETUNE_CACHE_DIR" in os.environ:
        return Path(os.environ["CACHETUNE_CACHE_DIR"])
    home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return home / "cachetune" / "traces"


def _content_hash(path: Path) -> str:
    """blake2b of the file's bytes, remembered per (path, size, mtime, inode)."""
    status = path.stat()
    stat_key = f"{path.resolve()}|{status.st_size}|{status.st_mtime_ns}|{status.st_ino}"
    index = cache_folder() / "stat" / hashlib.blake2b(stat_key.encode(), digest_size=16).hexdigest()
    if index.exists():
        return index.read_text().strip()
    digest = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as handle:
        while block := handle.read(_HASH_CHUNK):
            digest.update(block)
    content = digest.hexdigest()
    try:
        index.parent.mkdir(parents=True, exist_ok=True)
        index.write_text(content)
    except OSError:
        pass  # a read-only cache folder only costs the next run a rehash
    return content


def entry_path(path: Path, reader: str, options: dict[str, Any]) -> Path:
    """The folder where the parsed trace of ``path`` read by ``reader`` with ``options`` is kept."""
    described = json.dumps({"reader": reader, "options": options, "version": FORMAT_VERSION}, sort_keys=True)
    key = hashlib.blake2b(f"{_content_hash(path)}|{described}".encode(), digest_size=20).hexdigest()
    return cache_folder() / key


def _column(entry: Path, name: str, mapped: bool) -> np.ndarray:
    return np.load(entry / f"{name}.npy", mmap_mode="c" if mapped else None, allow_pickle=False)


def load(entry: Path, name: str) -> Trace | None:
    """The cached trace, or None when there is no readable entry.

    A damaged entry (a truncated or overwritten file, a missing column, bad
    info) is a miss like an absent one: the trace is parsed again and the
    entry rewritten.
    """
    try:
        described = json.loads((entry / "entry.json").read_text())  # JSONDecodeError is a ValueError
        info = described["info"]
        info["cached"] = True  # a TypeError when info is not a dict
        mapped = described["requests"] >= MAPPED_FROM
        columns = {column: _column(entry, column, mapped) for column in COLUMNS}
        if not mapped:
            columns["sizes"] = columns["sizes"].astype(np.int64, copy=False)
        if (entry / "key_offsets.npy").exists():
            keys = unpack_keys(_column(entry, "key_bytes", False), _column(entry, "key_offsets", False))
        else:
            keys = _column(entry, "keys", mapped)
        lengths = {len(column) for column in columns.values()}
        if lengths != {described["requests"]} or len(keys) != described["objects"]:
            return None
        return Trace(**columns, keys=keys, name=name, info=info)
    except (OSError, ValueError, KeyError, EOFError, TypeError):
        return None


def compact_sizes(sizes: np.ndarray) -> np.dtype:
    """uint32 when every size fits in 32 bits (half the bytes on disk), else int64."""
    fits = not len(sizes) or (int(sizes.min()) >= 0 and int(sizes.max()) <= np.iinfo(np.uint32).max)
    return np.dtype(np.uint32 if fits else np.int64)


class EntryWriter:
    """A cache entry written column by column into a temporary folder, renamed into place when complete.

    ``append`` adds a chunk of every column at the end of its file; ``finish``
    writes the keys and info, fixes each file's header to its final length and
    renames the folder, so a reader never sees a half-written entry. Each
    header is written with numpy's room for growth, so its length does not
    change with the array's.
    """

    def __init__(self, entry: Path, dtypes: dict[str, np.dtype]) -> None:
        self.entry = entry
        self.partial = entry.with_name(f"{entry.name}.{os.getpid()}.tmp")
        shutil.rmtree(self.partial, ignore_errors=True)
        self.partial.mkdir(parents=True)
        self.dtypes = {name: np.dtype(dtype) for name, dtype in dtypes.items()}
        self.lengths = dict.fromkeys(dtypes, 0)
        self.files = {name: open(self.partial / f"{name}.npy", "wb") for name in dtypes}  # noqa: SIM115
        self.header_bytes = {name: self._header(handle, name) for name, handle in self.files.items()}

    def _header(self, handle, name: str) -> int:
        """Write ``name``'s header at the handle's position; the bytes it took."""
        header = {"descr": np.lib.format.dtype_to_descr(self.dtypes[name]), "fortran_order": False,
                  "shape": (self.lengths[name],)}  # fmt: skip
        start = handle.tell()
        np.lib.format.write_array_header_1_0(handle, header)
        return handle.tell() - start

    def append(self, **chunks: np.ndarray) -> None:
        """Add ``chunks`` (column name to values) at the end of their columns."""
        for name, values in chunks.items():
            np.ascontiguousarray(values, self.dtypes[name]).tofile(self.files[name])
            self.lengths[name] += len(values)

    def append_zeros(self, **counts: int) -> None:
        """Add ``counts[name]`` zeros to each named column as a hole in its file: no disk, and reading it back
        costs no I/O (a column the format does not have, such as a read-only trace's operations)."""
        for name, count in counts.items():
            self.files[name].seek(count * self.dtypes[name].itemsize, os.SEEK_CUR)
            self.lengths[name] += count

    def finish(self, keys: np.ndarray, info: dict) -> None:
        """Write the keys and info, close the columns and move the entry into place."""
        for name, handle in self.files.items():
            handle.truncate(self.header_bytes[name] + self.lengths[name] * self.dtypes[name].itemsize)
            handle.seek(0)
            if self._header(handle, name) != self.header_bytes[name]:  # numpy pads headers for growth: never
                raise OSError(f"the header of {name}.npy changed length")
            handle.close()
        _save_keys(self.partial, keys)
        lengths = set(self.lengths.values())
        if len(lengths) != 1:
            raise OSError(f"columns of different lengths: {self.lengths}")
        described = {"info": info, "requests": lengths.pop(), "objects": len(keys)}
        (self.partial / "entry.json").write_text(json.dumps(described, default=str))
        shutil.rmtree(self.entry, ignore_errors=True)  # a damaged entry of the same key
        self.partial.rename(self.entry)

    def abandon(self) -> None:
        """Remove the partial entry (parsing failed or went another way)."""
        for handle in self.files.values():
            handle.close()
        shutil.rmtree(self.partial, ignore_errors=True)


def _save_keys(folder: Path, keys: np.ndarray) -> None:
    """Integer keys as one array; bytes keys packed into bytes and offsets (no pickles)."""
    if keys.dtype != object:
        np.save(folder / "keys.npy", keys)
        return
    listed = keys.tolist()
    if not all(isinstance(key, bytes) for key in listed):
        raise TypeError("only bytes or numeric keys are cached")
    np.save(folder / "key_bytes.npy", np.frombuffer(b"".join(listed), np.uint8))
    np.save(folder / "key_offsets.npy", np.cumsum([0] + [len(key) for key in listed], dtype=np.int64))


def store(entry: Path, trace: Trace) -> None:
    """Save an in-memory ``trace`` under ``entry`` (readers that do not stream)."""
    dtypes = {"ids": np.int32, "timestamps": np.float64, "sizes": compact_sizes(trace.sizes), "ops": np.int8,
              "ttls": np.float32}  # fmt: skip
    writer = None
    try:
        writer = EntryWriter(entry, dtypes)
        writer.append(**{name: getattr(trace, name) for name in COLUMNS})
        writer.finish(trace.keys, trace.info)
    except (OSError, TypeError):
        if writer is not None:  # caching is an optimisation; a full disk or keys it cannot keep must not fail the run
            writer.abandon()
