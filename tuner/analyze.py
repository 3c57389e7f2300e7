"""What a trace looks like: volume, popularity skew, reuse, working set, reads and writes, TTLs, top keys.

The reuse distance of a request is its LRU stack distance: how many distinct
other objects were requested since the same object's previous request
(Mattson et al., "Evaluation techniques for storage hierarchies", IBM Systems
Journal 1970). An LRU cache of C objects hits exactly the requests whose
distance is below C, so the distribution is LRU's whole miss-ratio curve. It
comes from the same one-pass histogram as ``cachetune mrc``
(``tuner.mrc.stack_distance``), whose distances count the object itself.

Caches are not only read: in Twitter's production traces write-heavy clusters
are common and TTLs bound how long an object can stay (Yang, Yue and Rashmi,
"A large scale analysis of hundreds of in-memory cache clusters at Twitter",
OSDI 2020), so the summary counts each operation and describes the TTLs given.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numba import njit
from scipy import stats

from tuner.mrc.stack_distance import COLD as COLD_SLOT
from tuner.mrc.stack_distance import stack_distance_histogram
from tuner.trace import DELETE, GET, SET, Trace, chunks

COLD = -1  # the reuse table's row of first requests
# Each operation's name and its summary fields: requests, share of all requests.
OPERATION_FIELDS = {GET: ("GET", "gets", "get_share"), SET: ("SET", "sets", "set_share"),
                    DELETE: ("DELETE", "deletes", "delete_share")}  # fmt: skip
POPULARITY_POINTS = 200


@njit(cache=True, nogil=True)
def _counted(column, n_values):
    """Requests of each value 0..n_values-1 of a column (``np.bincount`` would copy a mapped column to int64)."""
    counts = np.zeros(n_values, np.int64)
    for value in column:
        counts[value] += 1
    return counts


@dataclass(frozen=True)
class TraceAnalysis:
    """The headline numbers, the tables behind them, and the arguments ``analyze`` ran with."""

    summary: dict[str, Any]
    reuse_distance: pd.DataFrame
    working_set: pd.DataFrame
    top_keys: pd.DataFrame
    popularity: pd.DataFrame  # (rank, requests) at about 200 log-spaced ranks: the points the Zipf fit uses
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def table(self) -> pd.DataFrame:
        """The summary as a one-row table: its numbers, without the breakdown of skipped lines."""
        return pd.DataFrame([{key: value for key, value in self.summary.items() if not isinstance(value, dict)}])

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by the name of the run file it is saved as (``summary.csv``, ``reuse_distance.csv``, …)."""
        return {"summary": self.table, "reuse_distance": self.reuse_distance, "working_set": self.working_set,
                "top_keys": self.top_keys, "popularity": self.popularity}  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain JSON-ready values (NaN becomes None)."""
        return _json_ready({
            **self.summary,
            "reuse_distance": self.reuse_distance.to_dict(orient="records"),
            "working_set": self.working_set.to_dict(orient="records"),
            "top_keys": self.top_keys.to_dict(orient="records"),
            "popularity": self.popularity.to_dict(orient="records"),
        })  # fmt: skip


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_ready(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def popularity_points(counts: np.ndarray, points: int = POPULARITY_POINTS) -> pd.DataFrame:
    """Requests of the object at each of about ``points`` ranks spaced evenly in log space (rank 1 = most requested).

    Sampling ranks evenly in log space keeps the long tail of rare objects
    from outweighing the head that decides cache behaviour, in the Zipf fit and
    in the rank–frequency chart alike.
    """
    ordered = np.sort(counts)[::-1]
    ordered = ordered[ordered > 0]
    if len(ordered) == 0:
        return pd.DataFrame({"rank": np.empty(0, np.int64), "requests": np.empty(0, np.int64)})
    ranks = np.unique(np.geomspace(1, len(ordered), num=min(points, len(ordered))).astype(np.int64))
    return pd.DataFrame({"rank": ranks, "requests": ordered[ranks - 1].astype(np.int64)})


def zipf_fit(counts: np.ndarray) -> tuple[float, float]:
    """Zipf exponent and r² of a least-squares line through log(requests) against log(rank) at ``popularity_points``."""
    points = popularity_points(counts)
    if len(points) < 3:
        return float("nan"), float("nan")
    fit = stats.linregress(np.log(points["rank"]), np.log(points["requests"]))
    return float(-fit.slope), float(fit.rvalue**2)


def _reuse_counts(histogram: np.ndarray) -> tuple[np.ndarray, int]:
    """Requests at each reuse distance (index = distinct other objects) and the first requests,
    from an LRU stack-distance histogram (whose distances count the object itself)."""
    reused = histogram[1:]
    used = np.flatnonzero(reused)
    return reused[: used[-1] + 1 if len(used) else 0], int(histogram[COLD_SLOT])


def _median_distance(counts: np.ndarray) -> float | None:
    """The median of the distances ``counts`` holds (as ``np.median`` gives it), None when there are none."""
    below = np.cumsum(counts)
    reused = int(below[-1]) if len(below) else 0
    if not reused:
        return None
    upper = int(np.searchsorted(below, reused // 2, side="right"))
    if reused % 2:
        return float(upper)
    lower = int(np.searchsorted(below, reused // 2 - 1, side="right"))
    return (lower + upper) / 2.0


def _reuse_table(counts: np.ndarray, cold: int, n: int) -> pd.DataFrame:
    """Requests per power-of-two distance band, and LRU's hit ratio at a cache of ``distance_to + 1`` objects."""
    largest = len(counts) - 1 if len(counts) else 0
    edges = [0, 1] + [1 << k for k in range(1, max(1, largest.bit_length()) + 1)]
    edges = sorted(set(edges))
    if edges[-1] <= largest:
        edges.append(largest + 1)
    below = np.concatenate([[0], np.cumsum(counts)])  # below[d] = requests at distances < d
    band_counts = below[np.minimum(edges[1:], len(counts))] - below[np.minimum(edges[:-1], len(counts))]
    rows = []
    hits = 0
    for low, high, count in zip(edges[:-1], edges[1:], band_counts, strict=True):
        hits += int(count)
        rows.append({"distance_from": low, "distance_to": high - 1, "requests": int(count),
                     "fraction": count / n if n else 0.0, "lru_hit_ratio": hits / n if n else 0.0})  # fmt: skip
    rows.append({"distance_from": COLD, "distance_to": COLD, "requests": cold, "fraction": cold / n if n else 0.0,
                 "lru_hit_ratio": float("nan")})  # fmt: skip
    return pd.DataFrame(rows)


