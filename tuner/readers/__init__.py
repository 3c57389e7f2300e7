"""Trace readers: every format people's traces come in, found by name in one table.

``read_trace(path, format="auto", **options)`` picks the reader (detected from
the file's bytes and name when ``auto``), reads the file in chunks, and returns
the one columnar ``Trace``. Bad input raises ``TraceError`` naming the file,
the line or byte offset and the reason. A parsed trace is cached on disk, keyed
by the file's content and the options, so a second read skips parsing.
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
from tuner.readers import cache
from tuner.readers.access_log import read_access_log
from tuner.readers.arc import read_arc
from tuner.readers.base import TraceWarning
from tuner.readers.capture_file import read_capture
from tuner.readers.csv_trace import read_csv
from tuner.readers.detect import detect_format
from tuner.readers.oracle_general import read_oracle_general
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
    **options: Any,
) -> Trace:
    """Read a trace file of any supported format into a ``Trace``.

    ``options`` are the reader's own (``log_format``, ``key_col``, …; None
    means the reader's default). ``strict`` turns skipped lines into errors;
    ``keep_order`` keeps file order when timestamps go backwards;
    ``cache_parsed=False`` neither reads nor writes the parsed-trace cache.
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


__all__ = ["FORMATS", "READERS", "TraceWarning", "read_trace"]
