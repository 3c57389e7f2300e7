"""Run the real ``cachetune`` command in a subprocess, as a user would."""

import os
import subprocess
import sys
from pathlib import Path

import tuner

# The checkout under test, first on the subprocess's path: the command runs the same ``tuner`` as the tests
# (an editable install elsewhere, such as another worktree's, would otherwise win).
_CHECKOUT = str(Path(tuner.__file__).resolve().parents[1])


def cachetune(*args: str, cwd=None, columns: int | None = None) -> subprocess.CompletedProcess:
    """``cachetune ARGS`` with captured text output (``columns``: as if ``$COLUMNS`` said so, else unset, as
    in a pipe); never raises on a non-zero exit."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_CHECKOUT, os.environ.get("PYTHONPATH")]))}
    env.pop("COLUMNS", None)
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return subprocess.run(
        [sys.executable, "-m", "tuner", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
        check=False,
    )


def assert_one_line_error(completed: subprocess.CompletedProcess, fragment: str) -> None:
    """A clean failure: non-zero exit, no traceback, one ``error:`` line naming the problem."""
    assert completed.returncode != 0
    assert "Traceback" not in completed.stderr
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("error: ") and fragment in lines[0], lines[0]
