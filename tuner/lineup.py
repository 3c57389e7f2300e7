"""The policies a run compares, found by the names the user gave.

The registry answers an unknown name with a plain ``ValueError``; here it
becomes the project's error about the parameter that named it, so a caller
(and the CLI, which shows it as one line naming ``--policies``) can tell a
misspelt name from a bug.
"""

from collections.abc import Sequence

from tuner.errors import CachetuneError
from tuner.policies import Policy, get_policy, parse_policies


def named_policies(spec: str | Sequence[str] | None, parameter: str = "policies") -> list[Policy]:
    """Policies from ``"lru,fifo"``, a list of names, ``"all"`` or None (all of them)."""
    try:
        return parse_policies(spec if spec is None or isinstance(spec, str) else list(spec))
    except ValueError as error:
        raise CachetuneError(f"{parameter}: {error}", parameter=parameter) from None


def named_policy(name: str, parameter: str = "policy") -> Policy:
    """The policy registered as ``name``."""
    try:
        return get_policy(name)
    except ValueError as error:
        raise CachetuneError(f"{parameter}: {error}", parameter=parameter) from None
