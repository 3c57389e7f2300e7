"""Run the real ``cachetune`` command in a subprocess, as a user would."""

import subprocess
import sys


def cachetune(*args: str, cwd=None) -> subprocess.CompletedProcess:
    """``cachetune ARGS`` with captured text output; never raises on a non-zero exit."""
    return subprocess.run(
        [sys.executable, "-m", "tuner", *args], capture_output=True, text=True, cwd=cwd, timeout=600, check=False
    )


def assert_one_line_error(completed: subprocess.CompletedProcess, fragment: str) -> None:
    """A clean failure: non-zero exit, no traceback, one ``error:`` line naming the problem."""
    assert completed.returncode != 0
    assert "Traceback" not in completed.stderr
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("error: ") and fragment in lines[0], lines[0]
