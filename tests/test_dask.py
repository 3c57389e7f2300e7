"""Runs on a Dask cluster: a scheduler and two worker processes on loopback replay a bench grid and sharded fleets,
and every figure but the time taken equals the same run's in this process."""

import json
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from distributed import Client

import tuner
from tests.cli import assert_one_line_error, cachetune
from tuner.errors import CachetuneError
from tuner.live.servers import free_port
from tuner.shards import shard_bench, shard_replay

CHECKOUT = os.path.dirname(os.path.dirname(tuner.__file__))
START_TIMEOUT = 120.0  # seconds for the scheduler and the workers to come up on a busy machine
SMALL = ["-w", "zipf", "--requests", "4000", "--objects", "400", "--size", "2%", "--size", "10%", "--no-report"]


def _start(module: str, *args: str, folder, log) -> subprocess.Popen:
    """``python -m module args`` with this checkout first on its path, so workers import the ``tuner`` under
    test, and its own files in ``folder``; the rest of the environment (``NUMBA_CACHE_DIR`` among it, set by
    ``tuner.numba_cache``) is this process's."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [CHECKOUT, os.environ.get("PYTHONPATH")])),
           "DASK_TEMPORARY_DIRECTORY": str(folder)}  # fmt: skip
    return subprocess.Popen([sys.executable, "-m", module, *args], env=env, stdout=log, stderr=subprocess.STDOUT)


def _address_in(scheduler_file, scheduler: subprocess.Popen) -> str:
    """The address the scheduler writes to its ``--scheduler-file`` once it listens (read whole: the file
    may be seen half written)."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and scheduler.poll() is None:
        try:
            return json.loads(scheduler_file.read_text())["address"]
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            time.sleep(0.1)
    raise AssertionError(f"the Dask scheduler did not start (exit {scheduler.poll()}); see {scheduler_file.parent}")


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """The address of a Dask scheduler with two worker processes (one thread each, no nanny: each is the
    process started here), all on loopback; every process is stopped when the module's tests end, even on
    a failure."""
    folder = tmp_path_factory.mktemp("dask-cluster")
    scheduler_file = folder / "scheduler.json"
    processes = []
    with open(folder / "cluster.log", "wb") as log:
        try:
            processes.append(_start("distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                                    "--no-dashboard", "--scheduler-file", str(scheduler_file), folder=folder,
                                    log=log))  # fmt: skip
            address = _address_in(scheduler_file, processes[0])
            for worker in range(2):
                processes.append(_start("distributed.cli.dask_worker", address, "--host", "127.0.0.1", "--nthreads",
                                        "1", "--no-nanny", "--no-dashboard", "--name", f"worker-{worker}",
                                        folder=folder, log=log))  # fmt: skip
            with Client(address, timeout=START_TIMEOUT) as client:
                client.wait_for_workers(2, timeout=START_TIMEOUT)
            yield address
        finally:  # workers first, one at a time: a worker stopping as the scheduler stops can hang
            for process in reversed(processes):
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _keyed_trace() -> tuner.Trace:
    """String keys (pickled beside the mapped columns), some sharing a Redis Cluster hash tag, over 3 hours."""
    rng = np.random.default_rng(5)
    names = np.array([f"{{user{k % 30}}}:item:{k}" if k % 3 == 0 else f"object:{k}" for k in range(500)], object)
    chosen = np.minimum(rng.zipf(1.2, 6000) - 1, len(names) - 1)
    return tuner.Trace.from_arrays(names[chosen], np.arange(6000) * 2.0, name="keyed")


def _assert_same_table(local: pd.DataFrame, remote: pd.DataFrame) -> None:
    """The same rows in the same order with the same figures, to the last bit; only the time taken differs."""
    assert list(remote.columns) == list(local.columns)
    pd.testing.assert_frame_equal(remote.drop(columns="seconds", errors="ignore"),
                                  local.drop(columns="seconds", errors="ignore"), check_exact=True)  # fmt: skip


def _numba_cache_dir() -> str:
    import numba

    return numba.config.CACHE_DIR


def test_a_bench_grid_on_a_dask_scheduler_equals_the_local_run(scheduler, tmp_path):
    trace = tuner.generate("zipf", requests=20_000, objects=2_000, alpha=0.9, seed=4)
    options = {"seeds": 2, "seed": 7}
    local = tuner.bench(trace, "lru,fifo,random", ["1%", "10%"], **options)
    progress = []
    remote = tuner.bench(trace, "lru,fifo,random", ["1%", "10%"], **options, dask=scheduler, scratch=tmp_path,
                         on_progress=lambda done, total: progress.append((done, total)))  # fmt: skip
    _assert_same_table(local.table, remote.table)
    _assert_same_table(local.timeline, remote.timeline)
    assert remote.table["seeds"].tolist() == local.table["seeds"].tolist() and 2 in remote.table["seeds"].tolist()
    # lru and fifo once and random twice at each of 2 sizes, and the floor (OPT) at each: 10 replays.
    assert progress == [(done, 10) for done in range(1, 11)]
    assert list(tmp_path.iterdir()) == []  # the run's columns are gone from the scratch folder
    with Client(scheduler) as client:  # the workers load the kernels this process compiled
        assert set(client.run(_numba_cache_dir).values()) == {_numba_cache_dir()}


