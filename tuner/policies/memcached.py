"""memcached 1.6 (modelled on 1.6.18, Debian's): slab classes, pages first come first served, and a
segmented LRU per class.

The request path is the shared loop's (a GET that misses is followed by the
application's SET; SETs and DELETEs as the trace says); these hooks do what
memcached does with memory, following its source:

- Items (``items.c: do_item_alloc``): a request of ``size`` bytes (key and
  value) is an item of ``size + 59`` bytes (``ITEM_ntotal``; the constants and
  the class table are measured on a real server, see
  ``tuner.policies.memcached_slabs``), stored in the first slab class whose
  chunk holds it. One over ``item_size_max`` (``-I``) is refused.
- Memory (``slabs.c: do_slabs_alloc, do_slabs_newslab``): a class takes a free
  chunk, else a new 1 MiB page while the pages handed out stay within ``-m``
  (a class's first page is always given), else it frees one of its own:
  ``items.c: do_item_alloc_pull`` tries up to 10 times to evict the tail of the
  class's COLD LRU (``lru_pull_tail(id, COLD_LRU, 0, LRU_PULL_EVICT)``: active or
  not) or, with COLD empty, to move HOT's tail to COLD (or WARM when active);
  if all 10 fail the SET fails (out of memory: refused here). So an eviction
  always comes from the newcomer's own class, even when other classes hold
  free chunks.
- LRUs (``items.c``): a new item enters its class's HOT LRU head with no flags.
  A GET hit (``do_item_bump``) marks an item FETCHED, the next one ACTIVE; an
  item that becomes ACTIVE in COLD moves to WARM's head at once (the async
  bump ``lru_maintainer_bumps`` -> ``do_item_update``) and loses ACTIVE. A SET
  to a cached key links a new item at HOT's head with no flags (``do_store_item``
  -> ``item_replace``), after allocating it while the old one still holds its
  chunk; when that allocation has to evict COLD's tail and the tail is the old
  item itself, the new one takes the old one's chunk.
- The LRU maintainer (``lru_maintainer_juggle``) per class, with ``total`` the
  bytes of its three LRUs: HOT's tail moves to WARM if ACTIVE (losing it), else
  to COLD while HOT holds more than ``hot_lru_pct`` % of ``total``; only when
  HOT moved nothing, WARM's tail is re-linked at WARM's head if ACTIVE (losing
  it), else sent to COLD while WARM holds more than ``warm_lru_pct`` %; COLD's
  tail moves to WARM if ACTIVE. Repeated until nothing moves (at most 500
  rounds), as ``lru_pull_tail`` computes it (limits in integer bytes; a HOT
  limit of 0 falls back to WARM's percentage). Expired tails met on the way are
  reclaimed (an expiration).

How the per-class accounting fits the loop's one global capacity: ``charge``
makes each request's size its item's bytes (the loop's capacity in use is then
memcached's ``bytes`` stat) and the capacity the most memory memcached can ever
give items (``-m`` in whole pages plus one page per class: ``init`` reads the
page limit back from it), so the loop's own evict-until-it-fits never binds.
The ``admit`` hook does memcached's allocation instead: it takes a free chunk
or a page for the newcomer's class, or evicts from that class's COLD LRU with
``release`` (``hooks_release=True``), or refuses the item as memcached's
out-of-memory SET fails. The ``evict`` hook exists for the contract and only
ever evicts from the newcomer's class.

Simplifications (each a thing memcached does that this model does not):

- The LRU maintainer is a background thread that wakes every 1 ms to 1 s; its
  moves are applied synchronously after each insertion into a class. Those a
  hit or a SET to a cached key would call for wait for the class's next
  insertion, just after its allocation: they link items at COLD's head, so
  they change which item that allocation evicts only when COLD is nearly
  empty. (Juggling at one place keeps the compiled loop small: with a juggle
  after hits too it took minutes to compile.) Its age limits are not applied
  (``hot_max_factor`` 0.2 and ``warm_max_factor`` 2.0 also move items older
  than a share of COLD's tail age, in whole seconds of server time, which a
  replay has none of).
- No slab page mover: ``slab_automove=1`` moves pages between classes from
  30-second windows of eviction ages, and returns a class's free pages to the
  global pool; the model's pages stay where they were first given.
- The LRU crawler (on by default) reclaims expired items in the background;
  here an expired item leaves when it is requested, or met at an LRU tail.
  Expiry is the loop's (``now >= expiry``, trace seconds), memcached's whole
  server seconds.
- A chunked item (over ``slab_chunk_max``, 512 KiB) is counted as
  ``ceil(bytes / 512 KiB)`` chunks of the last class; memcached puts its header
  in a small class and its last chunk in the class that fits the remainder.
- A SET that changes a cached item's size frees the old item before allocating
  the new (the loop re-admits it); memcached allocates first. A SET to a cached
  key that runs out of memory keeps the old item; memcached unlinks it.
- Client flags are 0 (no 4-byte suffix); CAS is on (``-C`` not given).

Knobs: the capacity is ``-m`` (bytes, whole MiB as memcached reads it),
``growth_factor`` (``-f``), ``item_size_max`` (``-I``), ``hot_lru_pct`` and
``warm_lru_pct`` (``-o hot_lru_pct=…,warm_lru_pct=…``). Checked against a live
memcached 1.6.18 in tests/test_memcached_model.py.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit
from numba.extending import register_jitable

from tuner.capacity import OBJECTS
from tuner.engine.kernel import expire, is_write, no_op, release, replay_requests
from tuner.engine.named_state import named_state
from tuner.engine.prefetch import prefetch
from tuner.errors import CachetuneError
from tuner.policies.base import Charge, Param, Policy, PolicyInput
from tuner.policies.linked_list import NONE, move_to_head, push_head, unlink
from tuner.policies.memcached_slabs import calibration, class_table, slab_settings

if TYPE_CHECKING:
    from tuner.capacity import Capacity
    from tuner.trace import Trace

# The three LRUs of a class (memcached's HOT_LRU, WARM_LRU, COLD_LRU), a list per (class, LRU) at
# ``class * 3 + lru``; item flags as memcached numbers them, the LRU an item is in in the low bits.
HOT, WARM, COLD = 0, 1, 2
LRU_BITS = np.uint8(3)
FETCHED = np.uint8(8)
ACTIVE = np.uint8(16)
ALLOC_TRIES = 10  # do_item_alloc_pull
PULL_TRIES = 5  # lru_pull_tail
JUGGLES = 500  # lru_maintainer_juggle

# Pages handed out and the page limit; the percentages; the classes; the largest item (ntotal) and
# the chunk a chunked item is cut into; the class and chunks admit found for the item being inserted.
Slabs, replace = named_state(
    "Slabs",
    ["pages_used", "page_limit", "hot_pct", "warm_pct", "n_classes", "item_size_max", "chunk_max",
     "incoming_class", "incoming_chunks"],
)  # fmt: skip
# Per object: its two links, flags (LRU and FETCHED/ACTIVE), class and bytes (the loop notes an
# object's size only after ``on_insert``, whose juggling moves it): columns of one 16-byte record
# (``ITEM_RECORD``), so moving an LRU's tail reads one cache line for it, not four. Per (class, LRU): head, tail and
# bytes. Per class: free chunks, pages, chunk size, chunks per page. The requests' operations (or None).
ITEM_RECORD = np.dtype([("links", np.int32, (2,)), ("item_bytes", np.int32), ("flags", np.uint8), ("klass", np.uint8)],
                       align=True)  # fmt: skip
SlabArrays = namedtuple(
    "SlabArrays",
    [
        "links",
        "flags",
        "klass",
        "item_bytes",
        "heads",
        "tails",
        "lru_bytes",
        "free",
        "pages",
        "chunk_sizes",
        "per_page",
        "ops",
    ],
)


@njit(inline="always")
def _chunks(state, nbytes):
    """Chunks an item of ``nbytes`` takes: one, or one per ``slab_chunk_max`` for a chunked item."""
    if nbytes <= state.chunk_max:
        return np.int64(1)
    return (nbytes + state.chunk_max - 1) // state.chunk_max


@njit(inline="always")
def _class_of(arrays, nbytes):
    """``slabs_clsid``: the first class whose chunk holds ``nbytes`` (the last for a chunked item)."""
    sizes = arrays.chunk_sizes
    low, high = 0, sizes.shape[0] - 1
    while low < high:
        middle = (low + high) // 2
        if sizes[middle] >= nbytes:
            high = middle
        else:
            low = middle + 1
    return np.int64(low)


@njit(inline="always")
def _link(arrays, lru, obj, nbytes):
    """Link ``obj`` at the head of list ``lru`` (class * 3 + LRU), with its bytes."""
    head, tail = push_head(arrays.links, arrays.heads[lru], arrays.tails[lru], obj)
    arrays.heads[lru] = head
    arrays.tails[lru] = tail
    arrays.lru_bytes[lru] += nbytes
    arrays.flags[obj] = (arrays.flags[obj] & ~LRU_BITS) | np.uint8(lru % 3)


@njit(inline="always")
def _unlink(arrays, lru, obj, nbytes):
    head, tail = unlink(arrays.links, arrays.heads[lru], arrays.tails[lru], obj)
    arrays.heads[lru] = head
    arrays.tails[lru] = tail
    arrays.lru_bytes[lru] -= nbytes


@njit(inline="always")
def _lru_of(arrays, obj):
    return np.int64(arrays.klass[obj]) * 3 + np.int64(arrays.flags[obj] & LRU_BITS)


@njit(inline="always")
def _expired(cache, obj, now):
    """Whether cached ``obj`` has expired (``expires`` has one unused element when nothing can expire;
    an object being inserted is not cached yet, its expiry not yet set)."""
    at = np.uint32(obj)
    return cache.held[at] >= 0 and at < cache.expires.shape[0] and now >= cache.expires[at]


@njit(inline="always")
def _free_item(state, arrays, cache, obj, now, expired):
    """Unlink ``obj`` from its LRU, return its chunks to its class and take it out of the cache (an
    expiration or an eviction)."""
    nbytes = np.int64(arrays.item_bytes[obj])
    _unlink(arrays, _lru_of(arrays, obj), obj, nbytes)
    arrays.free[np.int64(arrays.klass[obj])] += _chunks(state, nbytes)
    if expired:
        expire(cache, obj)
    else:
        release(cache, obj)


@njit(inline="always")
def _pull_tail(state, arrays, cache, klass, lru, total, evict, now):
    """``lru_pull_tail`` for one class's HOT, WARM or COLD LRU (without its age limits); returns the
    items it moved, reclaimed or evicted."""
    at = klass * 3 + lru
    removed = 0
    for _ in range(PULL_TRIES):
        victim = arrays.tails[at]
        if victim < 0:
            break
        if _expired(cache, victim, now):
            _free_item(state, arrays, cache, victim, now, True)
            removed += 1
            continue
        flags = arrays.flags[victim]
        nbytes = np.int64(arrays.item_bytes[victim])
        if lru == COLD:
            if evict:
                _free_item(state, arrays, cache, victim, now, False)
                removed += 1
            elif flags & ACTIVE:
                arrays.flags[victim] = flags & ~ACTIVE
                _unlink(arrays, at, victim, nbytes)
                _link(arrays, klass * 3 + WARM, victim, nbytes)
                removed += 1
            break
        limit = total * state.hot_pct // 100 if lru == HOT else 0
        if limit == 0:
            limit = total * state.warm_pct // 100
        if flags & ACTIVE:
            arrays.flags[victim] = flags & ~ACTIVE
            removed += 1
            if lru == WARM:
                head, tail = move_to_head(arrays.links, arrays.heads[at], arrays.tails[at], victim)
                arrays.heads[at] = head
                arrays.tails[at] = tail
            else:
                _unlink(arrays, at, victim, nbytes)
                _link(arrays, klass * 3 + WARM, victim, nbytes)
        elif arrays.lru_bytes[at] > limit:
            _unlink(arrays, at, victim, nbytes)
            _link(arrays, klass * 3 + COLD, victim, nbytes)
            removed += 1
        break
    return removed


@njit(inline="always")
def _juggle(state, arrays, cache, klass, now):
    """``lru_maintainer_juggle`` for one class, applied at once."""
    base = klass * 3
    total = arrays.lru_bytes[base + HOT] + arrays.lru_bytes[base + WARM] + arrays.lru_bytes[base + COLD]
    for _ in range(JUGGLES):
        moved = _pull_tail(state, arrays, cache, klass, HOT, total, False, now)
        if moved == 0:
            moved = _pull_tail(state, arrays, cache, klass, WARM, total, False, now)
        moved += _pull_tail(state, arrays, cache, klass, COLD, total, False, now)
        if moved == 0:
            break


@njit(inline="always")
def _allocate(state, arrays, cache, klass, chunks, now):
    """``do_item_alloc_pull`` for ``chunks`` chunks of ``klass``: a free chunk, a new page, or an
    eviction from the class's COLD LRU; returns the new state and whether it found them."""
    pages_used = state.pages_used
    for _ in range(ALLOC_TRIES):
        while arrays.free[klass] < chunks and (pages_used < state.page_limit or arrays.pages[klass] == 0):
            arrays.pages[klass] += 1
            arrays.free[klass] += arrays.per_page[klass]
            pages_used += 1
        if arrays.free[klass] >= chunks:
            arrays.free[klass] -= chunks
            return replace(state, pages_used=pages_used), True
        if _pull_tail(state, arrays, cache, klass, COLD, 0, True, now) <= 0:
            _pull_tail(state, arrays, cache, klass, HOT, 0, False, now)
    return replace(state, pages_used=pages_used), False


