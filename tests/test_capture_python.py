"""tuner.capture from Python: what the decorator and the proxy record, and that recording never hurts the caller."""

from __future__ import annotations

import csv
import functools
import io
import os
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest
import zstandard

import tuner
from tests.cli import cachetune
from tests.conftest import needs_jit
from tuner import capture
from tuner.capture.keys import hashed_id
from tuner.readers import read_trace
from tuner.trace import DELETE, GET, SET

SALT = "test salt"


def zipf_arguments(n: int, seed: int = 7) -> list[int]:
    return np.random.default_rng(seed).zipf(1.3, n).tolist()


def captured(path) -> tuner.Trace:
    return read_trace(path, cache_parsed=False)


def rows(path) -> list[dict]:
    """The capture file's CSV rows, decompressed with zstandard alone (the format is plain zstd CSV)."""
    with open(path, "rb") as handle:
        text = zstandard.ZstdDecompressor().stream_reader(handle, read_across_frames=True).read().decode()
    return list(csv.DictReader(io.StringIO(text)))


def lru_hits(trace: tuner.Trace, size: int) -> int:
    table = tuner.bench(trace, "lru", [str(size)]).table
    return int(table.loc[table.policy == "lru", "hits"].iloc[0])


@pytest.mark.parametrize("keep_keys", [False, True], ids=["hashed", "raw"])
def test_calls_above_lru_cache_replay_to_its_hits(tmp_path, keep_keys):
    """Stacked above lru_cache(maxsize=N), the trace replays through LRU at N objects to cache_info().hits."""
    path = tmp_path / "app.trace"

    @capture.calls(path, salt=SALT, keep_keys=keep_keys)
    @functools.lru_cache(maxsize=50)
    def square(x, scale=1):
        return x * x * scale

    arguments = zipf_arguments(3000)
    for k, x in enumerate(arguments):
        square(x) if k % 7 else square(x, scale=2)  # keyword calls are other keys, as lru_cache keys them
    square.recorder.close()
    trace = captured(path)
    assert len(trace) == len(arguments) and square.recorder.dropped == 0
    assert lru_hits(trace, 50) == square.cache_info().hits > 0
    assert trace.info["capture"]["hashed_keys"] is not keep_keys
    key = (arguments[1],)  # the second call has no keyword argument
    expected = repr(key).encode() if keep_keys else hashed_id(key, SALT.encode()).encode()
    assert trace.keys[trace.ids[1]] == expected


@needs_jit
def test_one_hundred_thousand_calls_bench_reports_exactly_the_cache_hits(tmp_path):
    """100,000 zipf calls through @capture.calls above @lru_cache(maxsize=100): cachetune bench --size 100 on the
    captured file reports exactly cache_info().hits."""
    path = tmp_path / "app.trace"

    @capture.calls(path)
    @functools.lru_cache(maxsize=100)
    def lookup(x):
        return str(x)

    for x in zipf_arguments(100_000, seed=11):
        lookup(x)
    lookup.recorder.close()
    assert lookup.recorder.dropped == 0
    run = cachetune("bench", "--trace", str(path), "--policies", "lru", "--size", "100", "--format", "csv",
                    "--no-report", "--out", str(tmp_path / "run"))  # fmt: skip
    assert run.returncode == 0, run.stderr
    [row] = [row for row in csv.DictReader(io.StringIO(run.stdout)) if row["policy"] == "lru"]
    assert int(row["hits"]) == lookup.cache_info().hits
    assert int(row["requests"]) == 100_000


def test_key_and_size_functions(tmp_path):
    path = tmp_path / "sized.trace"

    @capture.calls(path, key=lambda user, field: f"{user}/{field}", size=len, keep_keys=True)
    def profile(user, field):
        return "x" * (10 * user)

    for user, field in [(1, "name"), (2, "name"), (1, "name")]:
        profile(user, field)
    profile.recorder.close()
    trace = captured(path)
    assert [trace.keys[i] for i in trace.ids] == [b"1/name", b"2/name", b"1/name"]
    assert trace.sizes.tolist() == [10, 20, 10]
    assert trace.ops.tolist() == [GET] * 3


