"""Checks every per-policy test file runs the same way: hit/miss strings, hit-for-hit comparisons
with a plain-Python reference model (and the request path those models share), hypothesis inputs,
and exact miss counts on the rows of expected.csv."""

from __future__ import annotations

import io
import lzma
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pytest
from hypothesis import strategies as st

import tuner
from tests.conftest import SHARED_TRACES, expected_rows, load_oracle_trace, load_text_trace, shared_trace_path
from tuner.policies import POLICIES

SIZED = "bytes (variable obj size)"
# The row cases need the csv itself: a ../shared/traces folder without it (a partial copy) would
# make expected_rows skip during collection, an error rather than a skipped case.
EXPECTED_CSV = SHARED_TRACES / "expected.csv"
# One-key-per-line traces: the rows most policy files pin (their loaders came first).


def hit_miss_string(keys: Sequence, policy: str, capacity: int | str, sizes=None, **options) -> str:
    """'H' or 'M' per request of ``keys`` (a string is one key a character).

    Requests are one second apart, so each one-second window holds one request. ``options``
    go to ``tuner.replay``: ``seed`` and the policy's parameters.
    """
    trace = tuner.Trace.from_arrays(list(keys), sizes=sizes)
    result = tuner.replay(trace, policy, capacity, window_seconds=1.0, **options)
    return "".join("M" if missed else "H" for missed in result.window_misses)


def assert_hits_match_reference(
    policy: str,
    reference: Callable[..., list[bool]],
    keys: list[int],
    capacity: int,
    object_sizes: list[int] | None = None,
    **params,
) -> None:
    """Each request hits in ``policy`` exactly when it hits in ``reference(keys, sizes, capacity, **params)``.

    Without ``object_sizes`` every object is one unit and ``capacity`` counts objects; with
    them (one size per key value) ``capacity`` is in bytes, and the cache never holds more.
    """
    if object_sizes is None:
        trace, spec, sizes = tuner.Trace.from_arrays(keys), capacity, [1] * len(keys)
    else:
        sized = np.array(object_sizes)[keys]
        trace, spec, sizes = tuner.Trace.from_arrays(keys, sizes=sized), f"{capacity}B", sized.tolist()
    result = tuner.replay(trace, policy, spec, window_seconds=1.0, **params)
    assert (result.window_misses == 0).tolist() == reference(keys, sizes, capacity, **params)
    if object_sizes is not None:
        assert result.used <= capacity


class ReferenceCache:
    """A plain-Python cache for ``assert_hits_match_reference``: the request path every compiled
    policy shares (tuner/engine/kernel.py) written once, the policy's order kept by a subclass.

    A hit calls ``on_hit``; a miss on an object that fits calls ``evict`` (which unlinks one
    resident and returns it) until the object fits, then ``on_insert``; an object larger than
    the whole cache is not stored. ``now`` is the request's time, or its index without times.
    """

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.held: dict = {}  # resident key -> its bytes
        self.used = 0

    def on_hit(self, key, now) -> None:
        pass

    def evict(self, now):
        raise NotImplementedError

    def on_insert(self, key, now) -> None:
        pass

    def hits(self, keys: Sequence, sizes: Sequence[int], times: Sequence[float] | None = None) -> list[bool]:
        """Whether each request hits."""
        hits = []
        for key, size, now in zip(keys, sizes, range(len(keys)) if times is None else times, strict=True):
            if key in self.held:
                self.on_hit(key, now)
                hits.append(True)
                continue
            hits.append(False)
            if size > self.capacity:
                continue
            while self.used + size > self.capacity:
                self.used -= self.held.pop(self.evict(now))
            self.held[key] = size
            self.used += size
            self.on_insert(key, now)
        return hits


def expected_cases(objects: str | None = None, sized: str | None = None) -> list:
    """expected.csv rows as test parameters: ``objects`` (its name in the csv) at object
    capacities on every trace, then ``sized`` at byte capacities.

    Without ../shared/traces/expected.csv this is one ``None`` case that ``assert_expected_misses`` skips.
    """
    if not EXPECTED_CSV.exists():
        return [pytest.param(None, id="shared-traces-missing")]
    rows = expected_rows(objects) if objects else []
    rows += expected_rows(sized, SIZED) if sized else []
    ids = [f"{row['trace_file']}-{row['cache_size']}{'' if row['size_unit'] == 'objects' else 'B'}" for row in rows]
    repeated = Counter(ids)
    return [
        # Two sources publishing the same trace and size (LFU: test_LFU, test_LFUCpp) are told apart.
        pytest.param(row, id=f"{case}-{row['published'].split()[-1]}" if repeated[case] > 1 else case)
        for row, case in zip(rows, ids, strict=True)
    ]


