"""Capturing a live Redis with MONITOR, and reading what ``redis-cli monitor`` saves."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from tests.cli import assert_one_line_error, cachetune
from tests.live import require_binary
from tuner.capture.keys import hashed_id
from tuner.errors import TraceError
from tuner.live import servers
from tuner.readers import read_trace
from tuner.readers.detect import detect_format
from tuner.readers.redis_monitor import MonitorTranslator, parse_line
from tuner.trace import DELETE, GET, SET

SALT = "redis test salt"

# The client's commands, and the requests each must give: (op, key, size, ttl).
SEQUENCE = [
    (("SET", "user:1", "hello", "EX", "60"), [(SET, b"user:1", 5, 60.0)]),
    (("GET", "user:1"), [(GET, b"user:1", 5, 0.0)]),
    (("MGET", "user:1", "user:2"), [(GET, b"user:1", 5, 0.0), (GET, b"user:2", 1, 0.0)]),
    (("SETEX", "s", "30", "abc"), [(SET, b"s", 3, 30.0)]),
    (("PSETEX", "p", "1500", "abcd"), [(SET, b"p", 4, 1.5)]),
    (("MSET", "m1", "1", "m2", "22"), [(SET, b"m1", 1, 0.0), (SET, b"m2", 2, 0.0)]),
    (("INCR", "m1"), [(SET, b"m1", 1, 0.0)]),
    (("APPEND", "m2", "333"), [(SET, b"m2", 5, 0.0)]),
    (("EXPIRE", "m2", "90"), [(SET, b"m2", 5, 90.0)]),
    (("HSET", "h", "f", "v"), []),
    (("DEL", "user:1", "m1"), [(DELETE, b"user:1", 1, 0.0), (DELETE, b"m1", 1, 0.0)]),
    (("GET", "s"), [(GET, b"s", 3, 0.0)]),
    (("GETDEL", "p"), [(DELETE, b"p", 1, 0.0)]),
    (("SET", 'k,"q"\n', b"\x00\xff"), [(SET, b'k,"q"\n', 2, 0.0)]),
    (("UNLINK", "m2"), [(DELETE, b"m2", 1, 0.0)]),
]
EXPECTED = [request for _, requests in SEQUENCE for request in requests]


def _monitors(client) -> int:
    return sum(entry.get("cmd") == "monitor" for entry in client.client_list())


def _state(client) -> dict:
    """Everything a capture could disturb: the keys and values, their TTLs, the configuration."""
    data = {}
    for key in client.keys("*"):
        kind = client.type(key)
        value = client.get(key) if kind == b"string" else client.hgetall(key)
        data[key] = (kind, value, client.ttl(key) > 0)
    return {"data": data, "config": client.config_get("*")}


@pytest.mark.parametrize("keep_keys", [False, True], ids=["hashed", "raw"])
def test_capture_records_the_commands_and_leaves_the_server_as_it_was(tmp_path, keep_keys):
    """A client sends a known sequence while cachetune capture and redis-cli monitor both watch: the trace holds
    it (operations, key ids, sizes, TTLs, order), the saved MONITOR log reads to the same trace, and the server
    ends as the client's commands alone leave it."""
    require_binary("redis-server")
    require_binary("redis-cli")
    import redis

    with servers.start_redis() as server:
        client = redis.Redis(port=server.port)
        client.set("before", "untouched")
        client.hset("config-like", mapping={"a": "1"})
        config_before = client.config_get("*")
        output, log = tmp_path / "trace.csv.zst", tmp_path / "monitor.log"
        with log.open("wb") as saved:
            watcher = subprocess.Popen(["redis-cli", "-p", str(server.port), "monitor"], stdout=saved)
        flags = ["--keep-keys"] if keep_keys else []
        command = [sys.executable, "-m", "tuner", "capture", server.url, "--duration", "60",
                   "--max-requests", str(len(EXPECTED)), "--salt", SALT, "-o", str(output), *flags]  # fmt: skip
        capture = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 120
            while _monitors(client) < 2 and time.monotonic() < deadline and capture.poll() is None:
                time.sleep(0.05)
            assert _monitors(client) == 2
            for command, _ in SEQUENCE:
                client.execute_command(*command)
            _, stderr = capture.communicate(timeout=60)
            time.sleep(0.3)  # redis-cli prints what it has been sent
        finally:
            capture.kill() if capture.poll() is None else None
            watcher.terminate()
            watcher.wait(timeout=10)
        assert capture.returncode == 0, stderr
        assert "MONITOR" in stderr and "stopped by max_requests" in stderr
        while _monitors(client) and time.monotonic() < deadline:  # the capture's connection is gone
            time.sleep(0.05)
        assert _monitors(client) == 0
        after = _state(client)
        assert client.config_get("*") == config_before
        assert after["data"] == {b"before": (b"string", b"untouched", False), b"config-like": (b"hash", {b"a": b"1"},
                                 False), b"s": (b"string", b"abc", True), b"h": (b"hash", {b"f": b"v"}, False),
                                 b'k,"q"\n': (b"string", b"\x00\xff", False)}  # fmt: skip
        client.close()

    trace = read_trace(output, cache_parsed=False)
    raw_keys = [key for _, key, _, _ in EXPECTED]
    keys = raw_keys if keep_keys else [hashed_id(key, SALT.encode()).encode() for key in raw_keys]
    assert [trace.keys[i] for i in trace.ids] == keys
    assert trace.ops.tolist() == [op for op, _, _, _ in EXPECTED]
    assert trace.sizes.tolist() == [size for _, _, size, _ in EXPECTED]
    assert trace.ttls.tolist() == [ttl for _, _, _, ttl in EXPECTED]
    assert trace.info["capture"]["other_commands"] == {"HSET": 1}
    assert trace.info["capture"]["hashed_keys"] is not keep_keys

    saved = read_trace(log, cache_parsed=False)  # redis-cli's log: the same requests, and raw keys
    assert detect_format(log) == "redis-monitor"
    assert [saved.keys[i] for i in saved.ids] == raw_keys
    for column in ("ids", "ops", "sizes", "ttls"):
        assert getattr(saved, column).tolist() == getattr(trace, column).tolist(), column
    assert np.allclose(saved.timestamps, trace.timestamps, rtol=0, atol=2e-6)  # written with 6 decimals


