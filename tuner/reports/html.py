"""``report.html``: one self-contained page per run, rebuilt from the run's CSV/JSON files alone.

The page kind follows ``run.json``'s ``command``; each kind lives in its own
module with a ``sections(folder, run)`` and a ``subtitle(run)``. Because only
the files are read, ``cachetune report DIR`` and the run itself give the same
page, byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from tuner.errors import CachetuneError
from tuner.reports import analyze_page, bench_page, mrc_page, optimize_page, verify_page
from tuner.reports.page import page, run_section

REPORT_NAME = "report.html"


class _Kind(NamedTuple):
    title: str
    sections: Callable[[Path, dict[str, Any]], list[str]]
    subtitle: Callable[[dict[str, Any]], str]
    main_table: str  # the CSV that ``cachetune report --format csv`` prints


KINDS = {
    "bench": _Kind("Policy comparison", bench_page.sections, bench_page.subtitle, "results"),
    "optimize": _Kind("Tuning", optimize_page.sections, optimize_page.subtitle, "trials"),
    "analyze": _Kind("Trace analysis", analyze_page.sections, analyze_page.subtitle, "summary"),
    "mrc": _Kind("Miss-ratio curves", mrc_page.sections, mrc_page.subtitle, "curves"),
    "verify": _Kind("Model against the real thing", verify_page.sections, verify_page.subtitle, "verify"),
}


def read_run(folder: Path) -> dict[str, Any]:
    """The run's ``run.json``; a clear error when the folder holds no run."""
    path = Path(folder) / "run.json"
    if not path.is_file():
        raise CachetuneError(f"{path} not found: give a folder written by bench, optimize, analyze, mrc or verify")
    try:
        run = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise CachetuneError(f"{path}: not valid JSON ({error.msg} at line {error.lineno})") from error
    if not isinstance(run, dict) or run.get("command") not in KINDS:
        command = run.get("command") if isinstance(run, dict) else None
        raise CachetuneError(f"{path}: no report for command {command!r} (known: {', '.join(KINDS)})")
    return run


def render_report(folder: Path) -> str:
    """The report page for the run in ``folder``, as HTML text."""
    folder = Path(folder)
    run = read_run(folder)
    kind = KINDS[run["command"]]
    name = (run.get("trace") or {}).get("name")
    title = f"cachetune {run['command']}: {kind.title}" + (f" on {name}" if name else "")
    return page(title, kind.subtitle(run), [run_section(run), *kind.sections(folder, run)])


def write_report(folder: Path) -> Path:
    """Write ``report.html`` into ``folder`` and return its path."""
    path = Path(folder) / REPORT_NAME
    path.write_text(render_report(folder), encoding="utf-8")
    return path
