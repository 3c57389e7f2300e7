"""A grid's replays as tasks of a Dask cluster: the scale-out side of ``tuner.grid.run_tasks``.

The driver writes each part of the trace (the whole trace, or one shard's
requests) once to a scratch folder every worker can read, one ``.npy`` file a
column; a task names its part's folder, so a worker maps only the columns of
the part it replays, and sends back the small ``ReplayResult``. Columns are
mapped copy-on-write (``mmap_mode="c"``): the pages are the file's until
written, and numba types the arrays as the writable arrays it compiled the
kernels for (a read-only map would compile every kernel again).

Workers compile kernels into numba's on-disk cache like any other process:
``tuner.numba_cache`` points it at a folder under ``XDG_CACHE_HOME`` keyed by
the package's source, and ``local:N`` workers inherit this process's
environment, so they load the kernels this process compiled. Workers started
elsewhere share that cache when they are started with the same
``XDG_CACHE_HOME`` (or ``NUMBA_CACHE_DIR``).
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import dask
import numpy as np
from distributed import Client, LocalCluster, as_completed

from tuner.engine.replay import ReplayResult
from tuner.errors import CachetuneError
from tuner.grid import ReplayTask
from tuner.trace import Trace

LOCAL = "local:"
CONNECT_TIMEOUT = "5s"  # a scheduler that does not answer by then is reported, not waited for
_COLUMNS = ("ids", "timestamps", "sizes", "ops", "ttls")
_KEYS_MAPPED, _KEYS_PICKLED, _ABOUT = "keys.npy", "keys.pickle", "about.pickle"


def run_on_dask(
    address: str,
    scratch: str | os.PathLike | None,
    part_trace: Callable[[int], Trace],
    tasks: Sequence[ReplayTask],
    on_progress: Callable[[int, int], None] | None = None,
) -> list[ReplayResult]:
    """Every task's replay on the Dask cluster at ``address`` (or ``local:N``), in the order of ``tasks``.

    Each part the tasks name is written once under ``scratch`` (default for
    ``local:N``: the system's temporary folder; a scheduler address needs a
    folder its workers can read) and removed when the replays are done.
    """
    local_workers = _local_workers(address)
    if scratch is None and local_workers is None:
        raise CachetuneError("scratch is needed with a scheduler address: a folder every Dask worker can read",
                             parameter="scratch")  # fmt: skip
    with _scratch_folder(scratch) as folder, _client(address, local_workers, folder) as client:
        folders = {part: str(write_part(part_trace(part), folder / f"part-{part}"))
                   for part in sorted({task.part for task in tasks})}  # fmt: skip
        futures = client.map(_replay_part, [folders[task.part] for task in tasks], tasks, pure=False)
        for done, _ in enumerate(as_completed(futures), start=1):
            if on_progress is not None:
                on_progress(done, len(futures))
        return client.gather(futures)


def _local_workers(address: str) -> int | None:
    """N of ``local:N`` (checked), or None for a scheduler address."""
    if not address.startswith(LOCAL):
        return None
    count = address.removeprefix(LOCAL)
    if not count.isdigit() or int(count) < 1:
        raise CachetuneError(f"dask must be a scheduler address (tcp://host:8786) or local:N with N at least 1, "
                             f"got {address!r}", parameter="dask")  # fmt: skip
    return int(count)


@contextmanager
def _client(address: str, local_workers: int | None, folder: Path) -> Iterator[Client]:
    """A client of the scheduler at ``address``, or of a cluster of ``local_workers`` processes on loopback
    (one thread each, no dashboard, the scheduler's and workers' own files in ``folder``) that is closed
    with it. The local cluster logs only errors: its notes (a worker slow to exit being stopped) would
    garble the command's output."""
    if local_workers is not None:
        with (
            dask.config.set({"temporary-directory": str(folder)}),
            LocalCluster(n_workers=local_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                         dashboard_address=None, silence_logs=logging.ERROR) as cluster,
            Client(cluster) as client,
        ):  # fmt: skip
            yield client
        return
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, ValueError) as error:  # unreachable (OSError, a timeout among them) or malformed
        raise CachetuneError(f"cannot reach the Dask scheduler {address!r}: {error}", parameter="dask") from None
    with client:
        yield client


@contextmanager
def _scratch_folder(scratch: str | os.PathLike | None) -> Iterator[Path]:
    """A new folder of this run's parts under ``scratch`` (or the system's temporary folder), removed after;
    absolute, since workers resolve a path from folders of their own."""
    try:
        folder = Path(tempfile.mkdtemp(prefix="cachetune-dask-", dir=scratch)).resolve()
    except OSError as error:
        raise CachetuneError(f"cannot write to the scratch folder {str(scratch)!r}: {error.strerror}",
                             parameter="scratch") from None  # fmt: skip
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_part(trace: Trace, folder: Path) -> Path:
    """Write ``trace`` to ``folder`` (new) as one ``.npy`` file a column, for ``read_part``.

    Keys of a fixed-size type (integer ids) are a column like the others;
    Python objects (strings, bytes) cannot be mapped and are pickled: there is
    one a distinct object, not one a request.
    """
    folder.mkdir()
    for column in _COLUMNS:
        np.save(folder / f"{column}.npy", getattr(trace, column))
    keys = np.asarray(trace.keys)
    if keys.dtype.hasobject:
        with open(folder / _KEYS_PICKLED, "wb") as handle:
            pickle.dump(keys, handle, protocol=pickle.HIGHEST_PROTOCOL)
    else:
        np.save(folder / _KEYS_MAPPED, keys)
    with open(folder / _ABOUT, "wb") as handle:
        pickle.dump({"name": trace.name, "info": trace.info}, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return folder


def read_part(folder: str | os.PathLike) -> Trace:
    """The trace ``write_part`` wrote to ``folder``, its columns mapped from the files."""
    path = Path(folder)
    columns = {column: np.load(path / f"{column}.npy", mmap_mode="c") for column in _COLUMNS}
    if (path / _KEYS_PICKLED).exists():
        with open(path / _KEYS_PICKLED, "rb") as handle:
            keys = pickle.load(handle)
    else:
        keys = np.load(path / _KEYS_MAPPED, mmap_mode="c")
    with open(path / _ABOUT, "rb") as handle:
        about = pickle.load(handle)
    return Trace(**columns, keys=keys, name=about["name"], info=about["info"])


def _replay_part(folder: str, task: ReplayTask) -> ReplayResult:
    """A worker's task: replay ``task`` over the part written to ``folder``."""
    return task.run(read_part(folder))
