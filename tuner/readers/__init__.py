"""Trace readers: every format people's traces come in, found by name in one table.

``read_trace(path, format="auto", **options)`` picks the reader (detected from
the file's bytes and name when ``auto``), reads the file in chunks, and returns
the one columnar ``Trace``. Bad input raises ``TraceError`` naming the file,
the line or byte offset and the reason. A parsed trace is cached on disk, keyed
by the file's content and the options, so a second read skips parsing.
Formats in ``STREAMING`` are parsed chunk by chunk straight into the cache
(the trace then comes back memory-mapped when long), so a trace larger than
memory can be read.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from tuner.errors import TraceError
from tuner.readers import cache, oracle_general
from tuner.readers.access_log import read_access_log
from tuner.readers.arc import read_arc
from tuner.readers.base import TraceWarning
from tuner.readers.capture_file import read_capture
from tuner.readers.csv_trace import read_csv
from tuner.readers.detect import detect_format
from tuner.readers.oracle_general import read_oracle_general, stream_oracle_general
from tuner.readers.packed_ints import read_packed
from tuner.readers.redis_monitor import read_redis_monitor
from tuner.readers.text import read_text
from tuner.readers.twitter import read_twitter
from tuner.trace import Trace

READERS: dict[str, Callable[..., Trace]] = {
    "nginx": partial(read_access_log, syntax="nginx"),
    "apache": partial(read_access_log, syntax="apache"),
    "csv": partial(read_csv, delimiter=","),
    "tsv": partial(read_csv, delimiter="\t"),
    "text": read_text,
    "capture": read_capture,
    "redis-monitor": read_redis_monitor,
    "oracle-general": read_oracle_general,
    "arc": read_arc,
    "twitter": read_twitter,
    "u32be": partial(read_packed, dtype_name="u32be"),
    "i32be": partial(read_packed, dtype_name="i32be"),
    "i64be": partial(read_packed, dtype_name="i64be"),
}
# Readers that parse into a cache entry chunk by chunk (see ``stream_oracle_general``), with the column types
# they write; False from one means the file needs its in-memory reader after all.
STREAMING: dict[str, tuple[Callable[..., bool], dict[str, Any]]] = {
    "oracle-general": (stream_oracle_general, oracle_general.STREAMED),
}
FORMATS = ("auto", *READERS)
_SHARED = {"strict", "keep_order"}


def reader_options(format_name: str) -> set[str]:
    """Options the reader for ``format_name`` takes besides strict and keep_order."""
    reader = READERS[format_name]
    fixed = set(reader.keywords) if isinstance(reader, partial) else set()
    function = reader.func if isinstance(reader, partial) else reader
    names = {name for name, p in inspect.signature(function).parameters.items() if p.kind is p.KEYWORD_ONLY}
    return names - fixed - _SHARED


def read_trace(
    path: str | Path,
    format: str = "auto",
    *,
    strict: bool = False,
    keep_order: bool = False,
    cache_parsed: bool = True,
    on_progress: Callable[[int, int | None], None] | None = None,
    **options: Any,
) -> Trace:
    """Read a trace file of any supported format into a ``Trace``.

    ``options`` are the reader's own (``log_format``, ``key_col``, …; None
    means the reader's default). ``strict`` turns skipped lines into errors;
    ``keep_order`` keeps file order when timestamps go backwards;
    ``cache_parsed=False`` neither reads nor writes the parsed-trace cache
    (and so reads every format into memory). ``on_progress(requests read,
    requests in the file or None)`` follows a streaming reader.
    """
    path = Path(path)
    if not path.exists():
        raise TraceError(f"{path}: no such file")
    if path.is_dir():
        raise TraceError(f"{path}: is a folder, not a trace file")
    name = detect_format(path) if format == "auto" else format
    if name not in READERS:
        raise TraceError(f"unknown trace format {format!r} (choose from: {', '.join(FORMATS)})")
    given = {option: value for option, value in options.items() if value is not None}
    unknown = sorted(set(given) - reader_options(name))
    if unknown:
        flags = ", ".join("--" + option.replace("_", "-") for option in unknown)
        raise TraceError(f"{path}: {flags} does not apply to the {name} format")
    settings = {"format": name, "strict": strict, "keep_order": keep_order, **given}
    entry = cache.entry_path(path, name, settings) if cache_parsed else None
    if entry is not None and (trace := cache.load(entry, path.name)) is not None:
        for message in trace.info.get("warnings", []):
            warnings.warn(message, TraceWarning, stacklevel=2)
        return trace
    streamed = entry is not None and name in STREAMING and _streamed(path, entry, name, settings, on_progress)
    if streamed and (trace := cache.load(entry, path.name)) is not None:
        del trace.info["cached"]  # parsed just now
        return trace
    try:
        trace = READERS[name](path, strict=strict, keep_order=keep_order, **given)
    except (MemoryError, RecursionError):
        raise
    except TraceError:
        raise
    except (ValueError, OverflowError, IndexError, UnicodeError, OSError, np.exceptions.AxisError) as error:
        raise TraceError(f"{path}: cannot read as {name}: {error}") from None
    trace.info.update(path=str(path), format=name)
    if entry is not None:
        cache.store(entry, trace)
    return trace


def _streamed(path: Path, entry: Path, name: str, settings: dict[str, Any], on_progress) -> bool:
    """Whether the streaming reader of format ``name`` parsed ``path`` into ``entry``."""
    stream, dtypes = STREAMING[name]
    try:
        writer = cache.EntryWriter(entry, dtypes)
    except OSError:
        return False  # no room for the cache: read into memory
    try:
        done = stream(path, writer, strict=settings["strict"], keep_order=settings["keep_order"],
                      on_progress=on_progress)  # fmt: skip
    except OSError:
        writer.abandon()
        return False  # a full disk: the in-memory reader reads it (or says why it cannot)
    except BaseException:
        writer.abandon()
        raise
    if not done:
        writer.abandon()
    return done


__all__ = ["FORMATS", "READERS", "TraceWarning", "read_trace"]