@register_jitable(inline="always")
def _admit(state, arrays, cache, obj, size, now, i):
    """memcached's allocation for a new item: refused over ``-I`` or out of memory."""
    if size > state.item_size_max:
        return state, False
    klass = _class_of(arrays, size)
    chunks = _chunks(state, size)
    state, found = _allocate(state, arrays, cache, klass, chunks, now)
    return replace(state, incoming_class=klass, incoming_chunks=chunks), found


@njit(inline="always")
def _on_insert(state, arrays, cache, obj, size, now, i):
    klass = state.incoming_class
    arrays.klass[obj] = klass
    arrays.item_bytes[obj] = size
    arrays.flags[obj] = 0
    _link(arrays, klass * 3 + HOT, obj, size)
    _juggle(state, arrays, cache, klass, now)
    return state


@njit(inline="always")
def _on_hit(state, arrays, cache, obj, size, now, i):
    if is_write(arrays.ops, i):
        return _replace_item(state, arrays, cache, obj, now)
    flags = arrays.flags[obj]
    if flags & ACTIVE:
        return state
    if not flags & FETCHED:
        arrays.flags[obj] = flags | FETCHED
        return state
    if (flags & LRU_BITS) != COLD:
        arrays.flags[obj] = flags | ACTIVE
        return state
    lru = _lru_of(arrays, obj)
    nbytes = np.int64(arrays.item_bytes[obj])
    _unlink(arrays, lru, obj, nbytes)
    _link(arrays, lru - COLD + WARM, obj, nbytes)
    return state


