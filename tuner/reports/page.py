"""The HTML page around the charts: styles, the run's description, sortable tables.

Everything a page needs is inline (styles, a few lines of script for sorting
tables), so the one file opens offline and can be mailed to a colleague. The
page holds nothing that is not in the run's files: no generation time, so
re-rendering the same folder gives the same bytes.
"""

from __future__ import annotations

import math
import numbers
import shlex
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from tuner.errors import CachetuneError

_STYLE = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #222;
  max-width: 1240px; margin: 0 auto; padding: 16px 24px 48px; line-height: 1.4; background: #fafafa; }
h1 { font-size: 1.5rem; margin: 8px 0 4px; }
h2 { font-size: 1.15rem; margin: 28px 0 10px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.subtitle { color: #555; margin: 0 0 12px; }
dl.run { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.run dt { font-weight: 600; color: #444; }
dl.run dd { margin: 0; overflow-wrap: anywhere; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.9em; background: #eee;
  padding: 1px 4px; border-radius: 3px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 16px; }
figure.chart { margin: 0; background: #fff; border: 1px solid #e2e2e2; border-radius: 6px; padding: 4px;
  break-inside: avoid; }
figure.chart svg { display: block; width: 100%; height: auto; font-family: inherit; }
.note { color: #555; font-size: 0.9rem; }
.box { background: #fff; border: 2px solid #0072B2; border-radius: 8px; padding: 12px 18px; margin: 12px 0; }
.box h2 { border: none; margin: 0 0 8px; padding: 0; }
.box .figures { display: flex; flex-wrap: wrap; gap: 8px 32px; }
.box .figure b { display: block; font-size: 1.35rem; }
.table-wrap { overflow-x: auto; background: #fff; border: 1px solid #e2e2e2; border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 0.85rem; }
table#summary { width: auto; min-width: 50%; }
th, td { padding: 4px 8px; border-bottom: 1px solid #eee; text-align: left; white-space: nowrap; }
th { white-space: normal; vertical-align: bottom; }
td.text { white-space: normal; min-width: 4em; max-width: 22em; overflow-wrap: anywhere; }
td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
thead th { position: sticky; top: 0; background: #f0f0f0; cursor: pointer; user-select: none; }
thead th[aria-sort="ascending"]::after { content: " \\25B2"; }
thead th[aria-sort="descending"]::after { content: " \\25BC"; }
tbody tr:nth-child(even) { background: #fafafa; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
@media print {
  body { background: #fff; max-width: none; padding: 0; font-size: 10pt; }
  .charts { grid-template-columns: 1fr 1fr; gap: 8px; }
  figure.chart, .box, tr { break-inside: avoid; }
  thead th { position: static; }
  thead th::after { content: none !important; }
  .table-wrap { overflow: visible; border: none; }
  table { font-size: 7.5pt; }
  @page { margin: 12mm; }
}
"""

_SORT_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var headers = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(headers, function (header, column) {
    header.addEventListener("click", function () {
      var ascending = header.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(headers, function (other) { other.removeAttribute("aria-sort"); });
      header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var key = function (row) {
        var cell = row.cells[column];
        if (!cell.hasAttribute("data-value")) { return cell.textContent; }
        var number = parseFloat(cell.getAttribute("data-value"));
        return isNaN(number) ? Infinity : number;
      };
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var order = typeof x === "number" && typeof y === "number"
          ? (x === y ? 0 : x < y ? -1 : 1) : String(x).localeCompare(String(y));
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def counted(count: int, noun: str) -> str:
    """``1 policy``, ``3 policies``: the count and the noun in the number it takes."""
    if count == 1:
        return f"1 {noun}"
    return f"{count:,} {noun[:-1] + 'ies' if noun.endswith('y') else noun + 's'}"


def read_table(folder: Path, name: str, required: Sequence[str] = ()) -> pd.DataFrame | None:
    """``<folder>/<name>.csv`` as a frame, or None when the run did not write it.

    ``required`` are the columns the report reads: a file without one of them
    (edited by hand, or not the run's) fails in one line naming it.
    """
    path = folder / f"{name}.csv"
    if not path.is_file() or path.stat().st_size == 0:
        return None
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return None
    missing = [column for column in required if column not in frame.columns]
    if missing:
        names = ", ".join(repr(column) for column in missing)
        noun = "column" if len(missing) == 1 else "columns"
        raise CachetuneError(f"{path} has no {noun} {names} (the report reads {', '.join(required)})")
    return frame


def format_cell(value: Any) -> str:
    """A table cell's text: thousands separators, four decimals for ratios, a dash for nothing."""
    if value is None or (isinstance(value, numbers.Real) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        magnitude = abs(float(value))
        return f"{value:,.0f}" if magnitude >= 1000 else f"{value:,.2f}" if magnitude >= 1 else f"{value:.4f}"
    return str(value)


def table(frame: pd.DataFrame, table_id: str, caption: str = "") -> str:
    """A sortable HTML table of every column of ``frame`` (click a header to sort)."""
    numeric = {column for column in frame.columns if pd.api.types.is_numeric_dtype(frame[column])}
    head = "".join(
        f'<th scope="col"{" class=number" if column in numeric else ""}>{escape(str(column).replace("_", " "))}</th>'
        for column in frame.columns
    )
    rows = []
    for record in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, record, strict=True):
            if column in numeric:
                number = float(value)
                data = "" if math.isnan(number) else repr(number)
                cells.append(f'<td class="number" data-value="{data}">{escape(format_cell(value))}</td>')
            else:
                cells.append(f'<td class="text">{escape(format_cell(value))}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    caption_html = f'<p class="note">{escape(caption)}</p>' if caption else ""
    return (
        f'{caption_html}<div class="table-wrap"><table class="sortable" id="{escape(table_id)}">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def section(title: str, body: str, section_id: str = "") -> str:
    """A titled part of the page."""
    anchor = f' id="{escape(section_id)}"' if section_id else ""
    return f"<section{anchor}><h2>{escape(title)}</h2>{body}</section>"


def chart_grid(charts: Sequence[str]) -> str:
    """Charts side by side where the screen is wide enough, one per row otherwise."""
    return f'<div class="charts">{"".join(charts)}</div>'


def note(text: str) -> str:
    """A line of explanation under a chart or table."""
    return f'<p class="note">{escape(text)}</p>'


def _command_line(argv: Sequence[str]) -> str:
    if not argv:
        return "—"
    return shlex.join(["cachetune", *argv[1:]])


def _values(mapping: dict[str, Any]) -> str:
    shown = [
        f"{key}={', '.join(map(str, value)) if isinstance(value, list | tuple) else value}"
        for key, value in mapping.items()
        if value not in (None, [], {})
    ]
    return ", ".join(shown) or "—"


def run_section(run: dict[str, Any]) -> str:
    """What was run, on what traffic, with which software, when: enough to reproduce it."""
    trace = run.get("trace") or {}
    options = dict(run.get("options") or {})
    items: list[tuple[str, str]] = [("command line", f"<code>{escape(_command_line(run.get('argv') or []))}</code>")]
    if trace:
        stats = [f"{trace.get('name', '?')}"]
        for key, label in (("requests", "requests"), ("unique_objects", "unique objects")):
            if isinstance(trace.get(key), int | float):
                stats.append(f"{trace[key]:,.0f} {label}")
        if isinstance(trace.get("bytes"), int | float):
            stats.append(f"{trace['bytes']:,.0f} bytes")
        if isinstance(trace.get("span_hours"), int | float):
            stats.append(f"span {trace['span_hours']:,.2f} h")
        items.append(("trace" if "path" in (trace.get("info") or {}) else "workload", escape(", ".join(stats))))
        if trace.get("info"):
            items.append(("trace details", escape(_values(trace["info"]))))
    if "seed" in options:
        seed = options.pop("seed")
        items.append(("seed", escape("default" if seed is None else str(seed))))
    if options:
        items.append(("options", escape(_values(options))))
    if run.get("versions"):
        items.append(("versions", escape(", ".join(f"{k} {v}" for k, v in run["versions"].items()))))
    if run.get("date"):
        items.append(("date", escape(str(run["date"]))))
    rows = "".join(f"<dt>{escape(label)}</dt><dd>{value}</dd>" for label, value in items)
    return section("The run", f'<dl class="run">{rows}</dl>', "run")


def page(title: str, subtitle: str, sections: Sequence[str]) -> str:
    """The whole self-contained document."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f'<body><header><h1>{escape(title)}</h1><p class="subtitle">{escape(subtitle)}</p></header>'
        f"{''.join(sections)}<script>{_SORT_SCRIPT}</script></body></html>\n"
    )