@pytest.mark.parametrize("keep_keys", [False, True], ids=["hashed", "raw"])
def test_wrap_records_gets_sets_deletes_and_passes_calls_through(tmp_path, keep_keys):
    """A dict and a cachetools cache behind the proxy: same answers and exceptions; each request recorded."""
    cachetools = pytest.importorskip("cachetools")
    path = tmp_path / "cache.trace"
    plain = capture.wrap({}, path, salt=SALT, keep_keys=keep_keys)
    plain["a"] = b"12345"
    assert plain.get("a") == b"12345" and plain.get("zz", 7) == 7
    with pytest.raises(KeyError):
        plain["missing"]
    assert plain.setdefault("b", "xyz") == "xyz"
    del plain["a"]
    assert "a" not in plain and len(plain) == 1
    lru = capture.wrap(cachetools.LRUCache(maxsize=2), path, salt=SALT, keep_keys=keep_keys)

    @cachetools.cached(lru)
    def double(x):
        return [x, x]

    assert double(3) == [3, 3] and double(3) == [3, 3]
    plain._recorder.close()
    trace = captured(path)
    keys = [b"a", b"a", b"zz", b"missing", b"b", b"b", b"a"]
    ops = [SET, GET, GET, GET, GET, SET, DELETE]
    sizes = [5, 1, 1, 1, 1, 3, 1]
    cachetools_key = cachetools.keys.hashkey(3)
    keys += [repr(cachetools_key).encode()] * 3
    ops += [GET, SET, GET]
    sizes += [1, sys.getsizeof([3, 3]), 1]
    expected = keys if keep_keys else [hashed_id(key, SALT.encode()).encode() for key in keys]
    assert [trace.keys[i] for i in trace.ids] == expected
    assert trace.ops.tolist() == ops
    assert trace.sizes.tolist() == sizes


def test_cachelib_timeouts_become_ttls(tmp_path):
    cachelib = pytest.importorskip("cachelib")
    path = tmp_path / "ttl.trace"
    cache = capture.wrap(cachelib.SimpleCache(default_timeout=300), path, keep_keys=True)
    cache.set("a", "v", timeout=60)
    cache.set("b", "v")  # the cache's default_timeout
    cache.set("c", "v", timeout=0)  # never expires
    assert cache.add("a", "other") is False  # not added: not a SET
    cache.set_many({"d": "vv", "e": "v"}, timeout=5)
    assert cache.get_many("a", "d") == ["v", "vv"]
    cache.delete_many("a", "b")
    cache._recorder.close()
    trace = captured(path)
    assert [trace.keys[i] for i in trace.ids] == [b"a", b"b", b"c", b"d", b"e", b"a", b"d", b"a", b"b"]
    assert trace.ops.tolist() == [SET] * 5 + [GET, GET, DELETE, DELETE]
    assert trace.ttls.tolist() == [60, 300, 0, 5, 5, 0, 0, 0, 0]


def test_flask_caching_app_traffic_is_captured_exactly(tmp_path):
    """A Flask app with Flask-Caching's SimpleCache, driven by its test client: the trace holds exactly the GETs,
    SETs and DELETEs its backend received, in order (a spy backend lists them independently)."""
    flask = pytest.importorskip("flask")
    flask_caching = pytest.importorskip("flask_caching")
    from cachelib import SimpleCache

    received: list[tuple[int, str]] = []

    class Spy(SimpleCache):
        def get(self, key):
            received.append((GET, key))
            return super().get(key)

        def set(self, key, value, timeout=None):
            received.append((SET, key))
            return super().set(key, value, timeout)

        def delete(self, key):
            received.append((DELETE, key))
            return super().delete(key)

        def get_many(self, *keys):
            received.extend((GET, key) for key in keys)
            return [super(Spy, self).get(key) for key in keys]

        def set_many(self, mapping, timeout=None):
            received.extend((SET, key) for key in mapping)
            return [key for key, value in mapping.items() if super(Spy, self).set(key, value, timeout)]

        def delete_many(self, *keys):
            received.extend((DELETE, key) for key in keys)
            return [key for key in keys if super(Spy, self).delete(key)]

    app = flask.Flask(__name__)
    cache = flask_caching.Cache(app, config={"CACHE_TYPE": "SimpleCache"})
    with app.app_context():
        app.extensions["cache"][cache] = Spy(default_timeout=300)
    path = tmp_path / "flask.trace"
    assert capture.wrap(cache, path, keep_keys=True) is cache

    @cache.memoize(timeout=60)
    def price(item):
        return f"{item}:{len(item) * 3}"

    @app.route("/item/<name>")
    @cache.cached(timeout=30)
    def item(name):
        return price(name)

    @app.route("/forget/<name>")
    def forget(name):
        cache.delete_memoized(price, name)
        cache.delete(f"view//item/{name}")
        return "ok"

    client = app.test_client()
    for url in ["/item/a", "/item/a", "/item/bb", "/forget/a", "/item/a", "/item/bb"]:
        assert client.get(url).status_code == 200
    with app.app_context():
        backend = app.extensions["cache"][cache]
        backend._recorder.close()
    assert len(received) > 10
    trace = captured(path)
    assert list(zip(trace.ops.tolist(), [trace.keys[i].decode() for i in trace.ids], strict=True)) == received
    reads = sum(op == GET for op, _ in received)
    assert tuner.bench(trace, "lru", ["2"]).table["requests"].iloc[0] == reads  # bench counts GETs


