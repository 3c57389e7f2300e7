"""The project's own error types: what the CLI turns into a one-line message."""


class CachetuneError(Exception):
    """A problem with the user's input or configuration, not a bug."""


class TraceError(CachetuneError):
    """A trace that cannot be read: names the file, where, and why."""


class WorkloadError(CachetuneError):
    """An unknown workload or a bad workload spec."""
