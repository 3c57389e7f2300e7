"""memcached 1.6's slab arithmetic: the class table, the bytes of an item, the pages ``-m`` buys.

Every number comes from the calibration file measured on a real server
(``tuner/calibrations/memcached-1.6.json``, written by ``python -m
tuner.live.calibrate_memcached``); the formulas are memcached 1.6.18's:

- Item bytes (``items.c: do_item_alloc``, ``item_make_header``): ``ITEM_ntotal =
  sizeof(item) + nkey + 1 + nbytes (+ 8 with CAS)``, where ``nbytes`` is the
  value plus its CRLF (client flags 0 add nothing). A trace's size is the key
  plus the value (as Twitter's traces give them), so an item holds its size plus
  ``item_overhead_bytes`` (59: a 48-byte header, 8 of CAS, the key's NUL, the
  value's CRLF).
- Classes (``slabs.c: slabs_init``): the first chunk is ``sizeof(item) +
  settings.chunk_size`` (96 B); each next one is the previous times ``-f``,
  truncated to an integer, then rounded up to ``CHUNK_ALIGN_BYTES`` (8); the
  table stops before a chunk reaches ``slab_chunk_max / factor`` (at most 62
  classes), and one last class of ``slab_chunk_max`` (512 KiB) chunks follows.
  A class's chunks per page are the page (1 MiB) over its chunk.
- An item goes to the first class whose chunk holds it (``slabs_clsid``); one
  over ``-I`` (``item_size_max``) is refused. One over ``slab_chunk_max`` is a
  chunked item (``ntotal > settings.slab_chunk_size_max``), linked in the last
  class's LRU.
- Pages (``slabs.c: do_slabs_newslab``): a class with no free chunk takes a
  new 1 MiB page while ``mem_malloced + page <= -m``, and always takes its
  first page, even past ``-m`` (``p->slabs > 0`` in the refusal), so memory can
  exceed ``-m`` by one page per class.
- The settings memcached refuses at start are refused here with its reasons
  (``memcached.c: main``): ``-f`` not above 1, ``-I`` under 1 KiB, over half
  of ``-m`` or not a multiple of ``slab_chunk_max``, ``hot_lru_pct`` or
  ``warm_lru_pct`` outside 1..79 or together over 80.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from tuner.calibrations import load_calibration
from tuner.errors import CachetuneError

CHUNK_ALIGN_BYTES = 8  # memcached.h; every chunk in the measured table is a multiple of it
MAX_NUMBER_OF_SLAB_CLASSES = 64  # memcached.h: (63 + 1), class 0 is the global page pool
ITEM_SIZE_MAX_LOWER_LIMIT = 1024  # memcached.h


@cache
def calibration() -> dict[str, Any]:
    """The shipped memcached 1.6 constants (read once)."""
    return load_calibration("memcached", "1.6")


def class_table(factor: float, constants: dict[str, Any] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(chunk sizes, chunks per page)`` of every slab class at growth factor ``factor``, as
    ``slabs_init`` builds them (its ``unsigned int size *= factor`` truncates)."""
    constants = constants or calibration()
    page, chunk_max = constants["slab_page_bytes"], constants["slab_chunk_max_bytes"]
    size = constants["smallest_chunk_bytes"]
    sizes = []
    while len(sizes) < MAX_NUMBER_OF_SLAB_CLASSES - 2 and not size >= chunk_max / factor:
        if size % CHUNK_ALIGN_BYTES:
            size += CHUNK_ALIGN_BYTES - size % CHUNK_ALIGN_BYTES
        sizes.append(size)
        size = int(size * factor)
    sizes.append(chunk_max)
    chunk_sizes = np.array(sizes, np.int64)
    return chunk_sizes, page // chunk_sizes


@dataclass(frozen=True)
class SlabSettings:
    """One memcached's memory settings, checked as memcached checks them at start."""

    max_bytes: int  # -m, in bytes
    growth_factor: float  # -f
    item_size_max: int  # -I
    hot_lru_pct: int
    warm_lru_pct: int
    chunk_sizes: np.ndarray
    chunks_per_page: np.ndarray
    page_bytes: int
    chunk_max: int
    item_overhead: int

    @property
    def page_limit(self) -> int:
        """Pages ``-m`` buys (``mem_malloced + page <= mem_limit``); each class may take one more."""
        return self.max_bytes // self.page_bytes

    @property
    def most_memory(self) -> int:
        """The most memory items can ever hold: ``-m`` in whole pages, plus each class's first page."""
        return (self.page_limit + len(self.chunk_sizes)) * self.page_bytes

    def item_bytes(self, sizes: np.ndarray) -> np.ndarray:
        """``ITEM_ntotal`` of items whose key and value together are ``sizes`` bytes."""
        return np.asarray(sizes, np.int64) + self.item_overhead

    def class_of(self, item_bytes: int) -> int:
        """The class (0-based; memcached numbers it one more) an item of ``item_bytes`` is stored in."""
        return int(min(np.searchsorted(self.chunk_sizes, item_bytes), len(self.chunk_sizes) - 1))

    def chunks_of(self, item_bytes: int) -> int:
        """Chunks an item takes in its class: one, or for a chunked item one per ``slab_chunk_max``."""
        return max(1, math.ceil(item_bytes / self.chunk_max))


def slab_settings(max_bytes: int, params: dict[str, Any], constants: dict[str, Any] | None = None) -> SlabSettings:
    """The settings of a memcached started with ``-m`` = ``max_bytes`` and ``params``; a CachetuneError
    with memcached's own reason for any it would refuse."""
    constants = constants or calibration()
    factor = float(params["growth_factor"])
    item_max = int(params["item_size_max"])
    hot, warm = int(params["hot_lru_pct"]), int(params["warm_lru_pct"])
    chunk_max = constants["slab_chunk_max_bytes"]
    if not factor > 1.0:
        raise CachetuneError(f"growth_factor must be greater than 1 (memcached -f), got {factor:g}")
    if item_max < ITEM_SIZE_MAX_LOWER_LIMIT:
        raise CachetuneError(f"item_size_max must be at least {ITEM_SIZE_MAX_LOWER_LIMIT} bytes (memcached -I)")
    if item_max > max_bytes // 2:
        raise CachetuneError(f"memcached refuses item_size_max ({item_max} bytes) over half of -m ({max_bytes} "
                             "bytes): give at least twice as much memory")  # fmt: skip
    if item_max < chunk_max or item_max % chunk_max:
        raise CachetuneError(f"item_size_max must be a multiple of slab_chunk_max ({chunk_max} bytes), "
                             f"as memcached -I requires; got {item_max}")  # fmt: skip
    for name, pct in (("hot_lru_pct", hot), ("warm_lru_pct", warm)):
        if not 1 <= pct < 80:
            raise CachetuneError(f"{name} must be from 1 to 79, got {pct}")
    if hot + warm > 80:
        raise CachetuneError(f"hot_lru_pct + warm_lru_pct cannot be more than 80, got {hot + warm}")
    chunk_sizes, chunks_per_page = class_table(factor, constants)
    return SlabSettings(max_bytes, factor, item_max, hot, warm, chunk_sizes, chunks_per_page,
                        constants["slab_page_bytes"], chunk_max, constants["item_overhead_bytes"])  # fmt: skip
