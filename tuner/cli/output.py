"""Where a command's files go: ``--out DIR`` or ``results/<command>-<timestamp>/``."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from tuner.cli.console import stderr
from tuner.errors import CachetuneError
from tuner.reports.files import write_tables

Out = Annotated[
    Path | None,
    typer.Option(help="Folder for the run's CSV/JSON files and report (default: results/<command>-<timestamp>/)."),
]
NoReport = Annotated[bool, typer.Option("--no-report", help="Write the CSV/JSON files only, no report.html.")]


def prepare(command: str, out: Path | None) -> Path:
    """The run's output folder, checked up front so a bad path fails before any work.

    It is created only when something is written to it, so a run that fails
    (a bad trace, say) leaves no empty folder behind.
    """
    folder = out or Path("results") / f"{command}-{dt.datetime.now():%Y%m%d-%H%M%S}"
    if folder.exists() and not folder.is_dir():
        raise CachetuneError(f"--out {folder} exists and is not a folder")
    existing = next(parent for parent in (folder, *folder.absolute().parents) if parent.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise CachetuneError(f"--out {folder}: cannot write in {existing}")
    return folder


def save_run(folder: Path, record: dict[str, Any], tables: dict[str, pd.DataFrame], report: bool) -> None:
    """Write the run's files (and, unless told not to, its report) and say where."""
    folder.mkdir(parents=True, exist_ok=True)
    written = write_tables(folder, record, tables)
    if report:
        from tuner.reports.html import write_report

        written.append(write_report(folder))
    stderr.print(f"results in {folder}/ ({', '.join(path.name for path in written)})")