@njit(cache=True, nogil=True)
def _hourly_working_set(timestamps, ids, object_sizes):
    """Requests, distinct objects and their bytes (each at its largest size) per hour since the first request.

    Timestamps must not decrease; each request's hour is computed here, in the same pass, not as arrays.
    """
    n_hours = np.int64((timestamps[-1] - timestamps[0]) // 3600) + 1 if len(ids) else 0
    requests, objects, unique_bytes = (
        np.zeros(n_hours, np.int64),
        np.zeros(n_hours, np.int64),
        np.zeros(n_hours, np.int64),
    )
    last_hour = np.full(len(object_sizes), -1, np.int64)
    hour, next_hour_at = 0, 3600.0  # hours found by stepping past their boundaries: a float // per request is slow
    for i in range(len(ids)):
        since_first, obj = timestamps[i] - timestamps[0], ids[i]
        while since_first >= next_hour_at:
            hour += 1
            next_hour_at += 3600.0
        requests[hour] += 1
        if last_hour[obj] != hour:
            last_hour[obj] = hour
            objects[hour] += 1
            unique_bytes[hour] += object_sizes[obj]
    return requests, objects, unique_bytes


def working_set_table(trace: Trace) -> pd.DataFrame:
    """Requests, distinct objects and their bytes in each hour of the trace (hours without requests left out)."""
    requests, objects, unique_bytes = _hourly_working_set(trace.timestamps, trace.ids, trace.object_sizes)
    active = np.flatnonzero(requests)
    return pd.DataFrame({"hour": active, "requests": requests[active], "unique_objects": objects[active],
                         "unique_bytes": unique_bytes[active]})  # fmt: skip


def operation_mix(trace: Trace) -> dict[str, Any]:
    """Requests of each operation and their shares, and the write ratio: SETs and DELETEs over all requests."""
    counts = _counted(trace.ops, DELETE + 1)
    n = max(1, len(trace))
    mix = {field: int(counts[code]) for code, (_, field, _) in OPERATION_FIELDS.items()}
    mix.update({field: float(counts[code] / n) for code, (_, _, field) in OPERATION_FIELDS.items()})
    mix["write_ratio"] = float((counts[SET] + counts[DELETE]) / n)
    return mix


def ttl_distribution(trace: Trace) -> dict[str, Any]:
    """The share of requests that carry a TTL, and the smallest, median, 90th percentile and largest TTL given
    (seconds; NaN when no request has one)."""
    given = np.concatenate([np.empty(0, np.float32)]
                           + [trace.ttls[block][trace.ttls[block] > 0] for block in chunks(len(trace))])  # fmt: skip
    given = given.astype(np.float64)
    low, median, p90, high = np.quantile(given, [0.0, 0.5, 0.9, 1.0]) if len(given) else [float("nan")] * 4
    return {
        "ttl_share": len(given) / max(1, len(trace)),
        "ttl_min_seconds": float(low),
        "ttl_median_seconds": float(median),
        "ttl_p90_seconds": float(p90),
        "ttl_max_seconds": float(high),
    }


def operations_note(summary: dict[str, Any]) -> str:
    """One line saying whether the trace writes, for the terminal and the report alike."""
    ratio = float(summary.get("write_ratio") or 0.0)
    if ratio == 0:
        return "reads only: every request is a GET"
    return f"this trace has writes: {ratio:.1%} of requests are SETs or DELETEs (write ratio {ratio:.4f})"


def display_key(key: Any) -> str:
    """A key as text: bytes decoded as UTF-8, other bytes shown as \\xNN escapes."""
    return key.decode("utf-8", "backslashreplace") if isinstance(key, bytes) else str(key)


def analyze(trace: Trace, top: int = 10) -> TraceAnalysis:
    """Statistics of ``trace``: volume, skew, reuse distances, operations and TTLs, working set per hour, top keys,
    rank–frequency."""
    with ThreadPoolExecutor(max_workers=1) as helper:
        # the stack distances, the longest pass, run beside the others (the kernel releases the GIL)
        distance_pass = helper.submit(stack_distance_histogram, trace.ids, trace.n_objects)
        counts = _counted(trace.ids, trace.n_objects)
        working_set = working_set_table(trace)
        alpha, r_squared = zipf_fit(counts)
        distance_counts, cold = _reuse_counts(distance_pass.result())
    span = trace.span_seconds
    info = trace.info
    summary = {
        "name": trace.name,
        "requests": len(trace),
        "unique_objects": trace.n_objects,
        "bytes": int(trace.sizes.sum()),
        "unique_bytes": trace.working_set_bytes,
        "span_hours": span / 3600.0,
        "requests_per_second": len(trace) / span if span > 0 else float("nan"),
        "one_hit_wonder_ratio": float(np.count_nonzero(counts == 1) / max(1, trace.n_objects)),
        "zipf_alpha": alpha,
        "zipf_r_squared": r_squared,
        "median_reuse_distance": _median_distance(distance_counts),
        **operation_mix(trace),
        **ttl_distribution(trace),
        "skipped_lines": int(info.get("skipped_lines", 0)),
        "skipped": info.get("skipped", {}),
        "lines": info.get("lines"),
    }
    if "dropped_records" in info:  # a capture file: requests its writer could not keep up with, not in the trace
        summary["dropped_records"] = int(info["dropped_records"])
    order = np.argsort(-counts, kind="stable")[:top]
    top_keys = pd.DataFrame({
        "rank": np.arange(1, len(order) + 1),
        "key": [display_key(trace.keys[obj]) for obj in order],
        "requests": counts[order],
        "fraction": counts[order] / max(1, len(trace)),
    })  # fmt: skip
    tables = (_reuse_table(distance_counts, cold, len(trace)), working_set, top_keys, popularity_points(counts))
    return TraceAnalysis(summary, *tables, options={"top": top})