def test_probe_sizes_asks_the_server_about_keys_it_has_not_seen_set(tmp_path):
    require_binary("redis-server")
    import redis

    from tuner.live.redis_capture import capture_redis

    with servers.start_redis() as server:
        client = redis.Redis(port=server.port)
        client.set("old", "x" * 40)
        client.hset("hash", "f", "v")
        done = []

        def traffic(requests, seconds):
            if not done:
                client.get("old")
                with pytest.raises(redis.ResponseError):
                    client.get("hash")  # the application's GET of a hash fails, but Redis saw it
                client.get("absent")
                done.append(True)

        result = capture_redis(server.url, tmp_path / "t.csv.zst", duration=30, max_requests=3, probe_sizes=True,
                               keep_keys=True, progress=traffic)  # fmt: skip
        assert client.keys("*") and client.get("old") == b"x" * 40
        client.close()
    trace = read_trace(result.path, cache_parsed=False)
    assert [trace.keys[i] for i in trace.ids] == [b"old", b"hash", b"absent"]
    assert trace.sizes.tolist() == [40, 1, 1]  # a hash has no STRLEN, an absent key no size
    assert result.probed == 3 and result.unknown_sizes == 2
    assert "STRLEN" not in trace.info["capture"]["other_commands"]  # the probe's own commands are not traffic


def test_capture_refuses_an_existing_file_and_an_unreachable_server(tmp_path):
    existing = tmp_path / "t.csv.zst"
    existing.write_text("keep me")
    port = servers.free_port()
    assert_one_line_error(cachetune("capture", f"redis://127.0.0.1:{port}", "-o", str(existing)), "never overwrites")
    assert existing.read_text() == "keep me"
    assert_one_line_error(cachetune("capture", f"redis://127.0.0.1:{port}", "-o", str(tmp_path / "new.csv.zst"),
                                    "--duration", "1"), "cannot reach Redis")  # fmt: skip
    assert_one_line_error(cachetune("capture", "http://nowhere", "-o", str(tmp_path / "x.zst")), "Redis URL")


MONITOR_LOG = b"""OK
1700000000.000001 [0 127.0.0.1:50000] "SET" "a \\"quoted\\" key" "\\x00\\x01\\\\v\\n" "PX" "2500"
1700000000.000002 [0 [::1]:50001] "get" "a \\"quoted\\" key"
1700000000.000003 [3 lua] "SET" "a \\"quoted\\" key" "longer value" "KEEPTTL"
1700000000.000004 [3 unix:/tmp/redis.sock] "GET" "a \\"quoted\\" key"
1700000000.000005 [0 127.0.0.1:50000] "SET" "a \\"quoted\\" key" "v" "EXAT" "1700000100"
1700000000.000006 [0 127.0.0.1:50000] "PING"
this is not a monitor line
1700000000.000007 [0 127.0.0.1:50000] "SETRANGE" "a \\"quoted\\" key" "10" "xy"
1700000000.000008 [0 127.0.0.1:50000] "PEXPIREAT" "a \\"quoted\\" key" "1700000050000"
1700000000.000009 [0 127.0.0.1:50000] "MSETNX" "odd"
"""


def test_the_monitor_reader_unescapes_and_translates(tmp_path):
    path = tmp_path / "saved.log"
    path.write_bytes(MONITOR_LOG)
    assert detect_format(path) == "redis-monitor"
    trace = read_trace(path, cache_parsed=False)
    key = b'a "quoted" key'
    assert [trace.keys[i] for i in trace.ids] == [key, key, b"db3:" + key, b"db3:" + key, key, key, key]
    assert trace.ops.tolist() == [SET, GET, SET, GET, SET, SET, SET]
    assert trace.sizes.tolist() == [5, 5, 12, 12, 1, 12, 12]
    assert trace.ttls.tolist() == pytest.approx([2.5, 0, 0, 0, 100, 100, 50])
    assert trace.info["other_commands"] == {"PING": 1, "MSETNX": 1}
    assert trace.info["skipped"] == {"not a MONITOR line": 1}
    assert parse_line(b'1.5 [0 c] "SET" "\\x41\\t\\a\\b\\r"') == (1.5, 0, b"c", [b"SET", b"A\t\a\b\r"])
    with pytest.raises(TraceError, match="line 8"):
        read_trace(path, strict=True, cache_parsed=False)


def test_an_ignored_client_and_the_translator_state():
    translator = MonitorTranslator(ignore_client=b"127.0.0.1:9")
    assert translator.translate(b'1 [0 127.0.0.1:9] "GET" "k"') == []
    assert translator.translate(b'1 [0 127.0.0.1:8] "GET" "k"') == [(1.0, GET, b"k", 1, 0.0)]
    assert translator.translate(b"garbage") is None
    assert translator.unknown_sizes == 1
