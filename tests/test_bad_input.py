"""Bad input through the CLI: one line on stderr naming the file and the reason, a non-zero exit, no traceback."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys

import numpy as np
import pytest

CLI = [sys.executable, "-c", "from tuner.cli import main; main()"]
RECORD = 24


def _run(tmp_path, *arguments):
    env = {**os.environ, "CACHETUNE_CACHE_DIR": str(tmp_path / "cache")}
    return subprocess.run([*CLI, *arguments], capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)


def _empty(path):
    path.write_bytes(b"")


def _random(path):
    path.write_bytes(np.random.default_rng(3).integers(0, 256, 5000, dtype=np.uint8).tobytes())


def _junk_log(path):
    path.write_text("this is not\nan access log\nat all\n")


def _truncated_gzip(path):
    data = gzip.compress(b"".join(b"%d\n" % i for i in range(100_000)))
    path.write_bytes(data[: len(data) // 2])


def _no_key_column(path):
    path.write_text("time,size\n1,100\n2,200\n")


def _negative_size(path):
    path.write_text("key,size\na,100\nb,-5\n")


def _partial_record(path):
    path.write_bytes(b"\x01" * (RECORD * 3 + 7))


def _blank_lines(path):
    path.write_text("\n*\n\n")


def _header_only(path):
    path.write_text("key,size\n")


def _post_only(path):
    line = '1.1.1.1 - - [10/Oct/2026:13:55:3%d +0000] "POST /p HTTP/1.1" 200 3 "-" "ua"\n'
    path.write_text(line % 6 + line % 7)


CASES = [
    ("empty.log", _empty, "the file is empty"),
    ("random.dat", _random, "binary data of unknown format"),
    ("junk.log", _junk_log, "line 1: not a log line"),
    ("keys.txt.gz", _truncated_gzip, "truncated gzip data"),
    ("nokey.csv", _no_key_column, "line 1: no key column"),
    ("negative.csv", _negative_size, "line 3: negative size"),
    ("partial.bin", _partial_record, "partial record at byte offset 72"),
    ("blank.txt", _blank_lines, "no requests in 3 lines: all blank or checkpoints"),
    ("header.csv", _header_only, "no requests in 1 line: only a header"),
    ("post_only.log", _post_only, "no requests in 2 lines: all filtered out (method not GET,HEAD: 2)"),
]


@pytest.mark.parametrize(("name", "write", "reason"), CASES, ids=[case[0] for case in CASES])
def test_bad_trace_gives_one_line_error(tmp_path, name, write, reason):
    _assert_one_line_error(tmp_path, "analyze", name, write, reason)


def test_bench_reports_bad_traces_the_same_way(tmp_path):
    _assert_one_line_error(tmp_path, "bench", "partial.bin", _partial_record, "partial record")


def _assert_one_line_error(tmp_path, command, name, write, reason):
    path = tmp_path / name
    write(path)
    done = _run(tmp_path, command, "--trace", str(path), "--no-report")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and name in lines[0] and reason in lines[0]
    assert done.stdout == ""


def test_missing_file_and_unknown_format(tmp_path):
    missing = _run(tmp_path, "analyze", "--trace", str(tmp_path / "nope.log"))
    assert missing.returncode != 0 and "no such file" in missing.stderr and "Traceback" not in missing.stderr
    path = tmp_path / "k.txt"
    path.write_text("1\n")
    unknown = _run(tmp_path, "analyze", "--trace", str(path), "--trace-format", "parquet")
    assert unknown.returncode != 0 and "unknown trace format 'parquet'" in unknown.stderr


def test_strict_turns_a_skipped_line_into_an_error(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("key,size\na,1\nb\n")
    lenient = _run(tmp_path, "analyze", "--trace", str(path), "--format", "json", "--no-report")
    assert lenient.returncode == 0 and "skipped 1 of 3 lines: 1 too few fields" in lenient.stderr
    strict = _run(tmp_path, "analyze", "--trace", str(path), "--strict", "--no-report")
    assert strict.returncode != 0 and "line 3: too few fields" in strict.stderr


def test_workload_and_trace_together_are_refused(tmp_path):
    path = tmp_path / "k.txt"
    path.write_text("1\n")
    done = _run(tmp_path, "bench", "--trace", str(path), "--workload", "zipf")
    assert done.returncode != 0 and "not both" in done.stderr
