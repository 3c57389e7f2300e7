"""Access logs: a generated 200,000-request nginx log, escapes, IPv6, Latin-1 paths, time zones, options."""

from __future__ import annotations

import datetime as dt
import gzip
import shutil

import pytest

from tests.access_logs import write_combined_log
from tests.conftest import needs_jit
from tuner import analyze, read_trace
from tuner.errors import TraceError


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CACHETUNE_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def generated_log(tmp_path_factory):
    folder = tmp_path_factory.mktemp("logs")
    path = folder / "access.log"
    expected = write_combined_log(path, 200_000)
    with open(path, "rb") as plain, gzip.open(folder / "access.log.gz", "wb") as packed:
        shutil.copyfileobj(plain, packed)
    return path, folder / "access.log.gz", expected


@needs_jit
def test_generated_log_reads_every_request_and_counts_junk(generated_log):
    path, _, expected = generated_log
    trace = read_trace(path)
    assert trace.info["format"] == "nginx"
    assert len(trace) == expected["requests"] == 200_000
    assert trace.n_objects == expected["unique"]
    assert trace.info["skipped_lines"] == expected["junk"]
    assert trace.span_seconds == expected["span_seconds"]


@needs_jit
def test_gzip_copy_reads_the_same(generated_log):
    path, packed, _ = generated_log
    plain, compressed = read_trace(path), read_trace(packed)
    assert len(compressed) == len(plain) and compressed.ids.tolist() == plain.ids.tolist()
    assert compressed.keys.tolist() == plain.keys.tolist()


@needs_jit
def test_analyze_reports_the_span_in_hours(generated_log):
    path, _, expected = generated_log
    summary = analyze(read_trace(path)).summary
    assert summary["span_hours"] == pytest.approx(expected["span_seconds"] / 3600)
    assert summary["requests"] == 200_000 and summary["skipped_lines"] == expected["junk"]


def _write(path, lines):
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


LINE = b'%s - - [10/Oct/2026:13:55:36 -0700] "%s %s HTTP/1.1" %d %s "-" "%s"'


def test_fields_escapes_ipv6_and_time_zone(tmp_path):
    path = _write(tmp_path / "a.log", [
        LINE % (b"2001:db8::1", b"GET", b"/a?x=1", 200, b"2326", b'Mozilla \\"q\\" 5.0'),
        LINE % (b"10.0.0.1", b"HEAD", b"/a?x=1", 304, b"-", b"agent with \\x22 escape"),
        LINE % (b"10.0.0.2", b"GET", b"/b", 200, b"10", b'unescaped " quote'),
    ])  # fmt: skip
    trace = read_trace(path)
    assert trace.keys.tolist() == [b"/a?x=1", b"/b"] and trace.ids.tolist() == [0, 0, 1]
    utc = dt.datetime(2026, 10, 10, 20, 55, 36, tzinfo=dt.UTC).timestamp()
    assert trace.timestamps.tolist() == [utc] * 3
    assert trace.sizes.tolist() == [2326, 2326, 10]  # the largest size of each object
    assert read_trace(path, object_size="each").sizes.tolist() == [2326, 0, 10]


def test_latin1_paths_stay_distinct_raw_bytes(tmp_path):
    path = _write(tmp_path / "latin.log", [
        LINE % (b"1.1.1.1", b"GET", b"/caf\xe9", 200, b"1", b"a"),
        LINE % (b"1.1.1.1", b"GET", b"/caf\xe8", 200, b"1", b"a"),
        LINE % (b"1.1.1.1", b"GET", b"/caf\xe9", 200, b"1", b"a"),
        LINE % (b"1.1.1.1", b"GET", "/café".encode(), 200, b"1", b"a"),
    ])  # fmt: skip
    trace = read_trace(path)
    assert trace.keys.tolist() == [b"/caf\xe9", b"/caf\xe8", "/café".encode()]
    assert trace.ids.tolist() == [0, 1, 0, 2]


def test_methods_statuses_query_and_host_options(tmp_path):
    path = _write(tmp_path / "m.log", [
        LINE % (b"h", b"GET", b"/a?1", 200, b"1", b"x"),
        LINE % (b"h", b"POST", b"/a?2", 200, b"1", b"x"),
        LINE % (b"h", b"GET", b"/a?3", 404, b"1", b"x"),
    ])  # fmt: skip
    assert len(read_trace(path)) == 2
    assert read_trace(path).info["filtered"] == {"method": 1, "status": 0}
    assert len(read_trace(path, methods="all")) == 3
    assert len(read_trace(path, methods="post")) == 1  # methods match in any case
    assert len(read_trace(path, statuses="2xx")) == 1
    assert read_trace(path, drop_query=True).keys.tolist() == [b"/a"]
    with pytest.raises(TraceError, match="host field"):
        read_trace(path, key_host=True)


def test_custom_nginx_format_with_host_and_request_time(tmp_path):
    form = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" ' \
           '"$http_user_agent" $host $request_time'  # fmt: skip
    path = _write(tmp_path / "c.log", [
        b'::1 - - [10/Oct/2026:13:55:36 +0000] "GET /x HTTP/1.1" 200 5 "-" "ua" a.example 0.004',
        b'::1 - - [10/Oct/2026:13:55:37 +0000] "GET /x HTTP/1.1" 200 5 "-" "ua" b.example 0.010',
    ])  # fmt: skip
    assert read_trace(path, log_format=form).n_objects == 1
    assert read_trace(path, log_format=form, key_host=True).keys.tolist() == [b"a.example/x", b"b.example/x"]


