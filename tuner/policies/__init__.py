"""The policy registry: every eviction policy, found by its lower-case name.

Every module in this folder that defines ``POLICY`` is registered, so adding
a policy is adding one file. Helper modules (``base``, ``linked_list``) define
no ``POLICY``.
"""

import importlib
import pkgutil

from tuner.errors import CachetuneError
from tuner.policies.base import SPAN, Charge, Param, Policy, PolicyInput


def _discover() -> dict[str, Policy]:
    found = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        policy = getattr(module, "POLICY", None)
        if isinstance(policy, Policy):
            found[policy.name] = policy
    return dict(sorted(found.items()))


POLICIES: dict[str, Policy] = _discover()


def get_policy(name: str) -> Policy:
    """The policy registered as ``name``; a CachetuneError naming the choices otherwise."""
    try:
        return POLICIES[name.strip().lower()]
    except KeyError:
        raise CachetuneError(f"unknown policy {name!r} (choose from: {', '.join(POLICIES)})") from None


def floor_policy() -> Policy:
    """The policy every result is measured against: the one declared ``offline`` (it sees the future).

    Exactly one policy may be offline, so which floor a gap is measured to is never a guess.
    """
    [floor] = [policy for policy in POLICIES.values() if policy.offline]
    return floor


def parse_policies(spec: str | list[str] | None) -> list[Policy]:
    """Policies from ``"lru,fifo"``, a list of names, ``"all"`` or None (all the textbook policies:
    models of a real product, such as ``redis-lru``, run only when named)."""
    textbook = [policy for policy in POLICIES.values() if policy.target is None]
    if spec is None:
        return textbook
    names = spec.split(",") if isinstance(spec, str) else [n for part in spec for n in part.split(",")]
    names = [name.strip() for name in names if name.strip()]
    if not names or names == ["all"]:
        return textbook
    return [get_policy(name) for name in dict.fromkeys(names)]


__all__ = [
    "POLICIES",
    "SPAN",
    "Charge",
    "Param",
    "Policy",
    "PolicyInput",
    "floor_policy",
    "get_policy",
    "parse_policies",
]
