"""The parsed-trace cache: a trace parsed once is loaded from a compact ``.npz`` afterwards.

Entries are keyed by a hash of the file's content plus the reader and its
options, so an edited file or other options never hit a stale entry. Hashing a
large log still takes time, so a small stat index maps (path, size, mtime,
inode) to the content hash already computed; a changed stat means rehashing.
The folder is ``$CACHETUNE_CACHE_DIR`` or ``$XDG_CACHE_HOME/cachetune/traces``.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from tuner.readers.interning import unpack_keys
from tuner.trace import Trace

FORMAT_VERSION = 6  # raised whenever a reader's output changes, so entries parsed before are not reused
_HASH_CHUNK = 8 << 20


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
    """Where the parsed trace of ``path`` read by ``reader`` with ``options`` is kept."""
    described = json.dumps({"reader": reader, "options": options, "version": FORMAT_VERSION}, sort_keys=True)
    key = hashlib.blake2b(f"{_content_hash(path)}|{described}".encode(), digest_size=20).hexdigest()
    return cache_folder() / f"{key}.npz"


def load(entry: Path, name: str) -> Trace | None:
    """The cached trace, or None when there is no readable entry.

    A damaged entry (a truncated or overwritten file, a missing column, bad
    info) is a miss like an absent one: the trace is parsed again and the
    entry rewritten.
    """
    try:
        with np.load(entry, allow_pickle=False) as stored:
            columns = {field: stored[field] for field in stored.files}
        packed = "key_offsets" in columns
        keys = unpack_keys(columns["key_bytes"], columns["key_offsets"]) if packed else columns["keys"]
        info = json.loads(str(columns["info"]))  # JSONDecodeError is a ValueError
        info["cached"] = True
        return Trace(columns["ids"], columns["timestamps"], columns["sizes"], columns["ops"], columns["ttls"], keys,
                     name=name, info=info)  # fmt: skip
    except (OSError, ValueError, KeyError, EOFError, TypeError, zipfile.BadZipFile):
        return None


def store(entry: Path, trace: Trace) -> None:
    """Save ``trace`` under ``entry``; bytes keys are packed into one array (no pickles)."""
    columns = {"ids": trace.ids, "timestamps": trace.timestamps, "sizes": trace.sizes, "ops": trace.ops,
               "ttls": trace.ttls}  # fmt: skip
    if trace.keys.dtype == object:
        keys = trace.keys.tolist()
        if not all(isinstance(key, bytes) for key in keys):
            return
        columns["key_bytes"] = np.frombuffer(b"".join(keys), np.uint8)
        columns["key_offsets"] = np.cumsum([0] + [len(key) for key in keys], dtype=np.int64)
    else:
        columns["keys"] = trace.keys
    columns["info"] = np.array(json.dumps(trace.info, default=str))
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        partial = entry.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(partial, **columns)
        partial.replace(entry)
    except OSError:
        pass  # caching is an optimisation; a full disk must not fail the run
