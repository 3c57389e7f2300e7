"""Where a command's files go (``--out DIR`` or ``results/<command>-<timestamp>/``) and what they hold."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Protocol

import pandas as pd
import typer

from tuner.cli.console import stderr
from tuner.cli.source import SourceOptions
from tuner.errors import CachetuneError
from tuner.reports.files import run_record, write_tables
from tuner.trace import Trace

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


class RunResult(Protocol):
    """What every library command returns: its tables by file name and the arguments it ran with."""

    @property
    def tables(self) -> dict[str, pd.DataFrame]: ...

    @property
    def options(self) -> dict[str, Any]: ...


def save_run(folder: Path, command: str, source: SourceOptions, trace: Trace, result: RunResult, *, report: bool,
             documents: Mapping[str, Any] | None = None, record: Mapping[str, Any] | None = None,
             files: Mapping[str, str] | None = None) -> None:  # fmt: skip
    """Write the run's files (and, unless told not to, its report) and say where.

    ``run.json``'s options are where the requests came from (the workload or
    trace file as the user named it) and the result's own options, so they
    say what the library ran, not what the command line was re-typed as.
    ``documents`` are JSON files beside the tables (optimize's ``best.json``);
    ``record`` adds entries to ``run.json`` (analyze's summary); ``files`` are
    text files by their path under the folder (optimize's ``deploy/redis.conf``).
    """
    options = {"workload": source.workload, "trace": None if source.trace_file is None else str(source.trace_file),
               **result.options}  # fmt: skip
    try:
        written = write_tables(folder, {**run_record(command, options, trace), **(record or {})}, result.tables)
        for name, document in (documents or {}).items():
            written.append(folder / f"{name}.json")
            written[-1].write_text(json.dumps(document, indent=2) + "\n")
        for name, text in (files or {}).items():
            written.append(folder / name)
            written[-1].parent.mkdir(parents=True, exist_ok=True)
            written[-1].write_text(text)
        if report:
            from tuner.reports.html import write_report

            written.append(write_report(folder))
        else:  # a report left by an earlier run into this folder would contradict the new files
            (folder / "report.html").unlink(missing_ok=True)
    except OSError as error:
        raise CachetuneError(f"--out {folder}: cannot write the run's files ({error.strerror or error})") from None
    stderr.print(f"results in {folder}/ ({', '.join(str(path.relative_to(folder)) for path in written)})")
