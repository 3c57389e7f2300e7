"""``cachetune analyze``: what a trace looks like before any policy runs on it."""

from __future__ import annotations

import io
import json
import math
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from tuner.analyze import TraceAnalysis, analyze
from tuner.cli import output
from tuner.cli.console import stdout
from tuner.cli.source import SourceOptions, with_source_options
from tuner.errors import check_choice
from tuner.reports.files import run_record

FORMATS = ("table", "json", "csv")
_SUMMARY_ROWS = (
    ("requests", "requests", "{:,}"),
    ("unique objects", "unique_objects", "{:,}"),
    ("bytes requested", "bytes", "{:,}"),
    ("bytes of unique objects", "unique_bytes", "{:,}"),
    ("span (hours)", "span_hours", "{:,.3f}"),
    ("requests per second", "requests_per_second", "{:,.2f}"),
    ("one-hit wonders (share of objects)", "one_hit_wonder_ratio", "{:.4f}"),
    ("Zipf exponent (alpha)", "zipf_alpha", "{:.4f}"),
    ("Zipf fit r²", "zipf_r_squared", "{:.4f}"),
    ("median reuse distance (objects)", "median_reuse_distance", "{:,.0f}"),
    ("lines skipped", "skipped_lines", "{:,}"),
)


def _cell(template: str, value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return template.format(value)


def print_analysis(result: TraceAnalysis) -> None:
    """The summary, the reuse-distance bands and the top keys as terminal tables."""
    summary = Table(title=f"{result.summary['name']}", show_header=False)
    for label, field, template in _SUMMARY_ROWS:
        summary.add_row(label, _cell(template, result.summary.get(field)))
    for reason, count in result.summary.get("skipped", {}).items():
        summary.add_row(f"  skipped: {reason}", f"{count:,}")
    stdout.print(summary)
    reuse = Table(title="reuse (LRU stack) distance", show_lines=False)
    for column in ("distance", "requests", "share", "LRU hit ratio at distance+1 objects"):
        reuse.add_column(column, justify="right")
    for row in result.reuse_distance.itertuples():
        band = "first request" if row.distance_from < 0 else f"{row.distance_from:,}–{row.distance_to:,}"
        reuse.add_row(band, f"{row.requests:,}", f"{row.fraction:.4f}", _cell("{:.4f}", row.lru_hit_ratio))
    stdout.print(reuse)
    top = Table(title="top keys")
    for column in ("rank", "key", "requests", "share"):
        top.add_column(column, justify="left" if column == "key" else "right")
    for row in result.top_keys.itertuples():
        top.add_row(str(row.rank), row.key, f"{row.requests:,}", f"{row.fraction:.4f}")
    stdout.print(top)


@with_source_options(trace_first=True)  # analyze is mostly run on a trace: its options lead
def analyze_command(
    source: SourceOptions,
    top: Annotated[int, typer.Option(min=0, help="How many of the most requested keys to list.")] = 10,
    out: output.Out = None,
    no_report: output.NoReport = False,
    output_format: Annotated[str, typer.Option("--format", help="table, json or csv on stdout.")] = "table",
) -> None:
    """Describe a trace: volume, span, skew (Zipf fit), one-hit wonders, reuse distances, working set, top keys."""
    check_choice("format", output_format, FORMATS)
    with output.run_folder("analyze", out) as folder:
        trace = source.load()
        result = analyze(trace, top=top)
        options = {"trace": trace.info.get("path"), "workload": source.workload, "trace_format": source.trace_format,
                   "top": top}  # fmt: skip
        summary_row = pd.DataFrame(
            [{key: value for key, value in result.summary.items() if not isinstance(value, dict)}]
        )
        tables = {
            "summary": summary_row,
            "reuse_distance": result.reuse_distance,
            "working_set": result.working_set,
            "top_keys": result.top_keys,
            "popularity": result.popularity,
        }
        as_json = result.to_dict()  # NaN (no Zipf fit, no time span) as null: run.json stays valid JSON
        record = {**run_record("analyze", options, trace), "summary": {key: as_json[key] for key in result.summary}}
        output.save_run(folder, record, tables, report=not no_report)
    if output_format == "json":
        stdout.out(json.dumps(as_json, indent=2, default=str), highlight=False)
    elif output_format == "csv":
        buffer = io.StringIO()
        summary_row.to_csv(buffer, index=False)
        stdout.out(buffer.getvalue(), end="", highlight=False)
    else:
        print_analysis(result)


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze_command)
