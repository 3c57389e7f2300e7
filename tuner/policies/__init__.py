"""The policy registry: every eviction policy, found by its lower-case name.

Adding a policy is one module in this folder plus one entry in ``_MODULES``.
"""

from tuner.policies import fifo, lru, mru
from tuner.policies.base import SPAN, Param, Policy, PolicyInput

_MODULES = (lru, mru, fifo)

POLICIES: dict[str, Policy] = {module.POLICY.name: module.POLICY for module in _MODULES}


def get_policy(name: str) -> Policy:
    """The policy registered as ``name``; ValueError naming the choices otherwise."""
    try:
        return POLICIES[name.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown policy {name!r} (choose from: {', '.join(POLICIES)})") from None


def parse_policies(spec: str | list[str] | None) -> list[Policy]:
    """Policies from ``"lru,fifo"``, a list of names, ``"all"`` or None (all)."""
    if spec is None:
        return list(POLICIES.values())
    names = spec.split(",") if isinstance(spec, str) else [n for part in spec for n in part.split(",")]
    names = [name.strip() for name in names if name.strip()]
    if not names or names == ["all"]:
        return list(POLICIES.values())
    return [get_policy(name) for name in dict.fromkeys(names)]


__all__ = ["POLICIES", "SPAN", "Param", "Policy", "PolicyInput", "get_policy", "parse_policies"]
