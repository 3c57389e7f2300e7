"""Every reference trace in ../shared/traces reads with format auto to the counts in its SOURCES.md."""

from __future__ import annotations

import csv
import io
import lzma
import os
import subprocess
import sys

import pytest

from tests.conftest import expected_rows, needs_jit, shared_trace_path
from tuner import read_trace

LIRS = {
    "2_pools": (100_000, 9_939), "backf": (9_000, 751), "cpp": (9_047, 1_223), "cs": (6_781, 1_409),
    "gli": (6_015, 2_529), "loop": (505_500, 1_011), "multi1": (15_858, 2_606), "multi2": (26_311, 5_684),
    "multi3": (30_241, 7_454), "ps": (10_448, 3_083), "scan": (50_025, 2_001), "sprite": (133_996, 7_075),
    "zigzag": (52_001, 2_001),
}  # fmt: skip
CLI = [sys.executable, "-c", "from tuner.cli import main; main()"]
# (file, detected format, requests, unique) as SOURCES.md gives them (LIRS: counted from the files).
COUNTS = [
    *((f"lirs/{name}.trace.gz", "text", *counts) for name, counts in LIRS.items()),
    ("arc/OLTP.lis.zst", "arc", 914_145, 186_880),
    pytest.param("arc/P3.lis.zst", "arc", 3_912_296, 762_543, marks=needs_jit),
    ("libcachesim/cloudPhysicsIO.oracleGeneral.bin", "oracle-general", 113_872, 48_974),
    ("libcachesim/cloudPhysicsIO.txt", "text", 113_872, 48_974),
    pytest.param("caffeine/w106.trace.xz", "u32be", 5_292_456, 275_171, marks=needs_jit),
    ("caffeine/scarab-recs.trace.xz", "i64be", 1_245_184, 258_368),
    ("cache2k/web07.trace.xz", "u32be", 76_118, 20_484),
]


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CACHETUNE_CACHE_DIR", str(tmp_path / "cache"))


@pytest.mark.parametrize(("relative", "detected", "requests", "unique"), COUNTS)
def test_shared_trace_reads_to_its_published_counts(relative, detected, requests, unique):
    trace = read_trace(shared_trace_path(relative))
    assert (trace.info["format"], len(trace), trace.n_objects) == (detected, requests, unique)


def test_web12_reads_whole(tmp_path):
    path = shared_trace_path("cache2k/web12.trace.xz")
    trace = read_trace(path)
    with lzma.open(path) as packed:
        keys = len(packed.read()) // 4  # packed big-endian int32 keys
    assert len(trace) == keys and trace.info["skipped_lines"] == 0


def test_oracle_reader_matches_libcachesim_records():
    from tests.conftest import load_oracle_trace

    ours = read_trace(shared_trace_path("libcachesim/cloudPhysicsIO.oracleGeneral.bin"))
    reference = load_oracle_trace()
    assert ours.ids.tolist() == reference.ids.tolist()
    assert ours.sizes.tolist() == reference.sizes.tolist()
    assert ours.timestamps.tolist() == reference.timestamps.tolist()


@needs_jit
def test_bench_cli_on_the_oracle_trace_gives_libcachesim_counts(tmp_path):
    path = shared_trace_path("libcachesim/cloudPhysicsIO.oracleGeneral.bin")
    rows = [row for policy in ("LRU", "FIFO") for row in expected_rows(policy, "bytes (variable obj size)")
            if row["trace_file"] == "libcachesim/cloudPhysicsIO.oracleGeneral.bin"]  # fmt: skip
    assert rows
    sizes = sorted({row["cache_size"] for row in rows}, key=int)
    command = [*CLI, "bench", "--trace", str(path), "--policies", "lru,fifo",
               "--format", "csv", "--out", str(tmp_path / "out"), "--no-report"]  # fmt: skip
    for size in sizes:
        command += ["--size", f"{int(size) // 2**20}MiB"]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600,
                          env={**os.environ, "CACHETUNE_CACHE_DIR": str(tmp_path / "cache")})  # fmt: skip
    got = {(r["policy"], r["cache_size"]): int(r["misses"]) for r in csv.DictReader(io.StringIO(done.stdout))}
    for row in rows:
        assert got[(row["policy"].lower(), row["cache_size"])] == int(row["expected_misses"]), row
    assert got[("lru", "134217728")] == 93_374
