"""Small real runs whose folders the report tests render: made by the ``cachetune`` command itself."""

from pathlib import Path

from tests.cli import cachetune

BENCH_ARGS = ("bench", "--workload", "zipf", "--requests", "30000", "--objects", "3000", "--rate", "2",
              "--size", "1%", "--size", "5%", "--size", "10%", "--seed", "3")  # fmt: skip


def bench_run(folder: Path, *extra: str) -> Path:
    """``cachetune bench`` at three sizes (so the miss-ratio curves appear) over about four hours of trace."""
    completed = cachetune(*BENCH_ARGS, "--out", str(folder), *extra)
    assert completed.returncode == 0, completed.stderr
    return folder
