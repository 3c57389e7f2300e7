"""Where the CLI writes: results to stdout, progress and messages to stderr."""

import os
import re
import sys
from typing import NoReturn

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tuner.errors import CachetuneError

# Piped or redirected, rich would lay tables out in 80 columns and cut their cells short ("opt (offline
# be…"): a file or a pipe gets lines as wide as the tables need instead. A terminal's own width, or
# $COLUMNS, still wins.
PIPED_WIDTH = 200
stdout = Console(soft_wrap=True, width=None if sys.stdout.isatty() or "COLUMNS" in os.environ else PIPED_WIDTH)
stderr = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` on one line of stderr and exit with ``code``."""
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    sys.exit(code)


def flag(parameter: str) -> str:
    """The option that sets a library parameter: ``sample_rate`` is ``--sample-rate``.

    Every command names its options after the parameters of the library
    function it calls, so this one rule maps them all. (bench's repeated
    ``--size`` fills ``sizes``, which the CLI never leaves empty, and mrc's
    ``--no-opt`` is ``with_floor=False``, which cannot be wrong.)
    """
    return "--" + parameter.replace("_", "-")


def error_line(error: CachetuneError) -> str:
    """The error's message with the parameter it is about called by its option (``tolerance``: ``--tolerance``)."""
    if error.parameter is None:
        return str(error)
    return re.sub(rf"\b{re.escape(error.parameter)}\b", flag(error.parameter), str(error))


def progress_bar() -> Progress:
    """A progress bar on stderr, so stdout stays clean for csv and json output.

    Off when stderr is not a terminal: there it would only leave an empty line
    above the next message (``error: …`` or ``results in …``).
    """
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
        disable=not stderr.is_terminal,
    )
