"""cachetools-lfu: cachetools 8.0.3 ``LFUCache(maxsize, getsizeof)``, driven as an application drives it.

Follows ``cachetools/__init__.py`` 8.0.3. ``LFUCache`` keeps one link per use
count, in increasing count, each holding its keys in an OrderedDict:

- a new key enters the count-1 link at its end (``__setitem__``);
- a read hit (``__getitem__``) and a write to a cached key (``__setitem__``)
  both ``__touch`` it: it moves to the end of the link for count + 1
  (created after its own if absent; a key alone in its link just raises the
  link's count), so its count keeps growing across writes and never
  restarts while it stays cached;
- ``popitem`` evicts the *first* key of the lowest-count link: among equal
  counts, the key that reached that count longest ago;
- an evicted or deleted key forgets its count: it comes back at 1.

That is ``lfu``'s count list exactly (each count's keys in one list, victim
at the oldest end), whose hooks this model calls. What differs is a SET that
re-sizes a cached key: ``Cache.__setitem__`` keeps the key in its link while
it evicts, so ``popitem`` may take the key itself (it then comes back at
count 1), and otherwise the key is touched (count + 1). The loop removes
and re-admits it, so the model keeps it pending in place
(``python_caches.resizing``) and takes it back on ``on_insert``. The
capacity is ``maxsize`` in objects (``getsizeof`` None) or bytes
(``getsizeof`` = the request's size).

Simplifications: a SET of a cached key at a size larger than the whole
capacity raises in cachetools and leaves the old value cached; the loop
drops the old copy. A ``popitem`` that takes the re-sized key itself is an
eviction in cachetools, a re-size in the loop. A TTL (the trace's or
``ttl=``) expires keys as the loop does; LFUCache has none.
"""

from collections import namedtuple
from collections.abc import Mapping
from typing import Any

from numba import njit

from tuner.engine.kernel import no_op, replay_requests
from tuner.engine.named_state import named_state
from tuner.policies import lfu
from tuner.policies.base import Policy, PolicyInput
from tuner.policies.python_caches import NO_KEY, overdue, resizing

# lfu's count list (its first node and free list), and a key a re-sizing SET keeps in place
# (``pending``, NO_KEY for none) since request ``pending_at``.
LfuCacheState, replace = named_state("LfuCacheState", ["first", "free", "pending", "pending_at"])
# lfu's object and node tables, and the requests' operations (None: a read-only trace).
LfuCacheTables = namedtuple("LfuCacheTables", ["objects", "nodes", "ops"])


@njit(inline="always")
def _counts(state):
    return lfu.CountList(state.first, state.free)


@njit(inline="always")
def _tables(arrays):
    return lfu.CountTables(arrays.objects, arrays.nodes)


@njit(inline="always")
def _with(state, counts):
    return replace(state, first=counts.first, free=counts.free)


@njit(inline="always")
def _drop(state, arrays, cache, obj, now, i):
    return _with(state, lfu.on_remove(_counts(state), _tables(arrays), cache, obj, now, i))


@njit(inline="always")
def _settle(state, arrays, cache, now, i):
    """Drop a pending key that did not come back at its own request."""
    if overdue(state.pending, state.pending_at, i):
        return replace(_drop(state, arrays, cache, state.pending, now, i), pending=NO_KEY)
    return state


@njit(inline="always")
def _on_hit(state, arrays, cache, obj, size, now, i):
    state = _settle(state, arrays, cache, now, i)
    return _with(state, lfu.on_hit(_counts(state), _tables(arrays), cache, obj, size, now, i))


@njit(inline="always")
def _on_remove(state, arrays, cache, obj, now, i):
    state = _settle(state, arrays, cache, now, i)
    if resizing(arrays.ops, cache, obj, now, i):
        return replace(state, pending=obj, pending_at=i)
    return _drop(state, arrays, cache, obj, now, i)


@njit(inline="always")
def _evict(state, arrays, cache, obj, size, now, i):
    state = _settle(state, arrays, cache, now, i)
    victim = arrays.nodes[state.first, lfu.TAIL]
    if victim == state.pending:  # popitem takes the re-sized key itself: it comes back at count 1
        state = replace(_drop(state, arrays, cache, victim, now, i), pending=NO_KEY)
        victim = arrays.nodes[state.first, lfu.TAIL]
    return _drop(state, arrays, cache, victim, now, i), victim


@njit(inline="always")
def _on_insert(state, arrays, cache, obj, size, now, i):
    state = _settle(state, arrays, cache, now, i)
    if state.pending == obj:  # the re-sized key, still in its link: LFUCache.__setitem__ touches it
        return replace(_with(state, lfu.on_hit(_counts(state), _tables(arrays), cache, obj, size, now, i)),
                       pending=NO_KEY)  # fmt: skip
    return _with(state, lfu.on_insert(_counts(state), _tables(arrays), cache, obj, size, now, i))


@njit(cache=True, nogil=True)
def _replay(run, state, arrays):
    return replay_requests(run, state, arrays, _on_hit, no_op, _evict, _on_insert, _on_remove)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[LfuCacheState, LfuCacheTables]:
    counts, (objects, nodes) = lfu.init_count_list(given, params)
    return LfuCacheState(counts.first, counts.free, NO_KEY, NO_KEY), LfuCacheTables(objects, nodes, given.ops)


POLICY = Policy(
    name="cachetools-lfu",
    summary="cachetools.LFUCache: fewest reads and writes since it entered goes, ties by the oldest to reach it.",
    init=_init,
    replay=_replay,
    target="cachetools",
)
