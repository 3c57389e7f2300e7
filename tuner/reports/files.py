"""Run output on disk: the CSV tables and ``run.json``, enough to reproduce a run."""

from __future__ import annotations

import datetime as dt
import json
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from tuner.trace import Trace

_VERSIONED = ("cachetune", "numpy", "numba", "pandas", "scipy", "optuna")


def versions() -> dict[str, str]:
    """Versions of Python and of the packages that shape the numbers."""
    found = {"python": platform.python_version()}
    for package in _VERSIONED:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return found


def run_record(command: str, options: dict[str, Any], trace: Trace) -> dict[str, Any]:
    """What ``run.json`` holds: the command line, its options, the trace, versions and date.

    The trace's ``has_writes`` (any SET or DELETE) tells a report whether to show backend writes.
    """
    return {
        "command": command,
        "argv": sys.argv,
        "options": options,
        "trace": {**trace.describe(), "has_writes": trace.has_writes, "info": trace.info},
        "versions": versions(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def write_tables(folder: Path, record: dict[str, Any], tables: dict[str, pd.DataFrame]) -> list[Path]:
    """Write ``run.json`` and each table as ``<name>.csv`` into ``folder``; returns the paths."""
    written = [folder / "run.json"]
    written[0].write_text(json.dumps(record, indent=2, default=str) + "\n")
    for name, table in tables.items():
        path = folder / f"{name}.csv"
        table.to_csv(path, index=False)
        written.append(path)
    return written
