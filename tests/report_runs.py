"""Small real runs whose folders the report tests render: made by the ``cachetune`` command itself."""

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


def bench_run(folder: Path, *extra: str) -> Path:
    """``cachetune bench`` at three sizes (so the miss-ratio curves appear) over about four hours of trace."""
    completed = cachetune(*BENCH_ARGS, "--out", str(folder), *extra)
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
