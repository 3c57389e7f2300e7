"""The memcached model: its slab arithmetic and LRUs by hand, and its figures against a live memcached 1.6.

The live checks replay each trace against a throwaway memcached as an application would (GET, SET on a
miss) and through the model, and compare the GET hit ratio (within 0.01) and the items resident at the
end (``stats`` curr_items, within 3 %). Measured (batch 64, 250k requests, 62.5k objects of 200-2000 B):
the hit ratios differ by at most 0.0021, the items not at all.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tuner
from tests.conftest import needs_jit
from tests.live import require_binary
from tuner.engine.replay import replay_with_state
from tuner.errors import CachetuneError
from tuner.live import servers
from tuner.live.calibrate_memcached import _class_table
from tuner.live.memcached_replay import replay_against_memcached
from tuner.policies.memcached import COLD, HOT, LRU_BITS
from tuner.policies.memcached_slabs import calibration, class_table
from tuner.trace import DELETE, GET, SET

OVERHEAD = calibration()["item_overhead_bytes"]
ONE_PAGE = 885  # items of 1000 bytes (1059 with the overhead: 1184-byte chunks) a 1 MiB page holds
SMALL = 50  # an item of 109 bytes: another class (120-byte chunks)


def _hits(keys, sizes, capacity="2MiB", ops=None, **params) -> list[bool]:
    trace = tuner.Trace.from_arrays(keys, sizes=sizes, ops=ops)
    result = tuner.replay(trace, "memcached", capacity, window_seconds=1.0, **params)
    return (result.window_misses == 0).tolist()


def test_the_class_table_is_the_one_the_server_printed():
    constants = calibration()
    chunk_sizes, per_page = class_table(constants["default_growth_factor"])
    assert chunk_sizes.tolist() == constants["chunk_sizes"]
    assert per_page.tolist() == constants["chunks_per_page"]
    assert constants["item_header_bytes"] + 8 + 1 + 2 == OVERHEAD  # header, CAS, the key's NUL, the value's CRLF


def test_another_growth_factor_gives_the_servers_table():
    require_binary("memcached")
    with servers.start_memcached(["-vv", "-f", "1.5"]) as server:
        printed = _class_table(server, deadline=time.monotonic() + 5)
    chunk_sizes, per_page = class_table(1.5)
    assert list(zip(chunk_sizes.tolist(), per_page.tolist(), strict=True)) == printed


def test_pages_run_out_and_a_class_evicts_its_own_items_while_another_has_free_chunks():
    # -m 2: two pages. 1770 items of one class fill them; a small item still gets its class's first page
    # (past -m); the next large item evicts the oldest large one, although the small class has 8737 free chunks.
    keys = [*range(2 * ONE_PAGE), "small", 2 * ONE_PAGE, "small", 0, 2, 1, 2]
    sizes = [1000] * (2 * ONE_PAGE) + [SMALL, 1000, SMALL, 1000, 1000, 1000, 1000]
    assert _hits(keys, sizes)[-6:] == [False, True, False, True, False, False]
    trace = tuner.Trace.from_arrays(keys, sizes=sizes)
    _, state, arrays = replay_with_state(trace, "memcached", "2MiB")
    assert state.pages_used == 3 == state.page_limit + 1
    small_class = int(np.searchsorted(arrays.chunk_sizes, SMALL + OVERHEAD))
    assert arrays.free[small_class] == arrays.per_page[small_class] - 1


def test_an_item_fetched_twice_moves_to_warm_instead_of_being_evicted():
    keys = [*range(2 * ONE_PAGE), 0, 0, 2 * ONE_PAGE, 0, 1, 2]
    sizes = [1000] * len(keys)
    # 0 is fetched twice (FETCHED, then ACTIVE: to WARM), so the newcomer evicts 1; 1's return evicts 2.
    assert _hits(keys, sizes)[-6:] == [True, True, False, True, False, False]
    once = [*range(2 * ONE_PAGE), 0, 2 * ONE_PAGE, 0]  # fetched once: still COLD's tail, evicted
    assert _hits(once, [1000] * len(once))[-3:] == [True, False, False]


def test_the_live_server_evicts_from_the_same_class_and_rescues_active_items():
    require_binary("memcached")
    from pymemcache.client.base import Client

    value, small = b"v" * (1000 - 5), b"s" * (SMALL - 5)  # keys of 5 bytes: k0000
    with servers.start_memcached(["-m", "2"]) as server:
        client = Client((servers.LOOPBACK, server.port), no_delay=True, timeout=5)
        client.set_many({f"k{n:04d}": value for n in range(2 * ONE_PAGE)}, noreply=False)
        client.set("small", small)
        client.get("k0000")
        client.get("k0000")
        time.sleep(0.2)  # the LRU maintainer moves the now active item to WARM (the model: at once)
        client.set(f"k{2 * ONE_PAGE:04d}", value)
        found = client.get_many(["small", "k0000", "k0001", "k0002"])
        slabs = client.stats("slabs")
        client.close()
    assert sorted(found) == ["k0000", "k0002", "small"]
    assert slabs[b"total_malloced"] == 3 * 2**20  # two pages within -m and the small class's first
    keys = [*range(2 * ONE_PAGE), "small", 0, 0, 2 * ONE_PAGE, "small", 0, 2, 1]
    sizes = [1000] * (2 * ONE_PAGE) + [SMALL, 1000, 1000, 1000, SMALL, 1000, 1000, 1000]
    assert _hits(keys, sizes)[-4:] == [True, True, True, False]


def test_items_over_item_size_max_are_refused_as_the_server_refuses_them():
    largest = 2**20 - OVERHEAD  # an item of exactly -I bytes is stored (a chunked item), one more byte is not
    trace = tuner.Trace.from_arrays(["a", "b", "a", "b"], sizes=[largest, largest + 1, largest, largest + 1])
    result = tuner.replay(trace, "memcached", "4MiB")
    assert (result.hits, result.rejected) == (1, 2)
    require_binary("memcached")
    from pymemcache.client.base import Client
    from pymemcache.exceptions import MemcacheServerError

    with servers.start_memcached(["-m", "4"]) as server:
        client = Client((servers.LOOPBACK, server.port), no_delay=True, timeout=5)
        assert client.set("a", b"v" * (largest - 1), noreply=False)  # key "a" is one of the size's bytes
        with pytest.raises(MemcacheServerError, match="too large"):
            client.set("b", b"v" * largest, noreply=False)
        assert client.get("a") is not None and client.get("b") is None
        client.close()


def test_a_set_to_a_cached_key_is_a_new_item_allocated_before_the_old_one_is_freed():
    # 0 is fetched twice (ACTIVE in COLD: to WARM), then SET again: a new item with no flags at HOT's head.
    # Its chunk is allocated while the old item still holds one, so with the pages spent it evicts COLD's
    # tail (1) first; the old chunk is then free, so the next newcomer evicts nothing.
    n = 2 * ONE_PAGE
    keys, ops = [*range(n), 0, 0, 0], [GET] * n + [GET, GET, SET]
    trace = tuner.Trace.from_arrays(keys, sizes=[1000] * len(keys), ops=ops)
    result, _, arrays = replay_with_state(trace, "memcached", "2MiB")
    assert arrays.flags[0] == HOT and arrays.tails[arrays.klass[0] * 3 + COLD] == 2
    assert result.evictions == 1 and arrays.free[arrays.klass[0]] == 1
    assert _hits([*keys, n, 2, 1], [1000] * (len(keys) + 3), ops=[*ops, GET, GET, GET])[-3:] == [False, True, False]


def _consistent(arrays, state, held):
    """Every cached object is in exactly one of its class's LRUs, each LRU's bytes are its members', and
    each class's used chunks are its items (none here is chunked)."""
    members = []
    for lru in range(len(arrays.heads)):
        items, at = [], arrays.tails[lru]
        while at >= 0:
            items.append(int(at))
            at = arrays.links[at, 0]
        assert all(arrays.klass[x] * 3 + (arrays.flags[x] & LRU_BITS) == lru for x in items)
        assert arrays.lru_bytes[lru] == sum(int(arrays.item_bytes[x]) for x in items)
        members += items
    assert sorted(members) == sorted(np.flatnonzero(held >= 0).tolist())
    used_chunks = arrays.pages * arrays.per_page - arrays.free
    assert used_chunks.tolist() == np.bincount(arrays.klass[members], minlength=len(arrays.free)).tolist()
    assert state.pages_used == arrays.pages.sum()
    assert state.pages_used <= state.page_limit + np.count_nonzero(arrays.pages)


