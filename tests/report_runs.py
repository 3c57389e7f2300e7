"""Small real runs whose folders the report tests render: made by the ``cachetune`` command itself."""

import shutil
from pathlib import Path

from tests.cli import cachetune

BENCH_ARGS = (
    "bench",
    "--workload",
    "zipf",
    "--requests",
    "30000",
    "--objects",
    "3000",
    "--rate",
    "2",
    "--size",
    "1%",
    "--size",
    "5%",
    "--size",
    "10%",
    "--seed",
    "3",
)


def rebuilt_copy(folder: Path, copy: Path) -> Path:
    """A copy of the run ``folder`` whose report ``cachetune report`` rebuilt from the files alone, checked to be
    the run's own page byte for byte."""
    shutil.copytree(folder, copy)
    first = (copy / "report.html").read_bytes()
    (copy / "report.html").unlink()
    completed = cachetune("report", str(copy))
    assert completed.returncode == 0, completed.stderr
    assert (copy / "report.html").read_bytes() == first
    return copy


def bench_run(folder: Path, *extra: str) -> Path:
    """``cachetune bench`` at three sizes (so the miss-ratio curves appear) over about four hours of trace."""
    completed = cachetune(*BENCH_ARGS, "--out", str(folder), *extra)
    assert completed.returncode == 0, completed.stderr
    return folder


def writes_csv(path: Path) -> Path:
    """Hot keys written and deleted between reads, and cold reads: a request a second for 100 minutes."""
    lines = ["key,time,op"]
    for i in range(6000):
        hot = f"hot{i % 40}"
        lines.append(f"{hot},{i},{'set' if i % 7 == 1 else 'delete' if i % 53 == 2 else 'get'}" if i % 2 else
                     f"cold{i % 900},{i},get")  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    return path


def bench_writes_run(folder: Path) -> Path:
    """``cachetune bench`` under write-back on a trace with SETs and DELETEs, at 30 and 120 objects."""
    trace = writes_csv(folder.parent / f"{folder.name}.csv")
    completed = cachetune("bench", "--trace", str(trace), "--op-col", "op", "--time-col", "time", "--policies",
                          "lru,fifo", "--size", "30", "--size", "120", "--write-policy", "write-back", "--out",
                          str(folder))  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    return folder


def optimize_run(folder: Path, requests: int = 20000, trials: int = 16) -> Path:
    """A short ``cachetune optimize --pareto`` (history, front and importances all have data)."""
    completed = cachetune("optimize", "--workload", "zipf", "--requests", str(requests), "--objects",
                          str(requests // 10), "--budget", "10%", "--trials", str(trials), "--seed", "4", "--pareto",
                          "--out", str(folder))  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    return folder


def analyze_run(folder: Path) -> Path:
    """``cachetune analyze`` on a generated workload of about four hours."""
    completed = cachetune(
        "analyze", "--workload", "zipf", "--requests", "30000", "--objects", "3000", "--rate", "2", "--out", str(folder)
    )
    assert completed.returncode == 0, completed.stderr
    return folder


def mrc_run(folder: Path) -> Path:
    """``cachetune mrc`` with LRU, FIFO and OPT over ten sizes (OPT drawn dashed)."""
    completed = cachetune("mrc", "--workload", "zipf", "--requests", "20000", "--objects", "2000", "--seed", "3",
                          "--policies", "lru,fifo", "--sizes", "10", "--out", str(folder))  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    return folder
