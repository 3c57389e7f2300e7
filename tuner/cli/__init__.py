"""The ``cachetune`` command line: thin commands over the library.

Each command module parses its options and calls one library function; errors
the user can fix end in one line on stderr and a non-zero exit, never a
traceback.
"""

import typer

from tuner.cli import analyze, bench, generate, mrc, optimize, policies, report
from tuner.cli.console import fail
from tuner.errors import CachetuneError

app = typer.Typer(
    name="cachetune",
    help="Which cache eviction policy, size and parameters to run, measured on your own traffic.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for module in (analyze, bench, generate, mrc, optimize, policies, report):
    module.register(app)


def main() -> None:
    """Entry point of the ``cachetune`` script."""
    try:
        app()  # typer reports usage errors itself and exits
    except KeyboardInterrupt:
        fail("interrupted", code=130)
    except (CachetuneError, ValueError, OSError) as error:
        fail(str(error))