@settings(max_examples=15, deadline=None)
@given(
    requests=st.lists(
        st.tuples(st.integers(0, 2_500), st.sampled_from([GET, GET, GET, SET, DELETE]), st.sampled_from([300, 1000])),
        min_size=200,
        max_size=2_500,
    ),
    ttl=st.sampled_from([None, 50.0]),
)
def test_the_lists_and_chunks_stay_consistent(requests, ttl):
    from tuner.capacity import parse_capacity
    from tuner.engine import kernel
    from tuner.policies import PolicyInput, get_policy

    keys = [key for key, _, _ in requests]
    ops = [op for _, op, _ in requests]
    sizes = [size + (key % 7) * 20 for key, _, size in requests]
    trace = tuner.Trace.from_arrays(keys, sizes=sizes, ops=ops)
    policy = get_policy("memcached")
    params = policy.resolve_params({})
    charged = policy.charge(trace, parse_capacity("2MiB"), params)
    n = trace.n_objects
    cache = kernel.Cache(np.full(n, -1, np.int32), np.zeros(kernel.N_TALLY, np.int64), None,
                         kernel.new_expiries(n, ttl is not None))  # fmt: skip
    requests_ = kernel.Requests(trace.ids, charged.sizes, trace.timestamps, np.array([len(trace)]), trace.ops,
                                trace.ttls if ttl is not None else None)  # fmt: skip
    run = kernel.Run(requests_, np.int64(charged.capacity), cache, ttl if ttl is None else float(ttl),
                     kernel.WRITE_THROUGH, 0.0, np.int64(np.iinfo(np.int64).max))  # fmt: skip
    given_input = PolicyInput(trace.ids, charged.sizes, trace.timestamps, n, charged.capacity, 0, True, trace.ops)
    state, arrays = policy.init(given_input, params)
    state, _, _, _ = policy.replay(run, state, arrays)
    _consistent(arrays, state, cache.held)
    assert cache.tally[kernel.USED] == cache.held[cache.held >= 0].sum()


