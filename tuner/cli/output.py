"""Where a command's files go: ``--out DIR`` or ``results/<command>-<timestamp>/``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def run_folder(command: str, out: Path | None) -> Iterator[Path]:
    """The run's output folder, made before any work so a bad path fails first.

    A default folder is claimed atomically (two runs started in the same
    second get ``…-2``); a folder this run made is removed again if the run
    fails before writing anything, so failures leave no empty folders.
    """
    folder = out or Path("results") / f"{command}-{dt.datetime.now():%Y%m%d-%H%M%S}"
    if folder.exists() and not folder.is_dir():
        raise CachetuneError(f"--out {folder} exists and is not a folder")
    made = not folder.exists()
    try:
        if out is None:
            folder = _claim(folder)
        else:
            folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CachetuneError(f"--out {folder}: cannot create it ({error.strerror or error})") from None
    try:
        yield folder
    except BaseException:
        if made and not any(folder.iterdir()):
            folder.rmdir()
        raise


def _claim(stem: Path) -> Path:
    """``stem``, or ``stem-2``, ``stem-3``…: the first one this process creates itself."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    folder, copy = stem, 1
    while True:
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            copy += 1
            folder = stem.with_name(f"{stem.name}-{copy}")


def save_run(folder: Path, record: dict[str, Any], tables: dict[str, pd.DataFrame], report: bool) -> None:
    """Write the run's files (and, unless told not to, its report) and say where."""
    written = write_tables(folder, record, tables)
    if report:
        from tuner.reports.html import write_report

        written.append(write_report(folder))
    else:  # a report left by an earlier run into this folder would contradict the new files
        (folder / "report.html").unlink(missing_ok=True)
    stderr.print(f"results in {folder}/ ({', '.join(path.name for path in written)})")
