"""cachetools-ttl: cachetools 8.0.3 ``TTLCache(maxsize, ttl, timer, getsizeof)`` whose timer reads the
trace's timestamps, driven as an application drives it.

Follows ``cachetools/__init__.py`` 8.0.3. ``TTLCache`` keeps two orders: an
OrderedDict of links in LRU order (``__getitem__`` moves the key to the end,
``__setitem__`` too; ``popitem`` evicts the first key), and a linked list in
order of expiry (``__setitem__`` gives the key ``expires = now + ttl`` and
puts it last). An item is expired once ``now >= expires``: ``__getitem__``
then raises KeyError (a miss), and every ``__setitem__`` first calls
``expire(now)``, which removes *every* expired item from the front of the
expiry list, before ``Cache.__setitem__`` evicts anything; ``popitem``
expires first too. So expired items free their space before any LRU victim
is chosen, and a read never extends an item's life.

The model keeps the same two lists over ids (``linked_list``): the LRU list
(a read or a write moves the key to the head, the victim is the tail) and
the write list (a write moves the key to the head; its tail expires first).
The loop keeps each object's expiry (``Cache.expires``) from the replay's
cache timeout, which is TTLCache's ``ttl``, and removes an expired object
when it is requested; before each admission and at each SET to a cached key
(the points where TTLCache's ``__setitem__`` calls ``expire``), the model
removes every expired object from the write list's tail with
``kernel.expire`` (counted as expirations; ``hooks_release=True``). A replay
without ``ttl=`` is a CachetuneError: TTLCache has no default ttl. A SET
that re-sizes a cached key evicts the same victims as the library (LRU
order; see ``cachetools_lru``) and leaves the key newest in both lists.

Simplifications: TTLCache also calls ``expire`` in a ``__setitem__`` that
then raises ``ValueError('value too large')`` (an object larger than the
cache); the loop refuses such an object before any hook, so those expired
items go at the next admission instead: the same hits, misses and victims,
only ``expirations`` and the capacity in use between two admissions can
differ, and a DELETE of an expired key removes it at once in the loop
(``cache.pop`` leaves it to the next ``expire``). A SET of a cached key at a
size larger than the whole capacity raises in cachetools and leaves the old
value cached; the loop drops the old copy. A ``popitem`` that takes the
re-sized key itself is an eviction in cachetools, a re-size in the loop. A
request's own TTL (a trace that has them) overrides ``ttl`` for that object,
as the loop does; TTLCache has no such thing, and the write list is then not
in order of expiry, so an object whose own TTL ends before that of an older
write waits until it is requested or evicted.
"""

from collections import namedtuple
from collections.abc import Mapping
from typing import Any

from numba import njit

from tuner.engine.kernel import expire, is_write, replay_requests
from tuner.engine.named_state import named_state
from tuner.errors import CachetuneError
from tuner.policies.base import Policy, PolicyInput
from tuner.policies.linked_list import NONE, move_to_head, new_links, push_head, unlink
from tuner.policies.python_caches import expired

# The LRU list's ends (most recent at the head) and the write list's (last written at the head).
TtlCacheLists, replace = named_state("TtlCacheLists", ["head", "tail", "newest", "oldest"])
# Links of the LRU list and of the write list, and the requests' operations (None: read-only).
TtlCacheLinks = namedtuple("TtlCacheLinks", ["links", "writes", "ops"])


@njit(inline="always")
def _unlink_both(state, arrays, obj):
    head, tail = unlink(arrays.links, state.head, state.tail, obj)
    newest, oldest = unlink(arrays.writes, state.newest, state.oldest, obj)
    return replace(state, head=head, tail=tail, newest=newest, oldest=oldest)


@njit(inline="always")
def _expire_all(state, arrays, cache, now):
    """TTLCache.expire(now): remove every expired object, oldest write first."""
    while state.oldest >= 0 and expired(cache, state.oldest, now):
        gone = state.oldest
        state = _unlink_both(state, arrays, gone)
        expire(cache, gone)
    return state


@njit(inline="always")
def _on_hit(state, arrays, cache, obj, size, now, i):
    head, tail = move_to_head(arrays.links, state.head, state.tail, obj)
    state = replace(state, head=head, tail=tail)
    if is_write(arrays.ops, i):  # __setitem__: expire(now), then the key is last in both orders
        newest, oldest = move_to_head(arrays.writes, state.newest, state.oldest, obj)
        state = _expire_all(replace(state, newest=newest, oldest=oldest), arrays, cache, now)
    return state


@njit(inline="always")
def _on_miss(state, arrays, cache, obj, size, now, i):
    return _expire_all(state, arrays, cache, now)


@njit(inline="always")
def _on_remove(state, arrays, cache, obj, now, i):
    return _unlink_both(state, arrays, obj)


@njit(inline="always")
def _evict(state, arrays, cache, obj, size, now, i):
    victim = state.tail
    return _unlink_both(state, arrays, victim), victim


@njit(inline="always")
def _on_insert(state, arrays, cache, obj, size, now, i):
    head, tail = push_head(arrays.links, state.head, state.tail, obj)
    newest, oldest = push_head(arrays.writes, state.newest, state.oldest, obj)
    return replace(state, head=head, tail=tail, newest=newest, oldest=oldest)


@njit(cache=True, nogil=True)
def _replay(run, state, arrays):
    return replay_requests(run, state, arrays, _on_hit, _on_miss, _evict, _on_insert, _on_remove,
                           hooks_release=True)  # fmt: skip


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[TtlCacheLists, TtlCacheLinks]:
    if given.ttl is None:
        raise CachetuneError("cachetools-ttl models TTLCache(maxsize, ttl), whose ttl is the replay's cache "
                             "timeout: give ttl= (--ttl)", parameter="ttl")  # fmt: skip
    lists = TtlCacheLists(NONE, NONE, NONE, NONE)
    return lists, TtlCacheLinks(new_links(given.n_objects), new_links(given.n_objects), given.ops)


POLICY = Policy(
    name="cachetools-ttl",
    summary="cachetools.TTLCache: items live ttl seconds (the replay's --ttl), then LRU; maxsize in objects or bytes.",
    init=_init,
    replay=_replay,
    target="cachetools",
)
