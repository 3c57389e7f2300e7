"""The ``twitter`` reader on a small zstd-compressed file written like Twitter's published traces."""

from __future__ import annotations

import numpy as np
import pytest
import zstandard

from tuner import read_trace
from tuner.errors import TraceError
from tuner.readers.detect import detect_format
from tuner.trace import DELETE, GET, SET

# (operation, the code it must give): every command in the published traces.
COMMANDS = [("get", GET), ("gets", GET), ("set", SET), ("add", SET), ("replace", SET), ("cas", SET),
            ("append", SET), ("prepend", SET), ("incr", SET), ("decr", SET), ("delete", DELETE)]  # fmt: skip
SKIPPED = {
    "not 7 comma-separated fields": 2,
    "time not a number": 1,
    "key or value size not a whole number": 1,
    "unknown operation": 2,
    "TTL not a number of seconds ≥ 0": 1,
}


def _requests() -> list[tuple[int, str, int, int, str, int]]:
    """(time, key, key size, value size, operation, TTL) of the good lines: each command three times."""
    rows = []
    for time, (operation, _) in enumerate(COMMANDS * 3):
        key = f"nz:u:{time % 7}"
        ttl = 0 if operation in ("get", "gets", "delete") else 60 * (1 + time % 4)
        rows.append((time, key, len(key), 100 + time, operation, ttl))
    return rows


def _file(tmp_path, rows, extra: bytes = b""):
    text = b"".join(b"%d,%s,%d,%d,17,%s,%d\n" % (t, k.encode(), ks, vs, op.encode(), ttl) for t, k, ks, vs, op, ttl
                    in rows)  # fmt: skip
    path = tmp_path / "cluster52.0.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(text + extra))
    return path


MALFORMED = (
    b"40,nz:u:1,6,10,17,get\n"  # a field short
    b"\n"  # blank: ignored, not skipped
    b"41,nz:u:1\n"
    b"soon,nz:u:1,6,10,17,get,0\n"
    b"42,nz:u:1,6,-10,17,get,0\n"
    b"43,nz:u:1,6,10,17,flush_all,0\n"
    b"44,nz:u:1,6,10,17,,0\n"
    b"45,nz:u:1,6,10,17,set,-60\n"
)


def test_every_command_time_size_and_ttl(tmp_path):
    rows = _requests()
    trace = read_trace(_file(tmp_path, rows, MALFORMED), "twitter")
    assert trace.info["format"] == "twitter" and len(trace) == len(rows)
    assert trace.keys[trace.ids].tolist() == [key.encode() for _, key, *_ in rows]
    assert trace.ids.tolist() == [time % 7 for time, *_ in rows]  # dense, in order of first appearance
    assert trace.timestamps.tolist() == [float(time) for time, *_ in rows]
    assert trace.sizes.tolist() == [key_size + value_size for _, _, key_size, value_size, _, _ in rows]
    assert trace.ops.tolist() == [code for _, code in COMMANDS * 3]
    assert trace.ttls.dtype == np.float32 and trace.ttls.tolist() == [float(ttl) for *_, ttl in rows]
    assert trace.has_writes and trace.has_ttls
    assert trace.info["skipped"] == SKIPPED and trace.info["skipped_lines"] == 8 - 1
    assert trace.info["lines"] == len(rows) + 8


def test_strict_names_the_first_malformed_line_and_how_many(tmp_path):
    path = _file(tmp_path, _requests(), MALFORMED)
    first = len(COMMANDS) * 3 + 1
    with pytest.raises(TraceError) as raised:
        read_trace(path, "twitter", strict=True)
    message = str(raised.value)
    assert "\n" not in message and message.startswith(f"{path}: line {first:,}: not 7 comma-separated fields")
    assert f"7 of {first + 7} lines would be skipped (--strict allows none)" in message


def test_a_key_with_commas_stays_one_key(tmp_path):
    path = tmp_path / "t.0"
    path.write_bytes(b"0,a,b,3,5,1,get,0\n1,a,b,3,6,1,set,9\n2,c,1,1,1,delete,0\n")
    trace = read_trace(path, "twitter")
    assert trace.keys.tolist() == [b"a,b", b"c"] and trace.ids.tolist() == [0, 0, 1]
    assert trace.sizes.tolist() == [8, 9, 2] and trace.ttls.tolist() == [0.0, 9.0, 0.0]


def test_the_format_is_asked_for_never_detected(tmp_path):
    """A Twitter line is also a csv row; auto-detection never says twitter, --trace-format does."""
    path = _file(tmp_path, _requests())
    assert detect_format(path) == "csv"
    assert read_trace(path).info["format"] == "csv"
    assert read_trace(path, "twitter").info["format"] == "twitter"


def test_a_file_of_nothing_but_malformed_lines_says_why(tmp_path):
    path = tmp_path / "t.0"
    path.write_bytes(b"key,op\na,get\n")
    with pytest.raises(TraceError, match=r"no requests in 2 lines; first: line 1: not 7 comma-separated fields"):
        read_trace(path, "twitter")
