"""The deploy targets: products a recommendation can be applied to, found by name (``redis``,
``memcached``, ``cachetools``, ``functools``).

Every module in this folder that defines ``TARGETS`` is registered. A target
searches the registered policies whose ``target`` is its name, so the Redis
target works as soon as the ``redis-*`` models are in ``tuner/policies/``.
"""

from __future__ import annotations

import importlib
import pkgutil
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuner.capacity import BYTES
from tuner.deploy.base import Deployment, Target
from tuner.errors import CachetuneError
from tuner.policies import POLICIES, Policy, get_policy

if TYPE_CHECKING:
    from tuner.optimize.space import Config

ANY = "any"  # no product: the textbook policies
DEPLOY_FOLDER = "deploy"


def _discover() -> dict[str, Target]:
    found: dict[str, Target] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for target in getattr(module, "TARGETS", ()):
            found[target.name] = target
    return dict(sorted(found.items()))


TARGETS: dict[str, Target] = _discover()


def get_target(name: str) -> Target | None:
    """The target registered as ``name``; None for ``any``; a CachetuneError naming the choices otherwise."""
    key = name.strip().lower()
    if key == ANY:
        return None
    try:
        return TARGETS[key]
    except KeyError:
        raise CachetuneError(f"unknown target {name!r} (choose from: {', '.join([ANY, *TARGETS])})",
                             parameter="target") from None  # fmt: skip


def target_policies(target: Target, with_timeout: bool) -> list[Policy]:
    """The registered models of ``target``'s product that a search may pick: its timeout caches exactly when
    a ttl is given or tuned (TTLCache needs one; the others have none)."""
    models = [policy for policy in POLICIES.values() if policy.target == target.name and not policy.offline]
    if not models:
        raise CachetuneError(f"no model of {target.name} is registered yet (tuner/policies/)", parameter="target")
    if not target.timeout_policies:
        return models
    chosen = [policy for policy in models if (policy.name in target.timeout_policies) == with_timeout]
    if not chosen:
        kind = "with a timeout" if with_timeout else "without a timeout"
        raise CachetuneError(f"{target.name} has no model of a cache {kind} registered", parameter="target")
    return chosen


def deploy_files(deployment: Deployment | None) -> dict[str, str]:
    """The deployment's files by their path in a run folder (``deploy/redis.conf``); none without one."""
    return {} if deployment is None else {f"{DEPLOY_FOLDER}/{name}": text for name, text in deployment.files.items()}


def for_each_shard(deployment: Deployment, shards: int, shard_hash: str) -> Deployment:
    """``deployment`` for every server of a fleet: its sizes are per shard, which each file that takes
    comments says in its first comment, and ``fleet.txt`` says beside them (``memcached.args`` has no
    comment syntax)."""
    line = (f"# For each of {shards} shards (keys routed by {shard_hash}): every size here is per shard; "
            f"the fleet holds {shards} times as much.")  # fmt: skip
    files = {}
    for name, text in deployment.files.items():
        first, _, rest = text.partition("\n")
        files[name] = f"{first}\n{line}\n{rest}" if first.startswith("#") else text
    files["fleet.txt"] = line.removeprefix("# ") + "\n"
    return Deployment(deployment.settings, files)


def _size_text(capacity: int, unit: str) -> str:
    if unit != BYTES:
        return str(capacity)
    for suffix, factor in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if capacity % factor == 0:
            return f"{capacity // factor}{suffix}"
    return f"{capacity}B"


def verify_command(config: Config, unit: str, trace_file: str | Path | None) -> str:
    """The ``cachetune verify`` line that replays ``config`` on the real product and compares it with the model."""
    words = ["cachetune", "verify", "--trace", str(trace_file) if trace_file else "FILE", "--policies",
             config.policy, "--size", _size_text(config.capacity, unit)]  # fmt: skip
    own = {param.name for param in get_policy(config.policy).params}
    for name, value in sorted(config.params.items()):
        if name in own:
            words += ["-p", f"{name}={value}"]
    if config.params.get("ttl") is not None:
        words += ["--ttl", str(config.params["ttl"])]
    return shlex.join(words)


def settings_text(settings: dict[str, Any]) -> str:
    """One line of a deployment's settings, as best.json holds them."""
    return ", ".join(f"{name} {value}" for name, value in settings.items())


__all__ = ["ANY", "DEPLOY_FOLDER", "TARGETS", "Deployment", "Target", "deploy_files", "for_each_shard", "get_target",
           "settings_text", "target_policies", "verify_command"]  # fmt: skip
