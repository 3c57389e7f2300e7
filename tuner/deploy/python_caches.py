"""Python's caches: ``cachetools`` (8.0) and ``functools.lru_cache``, written as the line that makes the cache
(``deploy/cache.py``, a module that runs as it is).

cachetools: the class the recommended model models, ``maxsize`` in objects, or
in bytes with ``getsizeof=len`` (the trace's sizes are the values' lengths);
``TTLCache`` with the replay's ``ttl``. Its default, the cache compared with,
is ``LRUCache`` at the same ``maxsize``. functools: ``lru_cache(maxsize)``
(object counts only), its own default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tuner.capacity import BYTES, OBJECTS
from tuner.deploy.base import Deployment, Target

if TYPE_CHECKING:
    from tuner.optimize.space import Config

CLASSES = {"cachetools-lru": "LRUCache", "cachetools-lfu": "LFUCache", "cachetools-fifo": "FIFOCache",
           "cachetools-rr": "RRCache", "cachetools-ttl": "TTLCache"}  # fmt: skip


def cachetools_settings(config: Config, unit: str) -> dict[str, int | float | str]:
    """The class and its arguments: ``maxsize``, ``ttl`` for TTLCache, ``getsizeof`` for a byte maxsize."""
    chosen: dict[str, int | float | str] = {"class": f"cachetools.{CLASSES[config.policy]}",
                                            "maxsize": int(config.capacity)}  # fmt: skip
    if config.policy == "cachetools-ttl":
        chosen["ttl"] = float(config.params["ttl"])
    if unit == BYTES:
        chosen["getsizeof"] = "len"
    return chosen


def refuses_cachetools(config: Config, unit: str) -> str | None:
    """TTLCache has no default ttl: a trial of it with no timeout (``--tune-ttl`` tried none) cannot run."""
    if config.policy == "cachetools-ttl" and config.params.get("ttl") is None:
        return "TTLCache(maxsize, ttl) needs a ttl"
    return None


def render_cachetools(config: Config, unit: str) -> Deployment:
    chosen = cachetools_settings(config, unit)
    arguments = ", ".join(f"{name}={value}" for name, value in chosen.items() if name != "class")
    note = "maxsize in bytes: getsizeof gives a value's size" if unit == BYTES else "maxsize in objects"
    text = (f'"""cachetune\'s recommendation ({config.policy}): use with @cachetools.cached(cache)."""\n\n'
            f"import cachetools\n\ncache = {chosen['class']}({arguments})  # {note}\n")  # fmt: skip
    return Deployment(chosen, {"cache.py": text})


def render_functools(config: Config, unit: str) -> Deployment:
    chosen = {"decorator": "functools.lru_cache", "maxsize": int(config.capacity)}
    text = (f'"""cachetune\'s recommendation ({config.policy}): decorate the function whose results to cache '
            f'with @cache, as @functools.lru_cache(maxsize={chosen["maxsize"]})."""\n\n'
            f"import functools\n\ncache = functools.lru_cache(maxsize={chosen['maxsize']})\n")  # fmt: skip
    return Deployment(chosen, {"cache.py": text})


TARGETS = (
    Target(
        name="cachetools",
        summary="cachetools: LRUCache, LFUCache, FIFOCache, RRCache or TTLCache; maxsize in objects or bytes.",
        unit=None,
        default_policy="cachetools-lru",
        render=render_cachetools,
        refuses=refuses_cachetools,
        timeout_policies=frozenset({"cachetools-ttl"}),
    ),
    Target(
        name="functools",
        summary="functools.lru_cache(maxsize): maxsize in objects.",
        unit=OBJECTS,
        default_policy="functools-lru",
        render=render_functools,
    ),
)
