"""Policy state with named fields that compiled hooks read and replace by name.

A policy's scalar state (list heads, byte counts, constants) travels through
the inlined hooks as a tuple, so LLVM keeps it in registers; a field that
lived in memory instead cost the replay 3–5× (BENCHMARKING.md). numba
compiles ``collections.namedtuple`` but not its ``_replace``, so
``named_state`` returns the class and a ``replace(state, field=value, …)``
that works both compiled and in plain Python. Each value is cast to the
field's type, so a replaced state always has its initial type (numba cannot
change a loop-carried variable's type).
"""

from __future__ import annotations

import sys
from collections import namedtuple
from collections.abc import Callable, Sequence

from numba import types
from numba.extending import overload


def _keep_or_cast(old, new):
    """``old`` when ``new`` is None, else ``new`` as ``old``'s type (compiled by the overload below)."""
    return old if new is None else type(old)(new)


@overload(_keep_or_cast)
def _keep_or_cast_compiled(old, new):
    if isinstance(new, (types.NoneType, types.Omitted)):
        return lambda old, new: old
    if isinstance(old, (types.Integer, types.Float, types.Boolean)):
        kind = old
        return lambda old, new: kind(new)
    return lambda old, new: new


def named_state(name: str, fields: Sequence[str]) -> tuple[type, Callable]:
    """A namedtuple class called ``name`` with ``fields``, and its ``replace(state, **changes)``.

    ``replace`` takes the fields as keywords (unknown ones are a TypeError,
    compiled or not) and returns a new state of the same class and field types.
    """
    # Named as the calling module's own (``lru.RecencyList``), so numba can pickle the type by
    # reference and find a policy's compiled loop in its disk cache from one process to the next.
    state_class = namedtuple(name, fields, module=sys._getframe(1).f_globals["__name__"])
    keywords = ", ".join(f"{field}=None" for field in fields)
    kept = ", ".join(f"_keep_or_cast(state[{k}], {field})" for k, field in enumerate(fields))
    source = (
        f"def replace(state, {keywords}):\n    return state_class({kept})\n"
        f"def typing(state, {keywords}):\n    return replace\n"
    )
    scope = {"state_class": state_class, "_keep_or_cast": _keep_or_cast}
    exec(source, scope)
    replace = scope["replace"]
    replace.__doc__ = f"A copy of a {name} with the given fields replaced (each cast to the field's type)."
    overload(replace)(scope["typing"])
    return state_class, replace
