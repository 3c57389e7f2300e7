"""Each reader on small hand-written files, compression by content, detection, the parsed-trace cache."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import re
import warnings

import numpy as np
import pytest
import zstandard

from tuner import read_trace
from tuner.errors import TraceError
from tuner.readers import READERS, TraceWarning
from tuner.readers.detect import detect_format
from tuner.readers.oracle_general import RECORD
from tuner.trace import DELETE, GET, SET


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CACHETUNE_CACHE_DIR", str(tmp_path / "cache"))


def test_text_skips_checkpoints_and_blank_lines_and_accepts_crlf(tmp_path):
    path = tmp_path / "t.trace"
    path.write_bytes(b"1\r\n2\r\n*\r\n\r\n 1 \r\n3")
    trace = read_trace(path)
    assert trace.info["format"] == "text"
    assert trace.keys.tolist() == [b"1", b"2", b"3"]
    assert trace.ids.tolist() == [0, 1, 0, 2]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("blank.txt", b"\n \r\n*\n", "no requests in 3 lines: all blank or checkpoints"),
        ("one.txt", b"*\n", "no requests in 1 line: blank or checkpoints"),
        ("header.csv", b"key,size\r\n", "no requests in 1 line: only a header"),
        ("rows.csv", b"key,size\na\n", "no requests in 2 lines; first: line 2: too few fields"),
        ("blank.csv", b"\n \r\n\t\n", "no requests in 3 lines: all blank"),
        ("header_blank.csv", b"key\n\n \r\n", "no requests in 3 lines: 1 header; 2 blank"),
        (
            "short_blank.csv",
            b"key,size\n\na\n",
            "no requests in 3 lines; first: line 3: too few fields; 1 blank",
        ),
    ],
)
def test_lines_without_requests_say_why(tmp_path, name, content, reason):
    """Lines that are not requests but not skipped either (blank, checkpoints, a header) explain an empty trace."""
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(TraceError, match=f"^{re.escape(f'{path}: {reason}')}$"):
        read_trace(path)


def test_arc_lines_expand_into_their_blocks(tmp_path):
    path = tmp_path / "x.lis"
    path.write_text("10 3 0 0\n5 1 0 1\n11 2 0 2\n")
    trace = read_trace(path)
    assert trace.keys[trace.ids].tolist() == [10, 11, 12, 5, 11, 12]


@pytest.mark.parametrize(("name", "dtype"), [("u32be", ">u4"), ("i32be", ">i4"), ("i64be", ">i8")])
def test_packed_integers(tmp_path, name, dtype):
    keys = np.array([5, 7, 5, 9], dtype)
    path = tmp_path / "k.trace"
    path.write_bytes(keys.tobytes())
    trace = read_trace(path, name)
    assert trace.keys[trace.ids].tolist() == [5, 7, 5, 9]
    path.write_bytes(keys.tobytes()[:-1])
    with pytest.raises(TraceError, match="partial key at byte offset"):
        read_trace(path, name)


def test_packed_width_detected_from_the_bytes(tmp_path):
    rng = np.random.default_rng(1)
    small = tmp_path / "small.trace"
    small.write_bytes(rng.integers(0, 5000, 4000).astype(">i8").tobytes())
    hashed = tmp_path / "hashed.trace"
    hashed.write_bytes(rng.choice(rng.integers(-(2**63), 2**63 - 1, 300), 4000).astype(">i8").tobytes())
    narrow = tmp_path / "narrow.trace"
    narrow.write_bytes(rng.integers(0, 5000, 8000).astype(">u4").tobytes())
    assert (detect_format(small), detect_format(hashed), detect_format(narrow)) == ("i64be", "i64be", "u32be")


def test_oracle_general_records_and_partial_record(tmp_path):
    record = np.dtype([("t", "<u4"), ("id", "<u8"), ("sz", "<u4"), ("nxt", "<i8")])
    rows = np.array([(1, 42, 100, 2), (2, 43, 50, -1), (3, 42, 120, -1)], record)
    path = tmp_path / "x.oracleGeneral.bin"
    path.write_bytes(rows.tobytes())
    trace = read_trace(path)
    assert trace.keys[trace.ids].tolist() == [42, 43, 42]
    assert trace.sizes.tolist() == [100, 50, 120] and trace.timestamps.tolist() == [1, 2, 3]
    path.write_bytes(rows.tobytes() + b"\0" * 10)
    with pytest.raises(TraceError, match="partial record at byte offset 72"):
        read_trace(path)


def test_csv_header_columns_by_name_and_number(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('timestamp,key,size,op\n1.5,a,10,get\n2,"b,c",20,set\n3,a,30,delete\n')
    trace = read_trace(path)
    assert trace.keys.tolist() == [b"a", b"b,c"]
    assert trace.timestamps.tolist() == [1.5, 2.0, 3.0] and trace.sizes.tolist() == [10, 20, 30]
    assert trace.ops.tolist() == [0, 1, 2]
    by_number = read_trace(path, key_col="2", size_col="3", time_col="timestamp")
    assert by_number.sizes.tolist() == [10, 20, 30]


def test_headerless_tsv_keys_on_first_column(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("x\t1\ny\t2\nx\t3\n")
    trace = read_trace(path)
    assert trace.info["format"] == "tsv" and trace.keys.tolist() == [b"x", b"y"]


@pytest.mark.parametrize("header", [b"", b"key\n"], ids=["no header", "header"])
def test_blank_lines_of_a_one_column_csv_are_ignored_as_in_text(tmp_path, header):
    """A blank line was a request for the empty key b"" (one column means no 'too few fields')."""
    lines = b"\n\nfoo\n \r\nbar\n\t\nfoo\n\n"
    (tmp_path / "k.csv").write_bytes(header + lines)
    (tmp_path / "k.txt").write_bytes(lines)
    csv, text = read_trace(tmp_path / "k.csv"), read_trace(tmp_path / "k.txt")
    assert len(csv.ids) == len(text.ids) == 3
    assert csv.keys[csv.ids].tolist() == text.keys[text.ids].tolist() == [b"foo", b"bar", b"foo"]
    assert csv.info["lines"] == len(header.splitlines()) + 8 and csv.info["skipped_lines"] == 0


def test_blank_lines_are_not_skipped_rows_nor_a_header(tmp_path):
    """Blank lines are ignored, so --strict allows them; a leading one is not taken for a header."""
    path = tmp_path / "t.csv"
    path.write_bytes(b"key,size\n\na,1\r\n\r\nb,2\n")
    trace = read_trace(path, strict=True)
    assert trace.keys[trace.ids].tolist() == [b"a", b"b"] and trace.sizes.tolist() == [1, 2]
    leading = tmp_path / "leading.csv"
    leading.write_bytes(b"\n7\n8\n7\n")
    trace = read_trace(leading)
    assert trace.keys[trace.ids].tolist() == [b"7", b"8", b"7"]
    tab = tmp_path / "tab.tsv"  # a delimiter makes fields: not a blank line
    tab.write_bytes(b"x\t1\n\t\ny\t2\n")
    trace = read_trace(tab)
    assert trace.keys[trace.ids].tolist() == [b"x", b"", b"y"]


def test_csv_errors_name_file_and_line(tmp_path):
    no_key = tmp_path / "nokey.csv"
    no_key.write_text("time,size\n1,2\n")
    with pytest.raises(TraceError, match=r"nokey\.csv: line 1: no key column"):
        read_trace(no_key)
    negative = tmp_path / "neg.csv"
    negative.write_text("key,size\na,1\nb,-3\n")
    with pytest.raises(TraceError, match=r"neg\.csv: line 3: negative size"):
        read_trace(negative)
    short = tmp_path / "short.csv"
    short.write_text("key,size\na,1\nb\n")
    assert read_trace(short).info["skipped"] == {"too few fields": 1}
    with pytest.raises(TraceError, match="line 3: too few fields"):
        read_trace(short, strict=True)


def test_csv_operations_in_any_case_and_memcached_words(tmp_path):
    words = {GET: ["get", "GETS", "Get"], SET: ["set", "ADD", "replace", "Cas", "append", "prepend", "incr", "DECR"],
             DELETE: ["delete", "DEL"]}  # fmt: skip
    rows = [(word, code) for code, names in words.items() for word in names]
    path = tmp_path / "t.csv"
    path.write_text("key,op\n" + "".join(f"k{i},{word}\n" for i, (word, _) in enumerate(rows)) + "x,flush\ny,\n")
    trace = read_trace(path)
    assert trace.ops.tolist() == [code for _, code in rows]
    assert trace.info["skipped"] == {"unknown operation": 2}
    assert trace.info["skipped_summary"] == f"skipped 2 of {len(rows) + 3} lines: 2 unknown operation"
    with pytest.raises(TraceError, match=rf"line {len(rows) + 2}: unknown operation; 2 of {len(rows) + 3} lines "
                                         r"would be skipped \(--strict allows none\)"):  # fmt: skip
        read_trace(path, strict=True)


def test_csv_ttl_column_by_name_or_number_bad_values_skipped(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("key,op,ttl\na,get,0\nb,set,30\nc,set,\nd,set,-5\ne,set,soon\nf,add,2.5\n")
    trace = read_trace(path)
    assert trace.keys[trace.ids].tolist() == [b"a", b"b", b"c", b"f"]
    assert trace.ttls.dtype == np.float32 and trace.ttls.tolist() == [0.0, 30.0, 0.0, 2.5]  # empty: no TTL
    assert trace.info["skipped"] == {"TTL not a number of seconds ≥ 0": 2}
    assert "2 TTL not a number of seconds ≥ 0" in trace.info["skipped_summary"]
    headerless = tmp_path / "h.csv"
    headerless.write_text("a,10\nb,0\n")
    assert read_trace(headerless).ttls.tolist() == [0.0, 0.0]  # no TTL column: none
    assert read_trace(headerless, ttl_col="2").ttls.tolist() == [10.0, 0.0]
    with pytest.raises(TraceError, match=r"line 5: TTL not a number of seconds ≥ 0"):
        read_trace(path, strict=True)
    with pytest.raises(TraceError, match=r"--ttl-col 'expiry' is not a column of the header"):
        read_trace(path, ttl_col="expiry")


def test_ttl_column_is_part_of_the_parsed_trace_cache_key(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,10\nb,0\n")
    assert read_trace(path).ttls.tolist() == [0.0, 0.0]
    with_ttls = read_trace(path, ttl_col="2")
    assert "cached" not in with_ttls.info and with_ttls.ttls.tolist() == [10.0, 0.0]
    again = read_trace(path, ttl_col="2")
    assert again.info["cached"] and again.ttls.tolist() == [10.0, 0.0]


@pytest.mark.parametrize(
    "compress",
    [gzip.compress, bz2.compress, lzma.compress, zstandard.ZstdCompressor().compress],
    ids=["gzip", "bz2", "xz", "zstd"],  # stable ids: parallel workers must collect the same tests
)
def test_compression_is_recognised_by_content_not_name(tmp_path, compress):
    path = tmp_path / "keys.txt"  # no compression suffix on purpose
    path.write_bytes(compress(b"1\n2\n1\n"))
    assert read_trace(path).ids.tolist() == [0, 1, 0]


def test_truncated_zstd_is_an_error_not_a_shorter_trace(tmp_path):
    data = zstandard.ZstdCompressor().compress(b"".join(b"%d\n" % i for i in range(200_000)))
    path = tmp_path / "keys.txt.zst"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(TraceError, match="truncated"):
        read_trace(path)


def test_unsorted_timestamps_are_sorted_with_a_warning_unless_keep_order(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("time,key\n1,a\n3,b\n2,c\n4,a\n")
    with pytest.warns(TraceWarning, match="sorted"):
        trace = read_trace(path)
    assert trace.keys[trace.ids].tolist() == [b"a", b"c", b"b", b"a"]
    assert trace.ids.tolist() == [0, 1, 2, 0]
    with pytest.warns(TraceWarning, match="kept file order"):
        kept = read_trace(path, keep_order=True)
    assert kept.keys[kept.ids].tolist() == [b"a", b"b", b"c", b"a"]
    assert kept.timestamps.tolist() == [1, 3, 3, 4]


def test_parsed_trace_cache_is_keyed_by_content_and_options(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("key,size\na,1\nb,2\n")
    first = read_trace(path)
    second = read_trace(path)
    assert "cached" not in first.info and second.info["cached"]
    assert second.keys.tolist() == first.keys.tolist() and second.sizes.tolist() == [1, 2]
    assert "cached" not in read_trace(path, time_col="size").info  # other options, other entry
    assert "cached" not in read_trace(path, cache_parsed=False).info
    path.write_text("key,size\na,1\nc,2\n")
    assert read_trace(path).keys.tolist() == [b"a", b"c"]


def _truncate(entry):
    column = entry / "ids.npy"
    column.write_bytes(column.read_bytes()[:100])


def _rewrite(entry, name, text):
    (entry / name).write_text(text)


def _described(entry, **changes):
    described = json.loads((entry / "entry.json").read_text())
    (entry / "entry.json").write_text(json.dumps({**described, **changes}))


DAMAGES = {
    "truncated": _truncate,
    "garbage": lambda entry: _rewrite(entry, "timestamps.npy", "not an npy"),
    "missing column": lambda entry: (entry / "sizes.npy").unlink(),
    "missing keys": lambda entry: (entry / "key_offsets.npy").unlink(),
    "bad info": lambda entry: _rewrite(entry, "entry.json", "{not json"),
    "info not a dict": lambda entry: _described(entry, info=[1]),
    "short column": lambda entry: np.save(entry / "sizes.npy", np.ones(1, np.uint32)),
    "short keys": lambda entry: np.save(entry / "key_offsets.npy", np.zeros(2, np.int64)),
}


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_damaged_cache_entry_is_a_miss_and_parsed_again(tmp_path, damage):
    path = tmp_path / "t.csv"
    path.write_text("key,size\na,1\nb,2\n")
    read_trace(path)
    (entry,) = [folder for folder in (tmp_path / "cache").iterdir() if folder.name != "stat"]
    damage(entry)
    again = read_trace(path)
    assert "cached" not in again.info and again.keys.tolist() == [b"a", b"b"] and again.sizes.tolist() == [1, 2]
    assert read_trace(path).info["cached"]  # the entry was written anew


def test_cached_trace_repeats_its_warnings(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("time,key\n2,a\n1,b\n")
    with pytest.warns(TraceWarning):
        read_trace(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert read_trace(path).info["cached"]
    assert any(issubclass(w.category, TraceWarning) for w in caught)


def test_option_of_another_format_is_refused(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("1\n")
    with pytest.raises(TraceError, match="--key-col does not apply to the text format"):
        read_trace(path, key_col="1")


_LOG_LINE = b'1.2.3.4 - - [10/Oct/2026:13:55:%02d +0000] "%s /%d HTTP/1.1" 200 5 "-" "ua"\n'
_LOG = b"".join(_LOG_LINE % (i, method, i) for i, method in enumerate([b"GET", b"PUT", b"DELETE", b"post", b"HEAD"]))
_APACHE_COMBINED = '%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-agent}i\\"'
# One small file per registered format: (file name, content, reader options, the operations it must give).
OPS_FIXTURES = {
    "nginx": ("x.log", _LOG, {"methods": "all"}, [GET, SET, DELETE, SET, GET]),
    "apache": ("x.log", _LOG, {"methods": "all", "log_format": _APACHE_COMBINED}, [GET, SET, DELETE, SET, GET]),
    "csv": ("t.csv", b"key,op\na,get\nb,SET\na, delete\n", {}, [GET, SET, DELETE]),
    "tsv": ("t.tsv", b"a\t1\nb\t2\n", {}, [GET, GET]),  # no operation column: every request a GET
    "text": ("t.txt", b"a\nb\na\n", {}, [GET] * 3),
    "oracle-general": ("t.bin", np.array([(1, 42, 100, -1), (2, 43, 50, -1)], RECORD).tobytes(), {}, [GET] * 2),
    "arc": ("t.lis", b"10 2 0 0\n5 1 0 1\n", {}, [GET] * 3),
    "twitter": ("c.0", b"0,a,1,5,3,gets,0\n1,b,1,5,3,cas,60\n2,a,1,5,3,delete,0\n", {}, [GET, SET, DELETE]),
    "u32be": ("k.trace", np.array([5, 7, 5], ">u4").tobytes(), {}, [GET] * 3),
    "i32be": ("k.trace", np.array([5, -7, 5], ">i4").tobytes(), {}, [GET] * 3),
    "i64be": ("k.trace", np.array([5, 7, 5, 9], ">i8").tobytes(), {}, [GET] * 4),
    "capture": (
        "c.trace",
        b"time,key,size,op,ttl\n1.0,a,1,get,\n2.0,a,5,set,60\n3.0,a,1,delete,\n",
        {},
        [GET, SET, DELETE],
    ),
    "redis-monitor": (
        "m.log",
        b'OK\n1.0 [0 c:1] "GET" "a"\n2.0 [0 c:1] "SET" "a" "v"\n3.0 [0 c:1] "DEL" "a"\n',
        {},
        [GET, SET, DELETE],
    ),
}


@pytest.mark.parametrize("name", READERS)
def test_every_reader_gives_one_operation_per_request(tmp_path, name):
    """``Trace.ops`` is read, cached and kept by every format: its own operations, else GET for every request."""
    assert name in OPS_FIXTURES, f"give the {name} format a small file in OPS_FIXTURES"
    file_name, content, options, expected = OPS_FIXTURES[name]
    path = tmp_path / file_name
    path.write_bytes(content)
    parsed, cached = (read_trace(path, name, **options) for _ in range(2))
    assert cached.info.get("cached") and not parsed.info.get("cached")
    for trace in (parsed, cached):
        assert trace.ops.dtype == np.int8 and len(trace.ops) == len(trace)
        assert set(trace.ops.tolist()) <= {GET, SET, DELETE}
        assert trace.ops.tolist() == expected


def test_access_logs_keep_only_get_and_head_by_default_so_every_operation_is_a_get(tmp_path):
    path = tmp_path / "x.log"
    path.write_bytes(_LOG)
    trace = read_trace(path)
    assert trace.keys.tolist() == [b"/0", b"/4"] and trace.ops.tolist() == [GET, GET]
