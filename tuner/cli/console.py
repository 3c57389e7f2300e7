"""Where the CLI writes: results to stdout, progress and messages to stderr."""

import sys
from typing import NoReturn

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` on one line of stderr and exit with ``code``."""
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    sys.exit(code)


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
