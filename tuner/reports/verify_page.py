"""The verify report: a model of a real cache against the real thing, figure by figure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tuner.reports.page import note, read_table, section, table


def sections(folder: Path, run: dict[str, Any]) -> list[str]:
    figures = read_table(folder, "verify", ("figure", "real", "simulated", "difference"))
    if figures is None:
        return [section("Real against simulated", note("verify.csv is missing from this run."))]
    caption = ("Each figure as the real server (or library) gave it and as the model simulated it on the same "
               "requests; difference = simulated - real. Redis's memory is used_memory against the model's "
               "account plus an empty server's calibrated memory.")  # fmt: skip
    return [section("Real against simulated", table(figures, "verify", caption), "verify")]


def subtitle(run: dict[str, Any]) -> str:
    options = run.get("options", {})
    return f"{options.get('policy', '?')} at {options.get('capacity', '?')}"
