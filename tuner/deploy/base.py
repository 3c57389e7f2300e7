"""What a deploy target declares: the product's default configuration, which knobs a search may turn,
and how a recommendation is written as that product's own settings and files."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tuner.optimize.space import Config


@dataclass(frozen=True)
class Deployment:
    """A configuration as the product spells it: ``settings`` (best.json's ``deploy``) and ``files``
    (a name under the run folder's ``deploy/`` → its text)."""

    settings: dict[str, Any]
    files: dict[str, str]


# render(config, unit) -> Deployment; unit is tuner.capacity's BYTES or OBJECTS.
RenderFn = Callable[["Config", str], Deployment]
# refuses(config, unit) -> why the product would not start with it, or None.
RefusesFn = Callable[["Config", str], "str | None"]


def _never(config: Config, unit: str) -> str | None:
    return None


@dataclass(frozen=True)
class Target:
    """A product cachetune can recommend a configuration of (``cachetune optimize --target NAME``).

    ``unit``: the capacity the product takes (``BYTES``, ``OBJECTS``; None: either).
    ``default``: the policy and parameters the product runs when not told otherwise, compared with the
    recommendation at the same capacity. ``held``: model parameters that describe the workload, not a
    knob (left at their defaults). ``choices``: knobs the product takes only some values of, searched
    as those (memcached's ``-I``). ``least_capacity``: the smallest capacity worth a trial (the product
    refuses less at its defaults). ``timeout_policies``: models of the product's cache with a timeout,
    which need a ttl (searched exactly when a ttl is given or tuned).
    """

    name: str
    summary: str
    unit: str | None
    default_policy: str
    render: RenderFn
    default_params: Mapping[str, Any] = field(default_factory=dict)
    held: frozenset[str] = frozenset()
    least_capacity: int = 1
    capacity_step: int = 1
    choices: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    timeout_policies: frozenset[str] = frozenset()
    refuses: RefusesFn = _never

    def deployed(self, config: Config) -> Config:
        """``config`` at the capacity the product takes (whole steps, rounded down as the product reads it)."""
        steps = max(1, config.capacity // self.capacity_step)
        return dataclasses.replace(config, capacity=steps * self.capacity_step)

    def default_config(self, capacity: int, settings: Mapping[str, Any]) -> Config:
        """The product's default at ``capacity``, replayed with the recommendation's operation ``settings``."""
        from tuner.optimize.space import Config

        return Config(self.default_policy, capacity, {**self.default_params, **settings})


def own_params(config: Config, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """``defaults`` overlaid with the configuration's values of the same names (a search may leave some out)."""
    return {name: config.params.get(name, value) for name, value in defaults.items()}