@pytest.mark.parametrize(
    ("capacity", "params", "message"),
    [
        (1000, {}, "in bytes"),
        ("1MiB", {}, "over half of -m"),
        ("64MiB", {"growth_factor": 1.0}, "greater than 1"),
        ("64MiB", {"item_size_max": 700_000}, "multiple of slab_chunk_max"),
        ("64MiB", {"hot_lru_pct": 50, "warm_lru_pct": 40}, "cannot be more than 80"),
        ("64MiB", {"warm_lru_pct": 80}, "at most 79"),
        ("64MiB", {"hot_lru_pct": 0}, "at least 1"),
    ],
)
def test_settings_memcached_refuses_are_one_line_errors(capacity, params, message):
    trace = tuner.Trace.from_arrays([1, 2], sizes=[100, 100])
    with pytest.raises(CachetuneError, match=message):
        tuner.replay(trace, "memcached", capacity, **params)


def _sized(trace: tuner.Trace, seed: int = 0) -> tuner.Trace:
    """The trace with each object's size drawn from 200-2000 bytes (values of a few hundred bytes to 2 kB)."""
    sizes = np.random.default_rng(seed).integers(200, 2_000, trace.n_objects)[trace.ids]
    return tuner.Trace.from_arrays(trace.ids, trace.timestamps, sizes)