def test_sharded_fleets_on_a_dask_scheduler_equal_the_local_run(scheduler, tmp_path):
    trace = _keyed_trace()
    for hash_name in ("redis-cluster", "ketama"):
        local = shard_bench(trace, "lru,random", ["4%", "20%"], shards=3, hash=hash_name, seed=11)
        remote = shard_bench(trace, "lru,random", ["4%", "20%"], shards=3, hash=hash_name, seed=11, dask=scheduler,
                             scratch=tmp_path)  # fmt: skip
        _assert_same_table(local.table, remote.table)
        _assert_same_table(local.shards, remote.shards)
        assert (remote.shards["requests"] > 0).sum() == len(remote.shards)  # every shard had requests to replay
    local_fleet = shard_replay(trace, "fifo", 40, shards=2, hash="rendezvous")
    remote_fleet = shard_replay(trace, "fifo", 40, shards=2, hash="rendezvous", dask=scheduler, scratch=tmp_path)
    _assert_same_table(local_fleet.table, remote_fleet.table)
    assert remote_fleet.totals == local_fleet.totals
    assert list(tmp_path.iterdir()) == []


def test_the_cli_runs_bench_and_fleets_on_a_dask_scheduler(scheduler, tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    runs = {
        "grid": [*SMALL, "--policies", "lru,random", "--seeds", "2"],
        "fleet": [*SMALL, "--policies", "lru,fifo", "--shards", "2", "--shard-hash", "modulo"],
    }
    for name, args in runs.items():
        local = cachetune("bench", *args, "--out", str(tmp_path / f"{name}-local"))
        # A relative scratch folder: the workers, elsewhere, are given it as an absolute path.
        remote = cachetune("bench", *args, "--dask", scheduler, "--scratch", "scratch", "--out",
                           str(tmp_path / f"{name}-dask"), cwd=tmp_path)  # fmt: skip
        assert local.returncode == 0, local.stderr
        assert remote.returncode == 0, remote.stderr
        for table in ("results.csv", *(("shards.csv",) if name == "fleet" else ())):
            _assert_same_table(pd.read_csv(tmp_path / f"{name}-local" / table),
                               pd.read_csv(tmp_path / f"{name}-dask" / table))  # fmt: skip
    assert list(scratch.iterdir()) == []


def test_the_cli_starts_and_closes_a_local_cluster_of_worker_processes(tmp_path, monkeypatch):
    args = [*SMALL, "--policies", "lru,random", "--seeds", "2"]
    local = cachetune("bench", *args, "--out", str(tmp_path / "local"))
    system_temp = tmp_path / "tmp"
    system_temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(system_temp))  # the default scratch folder, and the cluster's own files
    remote = cachetune("bench", *args, "--dask", "local:2", "--out", str(tmp_path / "dask"))
    assert local.returncode == 0, local.stderr
    assert remote.returncode == 0, remote.stderr
    assert "Traceback" not in remote.stderr and "WARNING" not in remote.stderr
    _assert_same_table(pd.read_csv(tmp_path / "local" / "results.csv"), pd.read_csv(tmp_path / "dask" / "results.csv"))
    assert list(system_temp.iterdir()) == []


def test_a_cluster_that_cannot_be_used_is_a_one_line_error(tmp_path):
    unreachable = f"tcp://127.0.0.1:{free_port()}"
    assert_one_line_error(cachetune("bench", *SMALL, "--dask", unreachable, "--scratch", str(tmp_path)),
                          "cannot reach the Dask scheduler")  # fmt: skip
    trace = tuner.generate("zipf", requests=500, objects=50, seed=1)
    with pytest.raises(CachetuneError, match="scratch is needed with a scheduler address"):
        tuner.bench(trace, "lru", [5], dask=unreachable)
    with pytest.raises(CachetuneError, match="local:N with N at least 1"):
        tuner.bench(trace, "lru", [5], dask="local:0")
    with pytest.raises(CachetuneError, match="scratch is only used by a run on a Dask cluster"):
        tuner.bench(trace, "lru", [5], scratch=tmp_path)
    with pytest.raises(CachetuneError, match="cannot write to the scratch folder"):
        tuner.bench(trace, "lru", [5], dask=unreachable, scratch=tmp_path / "missing")
