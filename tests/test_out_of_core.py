"""Traces larger than memory: oracleGeneral streamed into the parsed-trace cache and replayed from mapped columns.

Small files stand in for large ones: ``CHUNK_RECORDS`` is made tiny so chunks
have boundaries, and ``MAPPED_FROM`` zero so every cached trace comes back
mapped. Everything a mapped trace gives must equal what the same requests give
in memory (``Trace.from_arrays`` on the same keys).
"""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest
import zstandard

from tuner import analyze, read_trace, replay
from tuner.engine.reuse import next_uses
from tuner.mrc import miss_ratio_curves
from tuner.readers import cache, oracle_general
from tuner.readers.integer_ids import IntegerIds
from tuner.readers.oracle_general import RECORD
from tuner.trace import Trace

N_REQUESTS = 2_000
COLUMNS = ("ids", "timestamps", "sizes", "ops", "ttls", "keys")


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CACHETUNE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(cache, "MAPPED_FROM", 0)


def _records(n: int = N_REQUESTS, seed: int = 5) -> np.ndarray:
    """Skewed popularity over 64-bit ids, varied sizes, timestamps that repeat and never decrease."""
    rng = np.random.default_rng(seed)
    records = np.zeros(n, RECORD)
    records["time"] = np.sort(rng.integers(1_000, 1_000 + n // 3, n))
    records["id"] = (rng.zipf(1.2, n) % 300).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    records["size"] = rng.integers(1, 100_000, n)
    return records


def _written(tmp_path, records: np.ndarray, compress=None):
    path = tmp_path / "t.oracleGeneral.bin"
    data = records.tobytes()
    path.write_bytes(compress(data) if compress else data)
    return path


def _in_memory(records: np.ndarray) -> Trace:
    return Trace.from_arrays(records["id"], records["time"], records["size"])


def _same_columns(trace: Trace, expected: Trace) -> None:
    for column in COLUMNS:
        assert np.array_equal(getattr(trace, column), getattr(expected, column)), column


@pytest.mark.parametrize("chunk_records", [1, 7, N_REQUESTS - 1, N_REQUESTS, 1 << 24])
@pytest.mark.parametrize("compress", [None, gzip.compress, zstandard.ZstdCompressor().compress],
                         ids=["plain", "gzip", "zstd"])  # fmt: skip
def test_streamed_columns_equal_the_in_memory_trace_at_any_chunk_boundary(tmp_path, monkeypatch, chunk_records,
                                                                          compress):  # fmt: skip
    monkeypatch.setattr(oracle_general, "CHUNK_RECORDS", chunk_records)
    records = _records()
    path = _written(tmp_path, records, compress)
    first, second = read_trace(path), read_trace(path)
    assert "cached" not in first.info and second.info["cached"]
    for trace in (first, second):
        _same_columns(trace, _in_memory(records))
        assert trace.sizes.dtype == np.uint32
    assert second.info["format"] == "oracle-general" and second.info["skipped_lines"] == 0


def test_integer_ids_equal_pandas_factorize_across_chunks_and_table_growth():
    values = np.random.default_rng(2).integers(0, 50_000, 120_000).astype(np.uint64) * np.uint64(2654435761)
    table = IntegerIds()
    ids = np.concatenate([table.intern(values[start : start + 9_999]) for start in range(0, len(values), 9_999)])
    codes, uniques = pd.factorize(values, sort=False)
    assert np.array_equal(ids, codes) and np.array_equal(table.keys, uniques)


def test_mapped_columns_are_memory_maps_and_small_traces_load_into_memory(tmp_path, monkeypatch):
    path = _written(tmp_path, _records())
    read_trace(path)
    mapped = read_trace(path)
    for column in COLUMNS:
        assert isinstance(getattr(mapped, column), np.memmap), column
        assert getattr(mapped, column).flags.writeable  # copy-on-write: the replay loops' usual array type
    monkeypatch.setattr(cache, "MAPPED_FROM", N_REQUESTS + 1)
    loaded = read_trace(path)
    assert not isinstance(loaded.ids, np.memmap) and loaded.sizes.dtype == np.int64


def test_ops_and_ttls_of_a_streamed_trace_are_holes_in_their_files(tmp_path):
    path = _written(tmp_path, _records())
    trace = read_trace(path)
    (entry,) = [folder for folder in (tmp_path / "cache").iterdir() if folder.name != "stat"]
    assert (entry / "ttls.npy").stat().st_blocks * 512 < trace.ttls.nbytes  # sparse: no disk for zeros
    assert not trace.has_writes and not trace.has_ttls and trace.has_sizes


@pytest.mark.parametrize("damage", ["ids.npy", "keys.npy", "entry.json"])
def test_damaged_streamed_entry_is_parsed_again(tmp_path, damage):
    records = _records()
    path = _written(tmp_path, records)
    read_trace(path)
    (entry,) = [folder for folder in (tmp_path / "cache").iterdir() if folder.name != "stat"]
    damaged = entry / damage
    damaged.write_bytes(damaged.read_bytes()[: len(damaged.read_bytes()) // 2])
    again = read_trace(path)
    assert "cached" not in again.info
    _same_columns(again, _in_memory(records))
    assert read_trace(path).info["cached"]


def test_backwards_timestamps_fall_back_to_the_in_memory_reader(tmp_path):
    records = _records()
    records["time"][11] = records["time"][10] - 1
    path = _written(tmp_path, records)
    with pytest.warns(UserWarning, match="sorted the requests"):
        trace = read_trace(path)
    assert np.all(np.diff(trace.timestamps) >= 0) and len(trace) == N_REQUESTS


@pytest.mark.parametrize("capacity", [40, "1MiB"])
def test_mapped_replay_equals_in_memory_replay(tmp_path, capacity):
    records = _records()
    path = _written(tmp_path, records)
    read_trace(path)
    mapped, expected = read_trace(path), _in_memory(records)
    got, want = replay(mapped, "lru", capacity), replay(expected, "lru", capacity)
    assert (got.misses, got.bytes_missed, got.evictions, got.used) == (
        want.misses, want.bytes_missed, want.evictions, want.used)  # fmt: skip
    assert np.array_equal(got.window_misses, want.window_misses)


def test_analyze_shards_and_sampled_curves_of_a_mapped_trace_equal_in_memory(tmp_path):
    records = _records()
    path = _written(tmp_path, records)
    read_trace(path)
    mapped, expected = read_trace(path), _in_memory(records)
    got, want = analyze(mapped), analyze(expected)
    assert got.summary.keys() == want.summary.keys()
    for key in got.summary.keys() - {"name"}:
        assert got.summary[key] == want.summary[key] or (got.summary[key] != got.summary[key]), key
    for name, table in want.tables.items():
        if name != "summary":
            pd.testing.assert_frame_equal(got.tables[name], table)
    for method, rate in [("shards", 0.3), ("mini", 0.3)]:
        curves = [miss_ratio_curves(trace, "lru", [20, 60], method, rate).table for trace in (mapped, expected)]
        pd.testing.assert_frame_equal(*curves)


def test_opt_on_a_mapped_trace_keeps_its_next_uses_in_a_file_and_equals_in_memory(tmp_path):
    records = _records()
    path = _written(tmp_path, records)
    read_trace(path)
    mapped, expected = read_trace(path), _in_memory(records)
    following = next_uses(mapped.ids, mapped.n_objects)
    assert isinstance(following, np.memmap)
    assert np.array_equal(following, next_uses(expected.ids, expected.n_objects))
    assert replay(mapped, "opt", 40).misses == replay(expected, "opt", 40).misses