@njit(cache=True, nogil=True)
def _replace_item(state, arrays, cache, obj, now):
    """A SET to a cached key of the same size: a new item at HOT's head, allocated while the old one
    holds its chunk (when that evicts COLD's tail and the tail is the old item, the new one reuses its
    chunk), then the old one freed."""
    klass = np.int64(arrays.klass[obj])
    nbytes = np.int64(arrays.item_bytes[obj])
    chunks = _chunks(state, nbytes)
    lru = _lru_of(arrays, obj)
    full = arrays.free[klass] < chunks and state.pages_used >= state.page_limit
    reuses_own = full and arrays.tails[klass * 3 + COLD] == obj
    _unlink(arrays, lru, obj, nbytes)
    if not reuses_own:
        state, found = _allocate(state, arrays, cache, klass, chunks, now)
        if found:
            arrays.free[klass] += chunks
    arrays.flags[obj] = 0
    _link(arrays, klass * 3 + HOT, obj, nbytes)
    return state


@njit(inline="always")
def _on_remove(state, arrays, cache, obj, now, i):
    nbytes = np.int64(arrays.item_bytes[obj])
    _unlink(arrays, _lru_of(arrays, obj), obj, nbytes)
    arrays.free[np.int64(arrays.klass[obj])] += _chunks(state, nbytes)
    return state


