"""Shared fixtures: the reference traces in ../shared/traces and their expected misses."""

from __future__ import annotations

import csv
import gzip
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import tuner

SHARED_TRACES = Path(__file__).resolve().parents[1].parent / "shared" / "traces"
JIT_DISABLED = os.environ.get("NUMBA_DISABLE_JIT", "0") == "1"

# Hypothesis's health checks time how fast examples are drawn: in one process that has compiled every
# policy's loops, a full collection of its large heap can land inside a draw and fail a correct test. The
# checks are about the tests' speed, which benchmarks measure; correctness failures still fail.
settings.register_profile("cachetune", suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile("cachetune")

# Replaying large traces in pure Python (coverage runs) would take hours.
needs_jit = pytest.mark.skipif(JIT_DISABLED, reason="replays a large trace; too slow with NUMBA_DISABLE_JIT=1")


@pytest.fixture(autouse=True, scope="session")
def _own_parsed_trace_cache(tmp_path_factory):
    """Parsed traces go to a folder of this test run (subprocesses inherit it): a test must parse, not
    read what an earlier run left in the user's ``~/.cache/cachetune``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CACHETUNE_CACHE_DIR", str(tmp_path_factory.mktemp("trace-cache")))
        yield


def shared_trace_path(relative: str) -> Path:
    """A file under ../shared/traces, or a clean skip where that folder is absent."""
    path = SHARED_TRACES / relative
    if not path.exists():
        pytest.skip(f"{path} not present (../shared/traces is only beside the project's own checkout)")
    return path


def expected_rows(policy: str, size_unit: str = "objects") -> list[dict]:
    """Rows of expected.csv for ``policy`` (its name there, e.g. 'LRU', 'S3FIFO')."""
    path = shared_trace_path("expected.csv")
    with path.open(newline="") as handle:
        return [row for row in csv.DictReader(handle) if row["policy"] == policy and row["size_unit"] == size_unit]


_TEXT_TRACES: dict[str, tuner.Trace] = {}


def load_text_trace(relative: str) -> tuner.Trace:
    """A one-key-per-line trace (the LIRS traces, cloudPhysicsIO.txt), cached per session."""
    if relative not in _TEXT_TRACES:
        path = shared_trace_path(relative)
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt") as handle:
            keys = [line.strip() for line in handle]
        keys = np.array([int(key) for key in keys if key and key != "*"], dtype=np.int64)
        _TEXT_TRACES[relative] = tuner.Trace.from_arrays(keys, name=relative)
    return _TEXT_TRACES[relative]


def text_rows(policy: str) -> list[dict]:
    """expected.csv rows for ``policy`` on one-key-per-line traces at object capacity."""
    return [row for row in expected_rows(policy) if row["trace_file"].endswith((".trace.gz", ".txt"))]


_ORACLE = np.dtype([("t", "<u4"), ("id", "<u8"), ("sz", "<u4"), ("nxt", "<i8")])


def load_oracle_trace(relative: str = "libcachesim/cloudPhysicsIO.oracleGeneral.bin") -> tuner.Trace:
    """A libCacheSim oracleGeneral trace with its timestamps and byte sizes, cached per session."""
    if relative not in _TEXT_TRACES:
        records = np.fromfile(shared_trace_path(relative), dtype=_ORACLE)
        _TEXT_TRACES[relative] = tuner.Trace.from_arrays(
            records["id"], records["t"].astype(np.float64), records["sz"].astype(np.int64), name=relative
        )
    return _TEXT_TRACES[relative]
