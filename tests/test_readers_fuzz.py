"""Arbitrary bytes into every reader: a Trace or a TraceError, never anything else.

A TraceWarning (e.g. timestamps going backwards, sorted) is a reader's way to say it read the file anyway.
"""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuner import read_trace
from tuner.errors import TraceError
from tuner.readers import FORMATS
from tuner.readers.base import TraceWarning
from tuner.trace import Trace

LOG_LIKE = st.lists(
    st.sampled_from([
        b'1.2.3.4 - - [10/Oct/2026:13:55:36 -0700] "GET /a HTTP/1.1" 200 5 "-" "u"',
        b'::1 - - [10/Oct/2026:13:55:36 +0000] "', b"[", b"]", b'"', b"\\", b" ", b"-", b"\n", b"\r", b"*", b",", b"\t",
        b"1 2 0 0", b"key,size", b"-3", b"\xe9", b"\0",
    ]),
    max_size=30,
).map(b"".join)  # fmt: skip
PAYLOADS = st.one_of(st.binary(max_size=400), LOG_LIKE)
pytestmark = pytest.mark.filterwarnings(f"ignore::{TraceWarning.__module__}.{TraceWarning.__name__}")


def _read(data: bytes, format_name: str, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz{suffix}"
        path.write_bytes(data)
        try:
            trace = read_trace(path, format_name, cache_parsed=False)
        except TraceError as error:
            assert str(error)
            return
        assert isinstance(trace, Trace) and len(trace) > 0
        assert trace.ids.min() >= 0 and trace.ids.max() < trace.n_objects


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=PAYLOADS, format_name=st.sampled_from(FORMATS), suffix=st.sampled_from(["", ".log", ".trace", ".bin"]))
def test_any_bytes_give_a_trace_or_a_trace_error(data, format_name, suffix):
    _read(data, format_name, suffix)


@settings(max_examples=30, deadline=None)
@given(data=PAYLOADS, format_name=st.sampled_from(FORMATS), cut=st.integers(0, 60))
def test_any_gzip_stream_cut_short_gives_a_trace_or_a_trace_error(data, format_name, cut):
    packed = gzip.compress(data)
    _read(packed[: max(0, len(packed) - cut)], format_name, ".gz")