def _compare(trace: tuner.Trace, megabytes: int, args=(), **params) -> tuple[float, float, int, int]:
    """Hit ratios and resident items of the live server and of the model."""
    require_binary("memcached")
    with servers.start_memcached(["-m", str(megabytes), *args]) as server:
        live = replay_against_memcached(trace, server.url)
    model, _, arrays = replay_with_state(trace, "memcached", f"{megabytes}MiB", **params)
    model_items = int((arrays.pages * arrays.per_page - arrays.free).sum())
    return live.hit_ratio, model.hits / model.requests, live.curr_items, model_items


WORKLOADS = {
    "zipf-0.8": {"name": "zipf", "alpha": 0.8},
    "zipf-1.0": {"name": "zipf", "alpha": 1.0},
    "loop": {"name": "loop"},
}


@needs_jit
@pytest.mark.parametrize("megabytes", [8, 16, 32])
@pytest.mark.parametrize("workload", sorted(WORKLOADS))
def test_hit_ratio_and_items_match_a_live_memcached(workload, megabytes):
    options = dict(WORKLOADS[workload])
    trace = _sized(tuner.workloads.generate(options.pop("name"), requests=250_000, objects=62_500, seed=1, **options))
    live_hits, model_hits, live_items, model_items = _compare(trace, megabytes)
    assert live_items > 10_000  # the cache is full: 62,500 objects of 1.1 kB on average do not fit
    assert abs(model_hits - live_hits) <= 0.01
    assert abs(model_items - live_items) <= 0.03 * live_items


def test_a_small_replay_matches_with_other_lru_shares_and_factor():
    # Small enough to replay in pure Python: 30k requests at -m 2, -f 1.5, HOT 10 %, WARM 60 %.
    trace = _sized(tuner.workloads.generate("zipf", requests=30_000, objects=6_000, alpha=0.9, seed=4), seed=4)
    args = ("-f", "1.5", "-o", "hot_lru_pct=10,warm_lru_pct=60")
    live_hits, model_hits, live_items, model_items = _compare(
        trace, 2, args, growth_factor=1.5, hot_lru_pct=10, warm_lru_pct=60
    )
    assert live_items > 1_000
    assert abs(model_hits - live_hits) <= 0.01
    assert abs(model_items - live_items) <= 0.03 * live_items


def test_a_replay_with_sets_and_deletes_matches():
    rng = np.random.default_rng(9)
    base = tuner.workloads.generate("zipf", requests=60_000, objects=15_000, alpha=0.9, seed=9)
    ops = rng.choice([GET, SET, DELETE], len(base), p=[0.85, 0.1, 0.05]).astype(np.int8)
    sizes = rng.integers(200, 2_000, base.n_objects)[base.ids]
    trace = tuner.Trace.from_arrays(base.ids, base.timestamps, sizes, ops)
    live_hits, model_hits, live_items, model_items = _compare(trace, 4)
    assert live_items > 2_000
    assert abs(model_hits - live_hits) <= 0.01
    assert abs(model_items - live_items) <= 0.03 * live_items


def test_a_server_that_goes_away_is_one_line():
    require_binary("memcached")
    trace = tuner.Trace.from_arrays(np.arange(1_000) % 300, sizes=np.full(1_000, 500))
    with servers.start_memcached(["-m", "2"]) as server:
        url = server.url
    with pytest.raises(CachetuneError, match="went away or stopped answering"):
        replay_against_memcached(trace, url, timeout=1.0)


def test_the_replay_writes_only_its_own_keys_and_can_remove_them():
    require_binary("memcached")
    from pymemcache.client.base import Client

    trace = tuner.Trace.from_arrays(np.arange(600) % 200, sizes=np.full(600, 300))
    with servers.start_memcached(["-m", "2"]) as server:
        client = Client((servers.LOOPBACK, server.port), no_delay=True, timeout=5)
        client.set("users:1", b"theirs")
        replayed = replay_against_memcached(trace, server.url, prefix="mine:", remove_keys=True)
        assert client.get("users:1") == b"theirs"
        assert int(client.stats()[b"curr_items"]) == 1
        client.close()
    assert (replayed.gets, replayed.hits, replayed.curr_items) == (600, 400, 201)
