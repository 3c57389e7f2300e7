"""The ``analyze`` report: how skewed the traffic is, how soon objects come back, how it moves over the day.

Built from ``summary.csv`` (or ``run.json``'s ``summary``), ``reuse_distance.csv``,
``working_set.csv``, ``top_keys.csv`` and, when the run wrote it,
``popularity.csv`` (``rank``, ``requests`` at ranks spread over the whole
range). Without ``popularity.csv`` the rank–frequency chart shows the top
keys only; the fitted Zipf line still spans every rank. The operation mix and
the TTLs come from the summary; a run saved before they were counted has no
such section.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tuner.analyze import OPERATION_FIELDS, operations_note
from tuner.reports.charts import Axis, Series, bar_chart, format_number, line_chart
from tuner.reports.page import chart_grid, note, read_table, section, table

DATA_COLOUR = "#0072B2"
FIT_COLOUR = "#D55E00"
WORKING_SET_COLOUR = "#009E73"
RANKED_COLUMNS = ("rank", "requests")  # popularity.csv and top_keys.csv
REUSE_COLUMNS = ("distance_from", "distance_to", "fraction")
WORKING_SET_COLUMNS = ("hour", "requests", "unique_objects")

_SUMMARY = (
    ("requests", "requests", "{:,.0f}"),
    ("unique objects", "unique_objects", "{:,.0f}"),
    ("bytes requested", "bytes", "{:,.0f}"),
    ("bytes of unique objects", "unique_bytes", "{:,.0f}"),
    ("span (hours)", "span_hours", "{:,.3f}"),
    ("requests per second", "requests_per_second", "{:,.2f}"),
    ("one-hit wonders (share of objects)", "one_hit_wonder_ratio", "{:.4f}"),
    ("Zipf exponent α", "zipf_alpha", "{:.4f}"),
    ("Zipf fit r²", "zipf_r_squared", "{:.4f}"),
    ("median reuse distance (objects)", "median_reuse_distance", "{:,.0f}"),
    ("lines skipped", "skipped_lines", "{:,.0f}"),
)


def _summary(folder: Path, run: dict[str, Any]) -> dict[str, Any]:
    frame = read_table(folder, "summary")
    found = dict(run.get("summary") or {})
    if frame is not None and not frame.empty:
        found.update({key: value for key, value in frame.iloc[0].items() if not pd.isna(value)})
    return found


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float | np.number) else math.nan


def _summary_table(summary: dict[str, Any]) -> str:
    rows = []
    for label, key, template in _SUMMARY:
        value = _number(summary.get(key))
        if not math.isnan(value):
            rows.append({"statistic": label, "value": template.format(value)})
    for reason, count in (summary.get("skipped") or {}).items():
        rows.append({"statistic": f"skipped: {reason}", "value": f"{count:,}"})
    return table(pd.DataFrame(rows, columns=["statistic", "value"]), "summary")


_TTLS = (
    ("requests with a TTL (share)", "ttl_share", "{:.4f}"),
    ("shortest TTL (s)", "ttl_min_seconds", "{:,.1f}"),
    ("median TTL (s)", "ttl_median_seconds", "{:,.1f}"),
    ("90th percentile TTL (s)", "ttl_p90_seconds", "{:,.1f}"),
    ("longest TTL (s)", "ttl_max_seconds", "{:,.1f}"),
)


def _operations(summary: dict[str, Any]) -> str | None:
    """The operation mix and write ratio, and the TTLs when any request has one; None for a run without them."""
    if any(math.isnan(_number(summary.get(count))) for _, count, _ in OPERATION_FIELDS.values()):
        return None
    rows = [{"operation": name, "requests": int(_number(summary[count])), "share": _number(summary.get(share))}
            for name, count, share in OPERATION_FIELDS.values()]  # fmt: skip
    writes, write_ratio = rows[1]["requests"] + rows[2]["requests"], _number(summary.get("write_ratio"))
    rows.append({"operation": "writes (SET + DELETE)", "requests": writes, "share": write_ratio})
    body = note(operations_note(summary)) + table(pd.DataFrame(rows), "operations")
    if _number(summary.get("ttl_share")) > 0:
        ttls = [{"statistic": label, "value": template.format(_number(summary.get(key)))}
                for label, key, template in _TTLS]  # fmt: skip
        caption = "The share is of all requests; the TTL statistics are over the requests that have one."
        body += table(pd.DataFrame(ttls, columns=["statistic", "value"]), "ttls", caption)
    return body


def _popularity(folder: Path, summary: dict[str, Any]) -> str | None:
    points = read_table(folder, "popularity", RANKED_COLUMNS)
    source = "sampled ranks"
    if points is None:
        points, source = read_table(folder, "top_keys", RANKED_COLUMNS), "top keys only"
    if points is None or points.empty:
        return None
    points = points[(points["rank"] > 0) & (points["requests"] > 0)]
    series = [
        Series(
            f"requests per object ({source})",
            list(points["rank"]),
            list(points["requests"]),
            DATA_COLOUR,
            line=False,
            hover=[f"rank {r:,}: {n:,} requests" for r, n in zip(points["rank"], points["requests"], strict=True)],
        )
    ]
    alpha = _number(summary.get("zipf_alpha"))
    if not math.isnan(alpha):
        # The fit's slope is -alpha; its intercept is the least-squares one for that slope through these points.
        intercept = float(np.mean(np.log(points["requests"]) + alpha * np.log(points["rank"])))
        last = max(_number(summary.get("unique_objects")), float(points["rank"].max()))
        r_squared = _number(summary.get("zipf_r_squared"))
        name = f"fitted Zipf, α = {alpha:.3f}" + ("" if math.isnan(r_squared) else f" (r² = {r_squared:.3f})")
        ranks = [1.0, last]
        series.append(
            Series(
                name,
                ranks,
                [math.exp(intercept - alpha * math.log(r)) for r in ranks],
                FIT_COLOUR,
                dashed=True,
                markers=False,
            )
        )
    return line_chart(
        "popularity",
        "Popularity: requests per object by rank (log–log)",
        series,
        Axis("object rank (1 = most requested, log scale)", log=True),
        Axis("requests per object (log scale)", log=True),
    )


def _band(low: int) -> str:
    if low < 0:
        return "first"
    if low >= 1 << 20:
        return f"{low >> 20}Mi"
    return f"{low >> 10}Ki" if low >= 1 << 10 else str(low)


def _reuse(reuse: pd.DataFrame) -> list[str]:
    bands = reuse.sort_values("distance_from", key=lambda s: s.where(s >= 0, np.inf))
    labels = [_band(int(low)) for low in bands["distance_from"]]
    hover = [
        "first request of an object" if low < 0 else f"distance {low:,}–{high:,}: {share:.2%} of requests"
        for low, high, share in zip(bands["distance_from"], bands["distance_to"], bands["fraction"], strict=True)
    ]
    charts = [
        bar_chart(
            "reuse-distance",
            "Reuse distance distribution (LRU stack distance)",
            labels,
            [Series("share of requests", [], list(bands["fraction"]), DATA_COLOUR, hover=hover)],
            "reuse distance: distinct objects requested since the last request (band from, ×2 each)",
            Axis("share of requests", format=lambda v: f"{v:.0%}"),
        )
    ]
    reused = bands[bands["distance_from"] >= 0]
    if len(reused) >= 2 and "lru_hit_ratio" in reused.columns:
        sizes = (reused["distance_to"] + 1).tolist()
        charts.append(
            line_chart(
                "lru-hit-ratio",
                "LRU hit ratio by cache size, from the reuse distances",
                [
                    Series(
                        "LRU hit ratio",
                        sizes,
                        list(reused["lru_hit_ratio"]),
                        DATA_COLOUR,
                        hover=[
                            f"{s:,} objects: hit ratio {h:.4f}"
                            for s, h in zip(sizes, reused["lru_hit_ratio"], strict=True)
                        ],
                    )
                ],
                Axis("cache size (objects, log scale)", log=True),
                Axis("hit ratio (hits ÷ requests)", zero=True),
                legend=False,
            )
        )
    return charts


def _hourly(working_set: pd.DataFrame, span_hours: float) -> str:
    # working_set.csv lists only the hours that had requests; the hours between them are drawn at 0, so no
    # hour's step stretches over the empty hours after it.
    counts = working_set.astype({"hour": "int64"}).set_index("hour")[["requests", "unique_objects"]]
    first, last = int(counts.index.min()), int(counts.index.max())
    hours = counts.reindex(range(first, last + 1), fill_value=0)
    starts = [float(hour) for hour in hours.index]
    end = last + 1.0
    if span_hours > 0:
        end = min(end, max(span_hours, last + 1e-3))
    edges = [*starts, end]
    series = [
        Series(
            "requests",
            edges,
            list(hours["requests"]),
            DATA_COLOUR,
            step=True,
            hover=[f"hour {h:.0f}: {n:,} requests" for h, n in zip(starts, hours["requests"], strict=True)],
        ),
        Series(
            "unique objects (working set)",
            edges,
            list(hours["unique_objects"]),
            WORKING_SET_COLOUR,
            step=True,
            hover=[f"hour {h:.0f}: {n:,} objects" for h, n in zip(starts, hours["unique_objects"], strict=True)],
        ),
    ]
    return line_chart(
        "hourly",
        "Requests and working set per hour",
        series,
        Axis("trace time (hours from start)"),
        Axis("count in each hour", zero=True, format=format_number),
    )


def sections(folder: Path, run: dict[str, Any]) -> list[str]:
    """The analyze report's sections after the run description."""
    summary = _summary(folder, run)
    charts = []
    popularity = _popularity(folder, summary)
    if popularity:
        charts.append(popularity)
    reuse = read_table(folder, "reuse_distance", REUSE_COLUMNS)
    if reuse is not None and not reuse.empty:
        charts += _reuse(reuse)
    working_set = read_table(folder, "working_set", WORKING_SET_COLUMNS)
    if working_set is not None and not working_set.empty:
        span = _number(summary.get("span_hours"))
        charts.append(_hourly(working_set, 0.0 if math.isnan(span) else span))
    parts = [section("Summary", _summary_table(summary), "overview")]
    operations = _operations(summary)
    if operations:
        parts.append(section("Reads, writes and TTLs", operations, "operations"))
    if charts:
        parts.append(
            section(
                "Charts",
                chart_grid(charts)
                + note(
                    "Reuse distance: how many distinct objects were requested between two requests for one object; "
                    "an LRU cache of n objects hits exactly the requests with distance below n."
                ),
                "charts",
            )
        )
    top = read_table(folder, "top_keys", RANKED_COLUMNS)
    if top is not None:
        parts.append(
            section("Top keys", table(top, "top-keys", "The most requested objects (top_keys.csv)."), "top-keys")
        )
    if reuse is not None:
        parts.append(
            section(
                "Reuse distances",
                table(
                    reuse,
                    "reuse",
                    "Requests per distance band; distance -1 is an object's first request (reuse_distance.csv).",
                ),
                "reuse",
            )
        )
    if working_set is not None:
        parts.append(
            section(
                "Per hour",
                table(working_set, "hours", "Requests and distinct objects in each hour (working_set.csv)."),
                "hours",
            )
        )
    return parts


def subtitle(run: dict[str, Any]) -> str:
    """One line under the title: what was described."""
    return "what the traffic looks like before any policy runs on it"