def test_a_full_buffer_drops_and_counts_and_analyze_shows_it(tmp_path):
    path = tmp_path / "small.trace"

    @capture.calls(path, buffer_size=100, interval=3600)  # the writer does not drain until asked
    def identity(x):
        return x

    assert [identity(x) for x in range(250)] == list(range(250))
    recorder = identity.recorder
    assert recorder.dropped == 150 and len(recorder.buffer) == 100
    recorder.close()
    trace = captured(path)
    assert len(trace) == 100 and trace.info["dropped_records"] == 150
    assert tuner.analyze(trace).summary["dropped_records"] == 150
    shown = cachetune("analyze", "--trace", str(path), "--no-report", "--out", str(tmp_path / "run"))
    assert shown.returncode == 0, shown.stderr
    assert "records dropped at capture" in shown.stdout and "150" in shown.stdout


def test_failures_never_reach_the_caller(tmp_path):
    """A key whose repr raises, a size function that raises, a folder that does not exist: calls still return."""

    class Opaque:
        def __repr__(self):
            raise RuntimeError("no repr")

    broken = tmp_path / "broken.trace"

    @capture.calls(broken, size=lambda result: 1 // 0)
    def sized(x):
        return x

    assert sized(1) == 1 and sized.recorder.dropped == 1
    sized.recorder.close()

    opaque_path = tmp_path / "opaque.trace"

    @capture.calls(opaque_path)
    def takes(x):
        return 5

    assert takes(Opaque()) == 5
    takes.recorder.close()
    assert len(captured(opaque_path)) == 1

    @capture.calls(tmp_path / "no" / "such" / "folder.trace")
    def nowhere(x):
        return x + 1

    assert [nowhere(x) for x in range(10)] == list(range(1, 11))
    nowhere.recorder.close()  # the writer failed quietly


def test_threads_record_at_once_without_loss(tmp_path):
    path = tmp_path / "threads.trace"

    @capture.calls(path, keep_keys=True)
    def work(thread, k):
        return k

    def run(thread):
        for k in range(5000):
            work(thread, k)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    work.recorder.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # times never go backwards, so nothing is reordered
        trace = captured(path)
    assert len(trace) == 20_000 and trace.n_objects == 20_000
    for n in range(4):  # each thread's calls in its own order
        mine = [trace.keys[i] for i in trace.ids if trace.keys[i].startswith(b"(%d," % n)]
        assert mine == [repr((n, k)).encode() for k in range(5000)]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_worker_writes_its_own_file(tmp_path):
    path = tmp_path / "app.trace"

    @capture.calls(path, keep_keys=True)
    def handle(x):
        return x

    handle("parent")
    handle.recorder.flush()
    handle("inherited")  # buffered when the worker forks: the parent's to write, not the worker's
    pid = os.fork()
    if pid == 0:  # the worker
        try:
            handle("child")
            capture.close_all()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    handle.recorder.close()
    assert [row["key"] for row in rows(path)] == ["('parent',)", "('inherited',)"]
    worker = tmp_path / f"app.{pid}.trace"
    assert list(captured(worker).keys) == [b"('child',)"]


def test_the_same_salt_gives_the_same_ids_across_processes(tmp_path):
    """Two processes, the salt from the environment: equal keys, equal ids; without a salt they differ."""
    script = ("import sys\nfrom tuner import capture\n"
              "f = capture.calls(sys.argv[1])(lambda x: x)\n"
              "[f(x) for x in ('alice@example.com', 'bob', 'alice@example.com')]\n")  # fmt: skip
    files = []
    for run, salt in enumerate(["shared", "shared", ""]):
        files.append(tmp_path / f"run{run}.trace")
        environment = {**os.environ, capture.SALT_VARIABLE: salt}
        subprocess.run([sys.executable, "-c", script, str(files[-1])], check=True, env=environment, timeout=120)
    first, second, unsalted = (captured(path) for path in files)
    assert first.ids.tolist() == [0, 1, 0]
    assert list(first.keys) == list(second.keys) == [hashed_id(("alice@example.com",), b"shared").encode(),
                                                     hashed_id(("bob",), b"shared").encode()]  # fmt: skip
    assert b"alice" not in b"".join(first.keys)
    assert set(unsalted.keys).isdisjoint(first.keys)
    assert first.info["capture"]["salt"] == "environment" and unsalted.info["capture"]["salt"] == "random"


def test_nothing_is_overwritten(tmp_path):
    path = tmp_path / "app.trace.zst"
    path.write_text("an earlier trace")
    record = capture.wrap({}, path, keep_keys=True)
    record["k"] = "v"
    record._recorder.close()
    assert path.read_text() == "an earlier trace"
    assert list(captured(tmp_path / f"app.{os.getpid()}.trace.zst").keys) == [b"k"]
