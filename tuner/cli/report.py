"""``cachetune report DIR``: re-render a run's report from its files, without re-running anything."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from tuner.cli.console import stderr, stdout
from tuner.errors import CachetuneError, check_choice
from tuner.reports.html import KINDS, read_run, write_report

FORMATS = ("html", "csv", "json")


def _folder_as_json(folder: Path) -> dict:
    """Every file of the run in one object: ``run.json``, each CSV as records, other JSON files as they are."""
    everything: dict = {"run": read_run(folder)}
    for path in sorted(folder.glob("*.csv")):
        everything[path.stem] = json.loads(pd.read_csv(path).to_json(orient="records"))
    for path in sorted(folder.glob("*.json")):
        if path.name != "run.json":
            everything[path.stem] = json.loads(path.read_text())
    return everything


def report_command(
    folder: Annotated[Path, typer.Argument(help="A folder written by bench, optimize, mrc or analyze (--out).")],
    output_format: Annotated[
        str,
        typer.Option("--format", help="html: write DIR/report.html; csv: print the main table; json: print all."),
    ] = "html",
) -> None:
    """Rebuild a run's report from the CSV/JSON files in DIR; the numbers are never recomputed."""
    check_choice("format", output_format, FORMATS)
    if not folder.is_dir():
        raise CachetuneError(f"{folder} is not a folder")
    run = read_run(folder)
    if output_format == "html":
        try:
            stderr.print(f"wrote {write_report(folder)}")
        except OSError as error:
            raise CachetuneError(f"{folder}: cannot write the report ({error.strerror or error})") from None
    elif output_format == "csv":
        path = folder / f"{KINDS[run['command']].main_table}.csv"
        if not path.is_file():
            raise CachetuneError(f"{path} not found")
        stdout.out(path.read_text(), end="", highlight=False)
    else:
        stdout.out(json.dumps(_folder_as_json(folder), indent=2), highlight=False)


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