def assert_expected_misses(row: dict | None, policy: str, **params) -> None:
    """The row's trace has the row's request count, and ``policy`` misses exactly its expected count."""
    if row is None:
        pytest.skip("../shared/traces not present")
    trace = load_row_trace(row["trace_file"])
    assert len(trace) == int(row["n_req"])
    capacity = int(row["cache_size"]) if row["size_unit"] == "objects" else f"{row['cache_size']}B"
    assert tuner.replay(trace, policy, capacity, **params).misses == int(row["expected_misses"])


def _load_block_ranges(relative: str) -> tuner.Trace:
    """ARC's ``.lis.zst`` traces: a line ``start count _ _`` stands for blocks start .. start+count-1."""
    zstandard = pytest.importorskip("zstandard")
    with shared_trace_path(relative).open("rb") as handle:
        text = zstandard.ZstdDecompressor().stream_reader(handle).read()
    lines = pd.read_csv(io.BytesIO(text), sep=" ", header=None, usecols=[0, 1], dtype=np.int64)
    starts, counts = lines[0].to_numpy(), lines[1].to_numpy()
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return tuner.Trace.from_arrays(np.repeat(starts, counts) + offsets, name=relative)


def _load_packed_keys(relative: str) -> tuner.Trace:
    """Caffeine's Scarab trace: packed big-endian int64 keys, xz-compressed."""
    with lzma.open(shared_trace_path(relative)) as handle:
        return tuner.Trace.from_arrays(np.frombuffer(handle.read(), ">i8").astype(np.int64), name=relative)


# Parsed here, not by tuner.readers, so that a reader's fault cannot pass for a policy's.
_LOADERS: dict[str, Callable[[str], tuner.Trace]] = {
    ".trace.gz": load_text_trace,
    ".txt": load_text_trace,
    ".oracleGeneral.bin": load_oracle_trace,
    ".lis.zst": _load_block_ranges,
    "scarab-recs.trace.xz": _load_packed_keys,
}
_LOADED: dict[str, tuner.Trace] = {}


def load_row_trace(relative: str) -> tuner.Trace:
    """Any trace expected.csv names, parsed once per session."""
    if relative not in _LOADED:
        loader = next(load for suffix, load in _LOADERS.items() if relative.endswith(suffix))
        _LOADED[relative] = loader(relative)
    return _LOADED[relative]


def key_lists(distinct: int, longest: int) -> st.SearchStrategy[list[int]]:
    """Hypothesis request keys 0 .. distinct-1: few values, so small caches both hit and evict.

    At least a quarter of ``longest`` requests: shorter lists (hypothesis' habit) mostly fit
    in the cache, and a policy then agrees with its reference model without evicting.
    """
    return st.lists(st.integers(0, distinct - 1), min_size=max(1, longest // 4), max_size=longest)


def sizes_per_key(smallest: int, distinct: int = 16) -> st.SearchStrategy[list[int]]:
    """Hypothesis byte sizes up to 40, one per key value (``object_sizes`` of ``assert_hits_match_reference``)."""
    return st.lists(st.integers(smallest, 40), min_size=distinct, max_size=distinct)


# What the tests over every registered policy must know of the models of real caches. cachetools-ttl
# models TTLCache, whose one ttl is the replay's cache timeout (a replay without one is refused): these
# tests give it one longer than any of their traces. functools.lru_cache counts cached calls and has
# no writes or timeouts: a byte capacity, a trace with writes or a TTL is refused.
# Policies any capacity suits, which the every-policy suites run: the textbook ones and the models of
# Python's caches (maxsize counts objects, or bytes through getsizeof). A model of a server (memcached,
# Redis) takes only the memory its server could start with and is checked against the server itself.
ANY_CAPACITY = sorted(name for name, policy in POLICIES.items() if policy.target in (None, "cachetools", "functools"))
TIMEOUT_NEEDED = {"cachetools-ttl": 1e9}
CALLS_ONLY = {"functools-lru"}


def replay_options(name: str) -> dict:
    """The options ``tuner.replay`` needs for policy ``name`` beyond its defaults."""
    return {"ttl": TIMEOUT_NEEDED[name]} if name in TIMEOUT_NEEDED else {}
