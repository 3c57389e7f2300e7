"""The project's own error types: mistakes in the user's input or configuration, never bugs.

They subclass ``ValueError``, so a caller that catches bad values keeps
working; the CLI catches only these and turns them into one line, so any
other exception (a bug) still shows its traceback.
"""

from collections.abc import Sequence


class CachetuneError(ValueError):
    """A problem with the user's input or configuration, not a bug.

    ``parameter`` is the library parameter the message is about, spelled in
    the message as in Python (``tolerance must not be negative, got -1``), so
    a front end can name it its own way: the CLI says ``--tolerance``.
    """

    def __init__(self, message: str, *, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


class TraceError(CachetuneError):
    """A trace that cannot be read: names the file, where, and why."""


class WorkloadError(CachetuneError):
    """An unknown workload or a bad workload spec."""


def check_choice(parameter: str, value: str, choices: Sequence[str]) -> None:
    """Refuse ``value`` for ``parameter`` (e.g. ``method``) unless it is one of ``choices``, naming them."""
    if value not in choices:
        raise CachetuneError(f"{parameter} must be one of {', '.join(choices)}; got {value!r}", parameter=parameter)
