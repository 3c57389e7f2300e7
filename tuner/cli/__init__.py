"""The ``cachetune`` command line: thin commands over the library.

Each command module parses its options and calls one library function; errors
the user can fix (the project's own, ``CachetuneError``) end in one line on
stderr, naming options as flags, and a non-zero exit. Anything else is a bug
and keeps its traceback.
"""

import os
import sys

import typer

from tuner.cli import analyze, bench, calibrate, capture, generate, mrc, optimize, policies, report, verify
from tuner.cli.console import error_line, fail
from tuner.errors import CachetuneError

app = typer.Typer(
    name="cachetune",
    help="Which cache eviction policy, size and parameters to run, measured on your own traffic.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for module in (analyze, bench, calibrate, capture, generate, mrc, optimize, policies, report, verify):
    module.register(app)


def main() -> None:
    """Entry point of the ``cachetune`` script."""
    try:
        app()  # typer reports usage errors itself and exits
    except KeyboardInterrupt:
        fail("interrupted", code=130)
    except CachetuneError as error:
        fail(error_line(error))
    except BrokenPipeError:  # whoever read stdout (``| head``) stopped reading: nothing left to tell
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
