"""memcached (1.6): ``-m`` (whole MiB), ``-f``, ``-I`` and ``-o hot_lru_pct=…,warm_lru_pct=…``, written as
the arguments to start it with (``deploy/memcached.args``).

Option names and parsing as in memcached 1.6.18 ``memcached.c: main``: ``-m``
is ``atoi`` MiB; ``-I`` takes bytes or a ``k``/``m`` suffix and must be a
multiple of ``slab_chunk_max`` (512 KiB), at most half of ``-m``; each LRU
percentage is from 1 to 79 and their sum at most 80. The model
(``tuner.policies.memcached``) reads its capacity as whole MiB the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tuner.capacity import BYTES
from tuner.deploy.base import Deployment, Target, own_params
from tuner.errors import CachetuneError
from tuner.policies.memcached_slabs import slab_settings

if TYPE_CHECKING:
    from tuner.optimize.space import Config

MIB = 2**20
# memcached's defaults (memcached.c: settings_init): -f 1.25, -I 1m, hot_lru_pct 20, warm_lru_pct 40.
DEFAULTS = {"growth_factor": 1.25, "item_size_max": MIB, "hot_lru_pct": 20, "warm_lru_pct": 40}
# -I values a search tries: multiples of slab_chunk_max (512 KiB) from 512 KiB to 4 MiB.
ITEM_SIZES = (512 * 1024, MIB, 2 * MIB, 4 * MIB)
# -f values a search tries (the model's range, 1.05 to 2), written as one would type them.
GROWTH_FACTORS = (1.05, 1.08, 1.1, 1.15, 1.2, 1.25, 1.3, 1.4, 1.5, 1.75, 2.0)
# The least -m the defaults start with: -I 1m must be at most half of it.
LEAST_MEMORY = 2 * MIB


def _size_arg(size: int) -> str:
    """``-I``'s argument as memcached reads it: ``1m``, ``512k`` or bytes."""
    for suffix, factor in (("m", MIB), ("k", 1024)):
        if size % factor == 0:
            return f"{size // factor}{suffix}"
    return str(size)


def settings(config: Config) -> dict[str, int | float | str]:
    """The recommendation as memcached's options: ``-m`` in MiB, ``-I`` as memcached takes it."""
    params = own_params(config, DEFAULTS)
    return {
        "-m": int(config.capacity) // MIB,
        "-f": float(params["growth_factor"]),
        "-I": _size_arg(int(params["item_size_max"])),
        "-o": f"hot_lru_pct={int(params['hot_lru_pct'])},warm_lru_pct={int(params['warm_lru_pct'])}",
    }


def refuses(config: Config, unit: str) -> str | None:
    """Why memcached would not start with this configuration (below 1 MiB, or its own checks), else None."""
    if config.capacity < MIB:
        return f"-m is whole MiB: {config.capacity} bytes is below 1 MiB"
    try:
        slab_settings(config.capacity // MIB * MIB, own_params(config, DEFAULTS))
    except CachetuneError as error:
        return str(error)
    return None


def render(config: Config, unit: str) -> Deployment:
    chosen = settings(config)
    args = " ".join(f"{name} {value}" for name, value in chosen.items())
    return Deployment(chosen, {"memcached.args": args + "\n"})


TARGETS = (
    Target(
        name="memcached",
        summary="memcached: -m (MiB), -f, -I, -o hot_lru_pct=…,warm_lru_pct=….",
        unit=BYTES,
        default_policy="memcached",
        render=render,
        least_capacity=LEAST_MEMORY,
        capacity_step=MIB,
        choices={"item_size_max": ITEM_SIZES, "growth_factor": GROWTH_FACTORS},
        refuses=refuses,
    ),
)
