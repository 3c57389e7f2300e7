"""Cache capacities: object counts, byte sizes, or a share of a trace's objects."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

from tuner.errors import CachetuneError

OBJECTS: Literal["objects"] = "objects"
BYTES: Literal["bytes"] = "bytes"

_UNITS = {
    "b": 1,
    "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
    "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40,  # single letters are binary, as in nginx and redis
}  # fmt: skip
# The largest capacity the compiled core can hold (int64 bytes or objects).
LARGEST = 2**63 - 1
_SPEC = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([a-z%]*)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Capacity:
    """A resolved cache capacity: ``amount`` objects or bytes."""

    amount: int
    unit: Literal["objects", "bytes"]
    spec: str

    def __str__(self) -> str:
        return self.spec


def parse_capacity(spec: int | str | Capacity, unique_objects: int | None = None) -> Capacity:
    """Read ``1000`` (objects), ``64MiB`` / ``1.5GB`` (bytes) or ``1%`` (of unique objects).

    A percentage needs ``unique_objects``; it rounds up so ``0.1%`` of a small
    trace is still one object. Single-letter units are binary (``64M`` is
    64 MiB). Anything not positive, or beyond int64, is a CachetuneError.
    """
    if isinstance(spec, Capacity):
        return spec
    text = str(spec)
    match = _SPEC.match(text)
    if not match:
        raise CachetuneError(f"cannot read cache size {text!r} (try 1000, 64MiB, 1.5GB or 1%)")
    number, unit = float(match.group(1)), match.group(2).lower()
    if not math.isfinite(number):
        raise CachetuneError(f"cache size {text!r} is too large")
    if unit == "%":
        if unique_objects is None:
            raise CachetuneError(f"cache size {text!r} is a percentage, which needs a trace")
        amount, kind = math.ceil(number / 100.0 * unique_objects), OBJECTS
    elif unit in ("", "obj", "objects"):
        if number != int(number):
            raise CachetuneError(f"cache size {text!r} counts objects and must be a whole number")
        amount, kind = int(number), OBJECTS
    elif unit in _UNITS:
        amount, kind = int(number * _UNITS[unit]), BYTES
    else:
        raise CachetuneError(f"unknown unit {match.group(2)!r} in cache size {text!r}")
    if amount <= 0:
        raise CachetuneError(f"cache size must be positive, got {text!r}")
    if amount > LARGEST:
        raise CachetuneError(f"cache size {text!r} is too large (at most {LARGEST:,} {kind})")
    return Capacity(amount, kind, text.strip())


def parse_byte_size(spec: int | str, parameter: str) -> int:
    """Read a size in bytes for ``parameter`` (``max_object_size``): ``8MiB``, ``1.5GB``, or a bare number of bytes.

    The units are cache sizes' own (single letters binary), so a flag that
    takes bytes reads them as ``--size`` does; a bare number is bytes here,
    not objects, because the setting is about objects' sizes.
    """
    text = str(spec)
    match = _SPEC.match(text)
    unit = match.group(2).lower() if match else None
    if unit is None or unit not in ("", *_UNITS):
        raise CachetuneError(f"{parameter} must be a size in bytes such as 4096 or 8MiB, got {text!r}",
                             parameter=parameter)  # fmt: skip
    amount = float(match.group(1)) * _UNITS.get(unit, 1)
    if not 1 <= amount <= LARGEST:
        raise CachetuneError(f"{parameter} must be at least one byte and below 8 EiB, got {text!r}",
                             parameter=parameter)  # fmt: skip
    return int(amount)
