"""What every reader shares: counting skipped lines, refusing empty results, ordering by time.

A reader turns its file into columns; ``finish`` turns the columns into the one
``Trace`` and applies the rules every format obeys: a file that yields no
request is an error, ``strict`` makes any skipped line an error, and requests
whose timestamps go backwards (merged logs) are sorted stably, with a warning,
unless ``keep_order`` asks for file order.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tuner.errors import TraceError
from tuner.trace import Trace


class TraceWarning(UserWarning):
    """Something a reader changed or noticed about a trace that the user should know."""


@dataclass
class Tally:
    """Skipped lines: how many for each reason, and the first line each reason hit.

    ``ignored`` counts lines that are not requests on purpose (blank lines,
    a header, requests filtered out by an option): they are not skipped, so
    ``strict`` allows them, but they explain a file that yields no request.
    """

    lines: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    first_line: dict[str, int] = field(default_factory=dict)
    ignored: dict[str, int] = field(default_factory=dict)

    def add(self, reason: str, count: int, first_line: int) -> None:
        if count:
            self.counts[reason] = self.counts.get(reason, 0) + int(count)
            self.first_line.setdefault(reason, int(first_line))

    def add_codes(self, codes: np.ndarray, reasons: dict[int, str], line_numbers: np.ndarray) -> None:
        """Count per-line error ``codes`` (0 = good line) by their reason."""
        bad = np.flatnonzero(codes)
        if not len(bad):
            return
        found = np.bincount(codes[bad], minlength=max(reasons) + 1)
        for code, reason in reasons.items():
            if found[code]:
                first = bad[np.argmax(codes[bad] == code)]
                self.add(reason, found[code], line_numbers[first])

    @property
    def skipped(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        """'skipped 12 of 1,000,012 lines: 7 not a log line, 5 without method and path'."""
        reasons = sorted(self.counts.items(), key=lambda item: -item[1])
        detail = ", ".join(f"{count:,} {reason}" for reason, count in reasons)
        return f"skipped {self.skipped:,} of {self.lines:,} lines: {detail}"

    def ignore(self, reason: str, count: int) -> None:
        """Count ``count`` lines that are not requests on purpose (not skipped)."""
        if count:
            self.ignored[reason] = self.ignored.get(reason, 0) + int(count)

    def first_problem(self) -> str:
        reason = min(self.first_line, key=self.first_line.get)
        return f"line {self.first_line[reason]:,}: {reason}"

    def no_requests(self) -> str:
        """Why the lines gave no request: 'no requests in 3 lines: all blank or checkpoints', or the first
        skipped line and the lines ignored ('no requests in 5 lines; first: line 2: bad size; 4 filtered out (…)')."""
        counted = f"no requests in {self.lines:,} line{'s' if self.lines != 1 else ''}"
        ignored = "; ".join(f"{count:,} {reason}" for reason, count in self.ignored.items())
        if self.skipped:
            return f"{counted}; first: {self.first_problem()}" + (f"; {ignored}" if ignored else "")
        if list(self.ignored.values()) == [self.lines]:  # every line ignored for one reason
            reason = next(iter(self.ignored))
            return f"{counted}: {reason}" if self.lines == 1 else f"{counted}: all {reason}"
        return f"{counted}: {ignored}" if ignored else counted


@dataclass
class Columns:
    """A reader's output before it becomes a Trace.

    None stands for a column the format does not have: ``timestamps`` one
    second apart, ``sizes`` 1, ``ops`` GET and ``ttls`` none for every request.
    """

    ids: np.ndarray
    keys: np.ndarray
    timestamps: np.ndarray | None = None
    sizes: np.ndarray | None = None
    ops: np.ndarray | None = None
    ttls: np.ndarray | None = None
    info: dict = field(default_factory=dict)


def concat(parts: list[np.ndarray], dtype) -> np.ndarray:
    """One array from per-block parts (an empty one when there are none)."""
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(0, dtype)


def factorized(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense int32 ids in order of first appearance, and the unique keys."""
    codes, uniques = pd.factorize(keys, sort=False)
    return codes.astype(np.int32), np.asarray(uniques)


def _warn(info: dict, message: str) -> None:
    info.setdefault("warnings", []).append(message)
    warnings.warn(message, TraceWarning, stacklevel=4)


def _in_time_order(path: Path, columns: Columns, keep_order: bool) -> Columns:
    times = columns.timestamps
    backwards = int(np.count_nonzero(times[1:] < times[:-1]))
    if not backwards:
        return columns
    if keep_order:
        columns.timestamps = np.maximum.accumulate(times)
        _warn(columns.info, f"{path.name}: timestamps go backwards at {backwards:,} places; "
                            "kept file order and held each time at the latest so far (--keep-order)")  # fmt: skip
        return columns
    order = np.argsort(times, kind="stable")
    ids, first_seen = factorized(columns.ids[order])
    columns.ids, columns.keys = ids, columns.keys[first_seen]
    columns.timestamps = times[order]
    if columns.sizes is not None:
        columns.sizes = columns.sizes[order]
    if columns.ops is not None:
        columns.ops = columns.ops[order]
    if columns.ttls is not None:
        columns.ttls = columns.ttls[order]
    _warn(columns.info, f"{path.name}: timestamps go backwards at {backwards:,} places (merged logs?); "
                        "sorted the requests stably by time (--keep-order keeps file order)")  # fmt: skip
    return columns


def finish(path: Path, columns: Columns, tally: Tally | None, *, strict: bool, keep_order: bool) -> Trace:
    """The Trace, after the checks every reader shares."""
    tally = tally or Tally()
    if strict and tally.skipped:
        raise TraceError(f"{path}: {tally.first_problem()}; {tally.skipped:,} of {tally.lines:,} lines would be "
                         "skipped (--strict allows none)")  # fmt: skip
    if not len(columns.ids):
        if tally.lines == 0:
            raise TraceError(f"{path}: no requests: the file is empty")
        raise TraceError(f"{path}: {tally.no_requests()}")
    info = columns.info
    info.update(skipped_lines=tally.skipped, skipped=dict(tally.counts))
    if tally.lines:
        info["lines"] = tally.lines
    if tally.skipped:
        info["skipped_summary"] = tally.summary()
    if columns.timestamps is not None:
        columns = _in_time_order(path, columns, keep_order)
    return Trace.from_codes(columns.ids, columns.keys, columns.timestamps, columns.sizes, columns.ops, columns.ttls,
                            name=path.name, info=info)  # fmt: skip
