"""What a policy module declares: its hooks' compiled replay, its parameters
with defaults and search ranges, and one line on when it wins."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from tuner.errors import CachetuneError

if TYPE_CHECKING:
    from tuner.capacity import Capacity
    from tuner.trace import Trace

# An upper bound may be the trace's span, known only once a trace is read.
SPAN = "span"


@dataclass(frozen=True)
class Param:
    """One tunable policy parameter: its default and the range a tuner searches.

    The search range is narrower than what the policy accepts: values from 0
    (integers: from ``low``) up to ``most`` (no bound when None) are valid.
    """

    name: str
    default: float | int
    low: float | int
    high: float | int | Literal["span"]
    help: str
    log: bool = False
    most: float | None = None

    @property
    def is_int(self) -> bool:
        return isinstance(self.default, int)

    def search_range(self, span_seconds: float) -> tuple[float, float]:
        """``(low, high)`` with ``SPAN`` resolved against the trace's span."""
        high = max(float(span_seconds), float(self.low) * 2) if self.high == SPAN else self.high
        return self.low, high

    def coerce(self, value: Any) -> float | int:
        """``value`` as this parameter's type; CachetuneError if the policy cannot take it."""
        number = int(value) if self.is_int else float(value)
        least = self.low if self.is_int else 0
        if not number >= least:  # also refuses NaN
            raise CachetuneError(f"{self.name} must be at least {least}, got {value}")
        if self.most is not None and number > self.most:
            raise CachetuneError(f"{self.name} must be at most {self.most:g}, got {value}")
        return number


@dataclass(frozen=True)
class PolicyInput:
    """What a policy's ``init`` is given (named ``given`` there): the requests it will see, not the Trace.

    ``ids`` are the dense int32 object ids of the requests in order, ``sizes``
    their sizes in the capacity's unit (when the capacity counts objects, a
    read-only view of ones), ``times`` their timestamps in seconds
    (non-decreasing), ``n_objects`` the number of distinct ids, ``capacity``
    the cache size in objects or bytes, ``seed`` the seed of a randomized
    policy, and ``removes`` whether objects may leave without being evicted
    (``on_remove``), so a policy that needs extra bookkeeping for that keeps it
    only then. ``ops`` are the requests' operations (``tuner.trace`` GET, SET, DELETE), or None when
    every request is a GET, for a model whose product treats a SET to a cached object unlike a hit
    (memcached links a new item). Arrays are shared with the trace: read them, never write them.
    """

    ids: np.ndarray
    sizes: np.ndarray
    times: np.ndarray
    n_objects: int
    capacity: int
    seed: int
    removes: bool = False
    ops: np.ndarray | None = None


# init(PolicyInput, params) -> (state tuple, arrays tuple)
InitFn = Callable[[PolicyInput, Mapping[str, Any]], tuple[tuple, tuple]]


@dataclass(frozen=True)
class Charge:
    """What a model of a real cache charges for a trace: each request's size as the product accounts
    for it (int64 bytes: value, key, per-item overhead, allocator rounding) and the capacity left for
    objects out of the memory the user gave (the server's own baseline taken off)."""

    sizes: np.ndarray
    capacity: int


# charge(trace, capacity, params) -> Charge; raises CachetuneError for a capacity the product cannot take.
ChargeFn = Callable[["Trace", "Capacity", Mapping[str, Any]], Charge]


@dataclass(frozen=True)
class Policy:
    """A registered eviction policy.

    ``replay`` is the policy's compiled copy of the shared request loop
    (``tuner.engine.kernel.replay_requests`` with its hooks); ``init`` builds
    the state and arrays it starts from.
    ``offline``: it sees the future, so it is the floor results are measured against, never a choice.
    ``target``: the product a model of a real cache models (``"redis"``, ``"memcached"``,
    ``"cachetools"``, ``"functools"``); None for the textbook policies, the lineup "all" means.
    ``charge``: how such a model accounts memory (None: a request's size is what it holds).
    """

    name: str
    summary: str
    init: InitFn
    replay: Callable
    params: tuple[Param, ...] = field(default=())
    randomized: bool = False
    offline: bool = False
    target: str | None = None
    charge: ChargeFn | None = None

    def resolve_params(self, given: Mapping[str, Any]) -> dict[str, float | int]:
        """Defaults overlaid with ``given``; an unknown name is a CachetuneError."""
        known = {param.name: param for param in self.params}
        unknown = sorted(set(given) - set(known))
        if unknown:
            names = ", ".join(known) or "none"
            raise CachetuneError(f"policy {self.name!r} has no parameter {unknown[0]!r} (it takes: {names})")
        return {name: param.coerce(given.get(name, param.default)) for name, param in known.items()}
