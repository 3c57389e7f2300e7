"""What a generator module declares: its key function and its own options, with defaults and help.

Every module of ``tuner/workloads`` that defines ``GENERATOR`` is registered
by that generator's name; its options become keywords of ``tuner.generate``,
keys of a workload spec file and ``--name`` options of the command line, so
adding a generator is adding one file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tuner.errors import WorkloadError


@dataclass(frozen=True)
class Option:
    """One option of a generator: its name, its default (whose type it takes) and one line of help."""

    name: str
    default: float | int
    help: str

    @property
    def kind(self) -> type:
        """``int`` or ``float``: the type of the default, which every value is converted to."""
        return type(self.default)

    def coerce(self, value: Any) -> float | int:
        """``value`` as this option's type; a WorkloadError for a non-number or a fraction where ``int`` is wanted."""
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise WorkloadError(f"{self.name} must be a number, got {value!r}") from None
        if self.kind is int:
            if not number.is_integer():
                raise WorkloadError(f"{self.name} must be a whole number, got {value!r}")
            return int(number)
        return number


@dataclass(frozen=True)
class Generator:
    """A registered generator: ``keys(rng, requests, objects, **options)`` returns the requests' int64 keys.

    ``keys`` takes every one of ``options`` as a keyword, already resolved
    (declared default < spec file < caller); it raises WorkloadError, naming
    the option, for a value it cannot use.
    """

    name: str
    keys: Callable[..., np.ndarray]
    options: tuple[Option, ...] = ()

    @property
    def defaults(self) -> dict[str, float | int]:
        return {option.name: option.default for option in self.options}
