"""``capture``: the files ``tuner.capture`` and ``cachetune capture`` write (see ``tuner.capture.file_format``).

The rows are a csv trace with the header ``time,key,size,op,ttl``, read by
the csv reader; the summary the capture left at the end of the file (records
written, records dropped because the writer could not keep up, whether keys
are hashed) goes into the trace's ``info``, so ``analyze`` can say how much
traffic the file is missing. A file without a summary (the capture was
killed) reads all the same, its drops unknown. Raw keys (``keep_keys``) come
back as the bytes they were: the quoting and escapes the writer added are
undone (``tuner.capture.keys.raw_key``).
"""

from __future__ import annotations

from pathlib import Path

from tuner.capture.file_format import read_summary
from tuner.capture.keys import raw_key
from tuner.readers.csv_trace import read_csv
from tuner.trace import Trace


def read_capture(path: Path, *, strict: bool = False, keep_order: bool = False) -> Trace:
    """A capture file: its rows, and its summary in ``info["capture"]`` (``info["dropped_records"]``: the drops)."""
    trace = read_csv(path, delimiter=",", key_col="key", time_col="time", size_col="size", op_col="op",
                     ttl_col="ttl", strict=strict, keep_order=keep_order)  # fmt: skip
    summary = read_summary(path)
    if summary is None or not summary.get("hashed_keys", True):  # raw keys: undo the CSV quoting and escapes
        trace.keys[:] = [raw_key(key) for key in trace.keys]
    trace.info["format"] = "capture"
    if summary is not None:
        trace.info["capture"] = summary
        trace.info["dropped_records"] = int(summary.get("dropped", 0))
    return trace
