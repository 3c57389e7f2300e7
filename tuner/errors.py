"""The project's own error types: what the CLI turns into a one-line message."""

from collections.abc import Sequence


class CachetuneError(ValueError):
    """A problem with the user's input or configuration, not a bug.

    ``parameter`` names the library parameter at fault (``"ttl"``), so the CLI
    can name its own flag instead.
    """

    def __init__(self, message: str, *, parameter: str | None = None):
        super().__init__(message)
        self.parameter = parameter


class TraceError(CachetuneError):
    """A trace that cannot be read: names the file, where, and why."""


class WorkloadError(CachetuneError):
    """An unknown workload or a bad workload spec."""


def check_choice(option: str, value: str, choices: Sequence[str]) -> None:
    """Refuse ``value`` for ``option`` (e.g. ``--format``) unless it is one of ``choices``, naming them."""
    if value not in choices:
        raise CachetuneError(f"unknown {option} {value!r} (choose from: {', '.join(choices)})")
