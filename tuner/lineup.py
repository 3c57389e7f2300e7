"""The policies a run compares, found by the names the user gave.

The registry's error for an unknown name knows no parameter; here it names
the parameter that gave the name, so the CLI shows it as one line naming
``--policies``.
"""

from collections.abc import Sequence

from tuner.errors import CachetuneError
from tuner.policies import Policy, get_policy, parse_policies


def named_policies(spec: str | Sequence[str] | None, parameter: str = "policies") -> list[Policy]:
    """Policies from ``"lru,fifo"``, a list of names, ``"all"`` or None (all of them)."""
    try:
        return parse_policies(spec if spec is None or isinstance(spec, str) else list(spec))
    except CachetuneError as error:
        raise CachetuneError(f"{parameter}: {error}", parameter=parameter) from None


def named_policy(name: str, parameter: str = "policy") -> Policy:
    """The policy registered as ``name``."""
    try:
        return get_policy(name)
    except CachetuneError as error:
        raise CachetuneError(f"{parameter}: {error}", parameter=parameter) from None
