"""``cachetune analyze``: what a trace looks like before any policy runs on it."""

from __future__ import annotations

from typing import Annotated

import typer

from tuner.analyze import analyze
from tuner.cli import output
from tuner.cli.console import stdout
from tuner.cli.printers import FORMATS, Format, print_analysis, write_table
from tuner.cli.source import SourceOptions, with_source_options
from tuner.errors import check_choice


@with_source_options(trace_first=True)  # analyze is mostly run on a trace: its options lead
def analyze_command(
    source: SourceOptions,
    top: Annotated[int, typer.Option(min=0, help="How many of the most requested keys to list.")] = 10,
    out: output.Out = None,
    no_report: output.NoReport = False,
    output_format: Format = "table",
) -> None:
    """Describe a trace: volume, span, skew (Zipf fit), one-hit wonders, reuse distances, working set, top keys."""
    check_choice("format", output_format, FORMATS)
    with output.run_folder("analyze", out) as folder:
        trace = source.load()
        result = analyze(trace, top=top)
        as_json = result.to_dict()  # NaN (no Zipf fit, no time span) as null: run.json stays valid JSON
        summary = {key: as_json[key] for key in result.summary}
        output.save_run(folder, "analyze", source, trace, result, report=not no_report, record={"summary": summary})
    write_table(result.table, output_format, lambda: print_analysis(result, stdout), document=as_json)


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze_command)