def test_format_without_bytes_field_has_no_sizes(tmp_path):
    """No bytes field means no sizes (all 1, like a text trace), not sizes of 0 that make a 0-byte working set."""
    path = _write(tmp_path / "nobytes.log", [
        b'1.1.1.1 [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1"',
        b'1.1.1.1 [10/Oct/2026:13:55:37 +0000] "GET /b HTTP/1.1"',
        b'1.1.1.1 [10/Oct/2026:13:55:38 +0000] "GET /a HTTP/1.1"',
    ])  # fmt: skip
    for object_size in ("largest", "each"):
        trace = read_trace(path, log_format='$remote_addr [$time_local] "$request"', object_size=object_size)
        assert trace.sizes.tolist() == [1, 1, 1] and not trace.has_sizes
        assert trace.working_set_bytes == trace.n_objects == 2


def test_apache_format_string(tmp_path):
    path = _write(tmp_path / "x.log", [b'1.2.3.4 - - [10/Oct/2026:13:55:36 +0200] "GET /y HTTP/1.0" 200 7 "-" "ua"'])
    trace = read_trace(path, "apache", log_format='%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-agent}i\\"')
    assert trace.keys.tolist() == [b"/y"] and trace.sizes.tolist() == [7]


def test_common_lines_in_a_combined_log_and_skip_summary(tmp_path):
    path = _write(tmp_path / "mix.log", [
        b'1.1.1.1 - - [10/Oct/2026:13:55:36 +0000] "GET /c HTTP/1.1" 200 3',
        b"not a log line",
        b'1.1.1.1 - - [10/Oct/2026:13:55:37 +0000] "-" 400 0 "-" "-"',
        LINE % (b"1.1.1.1", b"GET", b"/d", 200, b"1", b"a"),
    ])  # fmt: skip
    trace = read_trace(path)
    assert trace.keys.tolist() == [b"/c", b"/d"]
    assert trace.info["skipped_summary"] == "skipped 2 of 4 lines: 1 not a log line, 1 without method and path"
    with pytest.raises(TraceError, match=r"mix\.log: line 2: not a log line"):
        read_trace(path, strict=True)


def test_a_log_of_only_junk_is_an_error(tmp_path):
    path = _write(tmp_path / "junk.log", [b"hello", b"world and more"])
    with pytest.raises(TraceError, match=r"junk\.log: no requests in 2 lines; first: line 1: not a log line"):
        read_trace(path)


def test_a_log_whose_lines_are_all_filtered_out_says_by_what(tmp_path):
    path = _write(tmp_path / "filtered.log", [
        LINE % (b"h", b"POST", b"/a", 200, b"1", b"x"),
        LINE % (b"h", b"GET", b"/b", 404, b"1", b"x"),
        LINE % (b"h", b"PUT", b"/c", 404, b"1", b"x"),
    ])  # fmt: skip
    with pytest.raises(TraceError, match=r"filtered\.log: no requests in 3 lines: all filtered out "
                                         r"\(method not GET,HEAD: 2, status not 2xx: 1\)$"):  # fmt: skip
        read_trace(path, statuses="2xx")
    with pytest.raises(TraceError, match=r"no requests in 4 lines; first: line 4: not a log line; "
                                         r"3 filtered out \(method not GET: 2, status not 2xx: 1\)$"):  # fmt: skip
        read_trace(_write(path, [*path.read_bytes().splitlines(), b"junk"]), methods="GET", statuses="2xx")
    assert len(read_trace(path, methods="all")) == 3


def test_line_ends_found_by_the_field_scan(tmp_path):
    """CRLF ends, a backslash or an open quote at the very end of a line, and a last line without a line feed."""
    path = tmp_path / "ends.log"
    path.write_bytes(
        b'1.2.3.4 - - [10/Oct/2026:13:00:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua"\r\n'
        b'1.2.3.4 - - [10/Oct/2026:13:00:01 +0000] "GET /b HTTP/1.1" 200 7\r\n'
        b'1.2.3.4 - - [10/Oct/2026:13:00:02 +0000] "GET /c HTTP/1.1" 200 9 "-" "ua\\"\r\n'
        b'1.2.3.4 - - [10/Oct/2026:13:00:03 +0000] "GET /d HTTP/1.1" 200 3 "-" "ua\\\r\n'
        b'1.2.3.4 - - [10/Oct/2026:13:00:04 +0000] "GET /e\rx HTTP/1.1" 200 4 "-" "u\ra"\n'
        b'1.2.3.4 - - [10/Oct/2026:13:00:05 +0000] "GET /f HTTP/1.1" 200 6'
    )
    trace = read_trace(path, object_size="each")
    assert trace.keys.tolist() == [b"/a", b"/b", b"/e\rx", b"/f"]
    assert trace.sizes.tolist() == [5, 7, 4, 6]
    assert trace.info["skipped"] == {"not a log line": 2}