@njit(inline="always")
def _evict(state, arrays, cache, obj, size, now, i):
    """Never needed (the capacity is the most memory memcached can give items): the newcomer's class's
    COLD tail, else HOT's, else WARM's."""
    base = state.incoming_class * 3
    victim = arrays.tails[base + COLD]
    if victim < 0:
        victim = arrays.tails[base + HOT]
    if victim < 0:
        victim = arrays.tails[base + WARM]
    return _on_remove(state, arrays, cache, victim, now, i), victim


@register_jitable(inline="always")
def _ahead(state, arrays, cache, obj):
    """Start loading the record of a key a coming request reads (its flags on a hit; on a miss the
    record the insert writes), so that wait overlaps this request's work."""
    prefetch(arrays.flags, obj)
    return state


@njit(cache=True, nogil=True)
def _replay(run, state, arrays):
    return replay_requests(run, state, arrays, _on_hit, no_op, _evict, _on_insert, _on_remove, hooks_release=True,
                           admit=_admit, ahead=_ahead)  # fmt: skip


def _charge(trace: Trace, capacity: Capacity, params: Mapping[str, Any]) -> Charge:
    """Each request's item bytes, and the most memory memcached started with ``-m`` = ``capacity`` can
    give items (``init`` reads the page limit back from it)."""
    if capacity.unit == OBJECTS:
        raise CachetuneError(f"memcached's memory limit (-m) is in bytes: give a byte capacity such as 64MiB, "
                             f"not {capacity.spec}")  # fmt: skip
    settings = slab_settings(capacity.amount, dict(params))
    return Charge(settings.item_bytes(trace.sizes), settings.most_memory)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[Slabs, SlabArrays]:
    """Empty LRUs and no pages; ``given.capacity`` is what ``_charge`` gave: the page limit plus one page
    a class."""
    constants = calibration()
    chunk_sizes, per_page = class_table(float(params["growth_factor"]), constants)
    n_classes = len(chunk_sizes)
    page_limit = given.capacity // constants["slab_page_bytes"] - n_classes
    if page_limit < 0:
        raise CachetuneError("the memcached model replays with the capacity its charge gives (use tuner.replay)")
    n = max(given.n_objects, 1)
    state = Slabs(np.int64(0), np.int64(page_limit), np.int64(params["hot_lru_pct"]), np.int64(params["warm_lru_pct"]),
                  np.int64(n_classes), np.int64(params["item_size_max"]), np.int64(constants["slab_chunk_max_bytes"]),
                  np.int64(0), np.int64(1))  # fmt: skip
    lists = 3 * n_classes
    items = np.zeros(n, ITEM_RECORD)
    items["links"] = NONE
    arrays = SlabArrays(
        items["links"],
        items["flags"],
        items["klass"],
        items["item_bytes"],
        np.full(lists, NONE, np.int32),
        np.full(lists, NONE, np.int32),
        np.zeros(lists, np.int64),
        np.zeros(n_classes, np.int64),
        np.zeros(n_classes, np.int64),
        chunk_sizes,
        per_page.astype(np.int64),
        given.ops,
    )
    return state, arrays


POLICY = Policy(
    name="memcached",
    summary="memcached 1.6 as deployed: slab classes, pages first come first served, a segmented LRU per class.",
    init=_init,
    replay=_replay,
    params=(
        Param("growth_factor", 1.25, 1.05, 2.0, "memcached -f: each slab class's chunk over the previous one's"),
        Param("item_size_max", 1_048_576, 524_288, 4_194_304, "memcached -I: the largest item in bytes", log=True),
        Param("hot_lru_pct", 20, 1, 60, "share of a class's bytes its HOT LRU may hold (%)", most=79),
        Param("warm_lru_pct", 40, 1, 60, "share of a class's bytes its WARM LRU may hold (%)", most=79),
    ),
    target="memcached",
    charge=_charge,
)
