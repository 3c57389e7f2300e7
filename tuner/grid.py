"""One way to run a grid of replays: in threads of this process, or as tasks of a Dask cluster.

``bench`` and the sharded runs describe their replays as ``ReplayTask``s over
parts of one trace (the whole trace, or each shard's requests) and hand them to
``run_tasks``, so both run the same way here and on a cluster, and a run on a
cluster gives the same results as one here.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from tuner.capacity import Capacity
from tuner.engine.replay import ReplayResult, replay
from tuner.errors import CachetuneError
from tuner.trace import Trace


@dataclass(frozen=True)
class ReplayTask:
    """One replay of a grid: ``policy`` (a registered name) at ``capacity`` over part ``part`` of the trace,
    with ``replay``'s keyword ``options`` (seed, write policy, the policy's parameters, ...).

    A task holds no trace, so it is small to send to another process.
    """

    part: int
    policy: str
    capacity: Capacity
    options: Mapping[str, Any]

    def run(self, trace: Trace) -> ReplayResult:
        """The replay of this task's part, ``trace``."""
        return replay(trace, self.policy, self.capacity, **self.options)


def run_tasks(
    part_trace: Callable[[int], Trace],
    tasks: Sequence[ReplayTask],
    *,
    jobs: int | None = None,
    dask: str | None = None,
    scratch: str | os.PathLike | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[ReplayResult]:
    """Every task's replay, in the order of ``tasks``; ``part_trace(i)`` is part ``i`` of the trace.

    Without ``dask`` the replays run in ``jobs`` threads (default: one per
    core; the compiled kernels release the GIL). With ``dask`` (a scheduler
    address such as ``tcp://10.0.0.5:8786``, or ``local:N`` for N worker
    processes on this machine) each part is written once to ``scratch`` and
    every task runs on a worker (``tuner.dask_tasks``). ``on_progress`` is
    called with ``(replays done, replays in all)`` as each one finishes.
    """
    if dask is not None:
        from tuner.dask_tasks import run_on_dask  # imported only here: importing dask slows every command's start

        return run_on_dask(dask, scratch, part_trace, tasks, on_progress)
    if scratch is not None:
        raise CachetuneError("scratch is only used by a run on a Dask cluster", parameter="scratch")
    done = itertools.count(1)  # next() on a count is atomic, so threads never report one number twice

    def run(task: ReplayTask) -> ReplayResult:
        result = task.run(part_trace(task.part))
        if on_progress is not None:
            on_progress(next(done), len(tasks))
        return result

    workers = jobs or min(len(tasks), os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(run, tasks))
