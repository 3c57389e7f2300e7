"""cachetools-fifo: cachetools 8.0.3 ``FIFOCache(maxsize, getsizeof)``, driven as an application drives it.

Follows ``cachetools/__init__.py`` 8.0.3: ``FIFOCache`` keeps its keys in one
OrderedDict; ``cache[key]`` is ``Cache.__getitem__`` and changes nothing,
``FIFOCache.__setitem__`` appends a new key and *moves a re-set key to the
end* (``self.__order.move_to_end(key)``), and ``FIFOCache.popitem`` evicts
the first key. So this is FIFO by last write, not by first insertion: a SET
to a cached key (same size or not) makes it the newest, a GET hit does not
move it. ``Cache.__setitem__`` evicts until ``currsize + size <= maxsize``
and refuses a key larger than ``maxsize`` (``ValueError('value too
large')``); the capacity is ``maxsize`` in objects (``getsizeof`` None) or
bytes (``getsizeof`` = the request's size). The order is ``lru``'s recency
list (newest at the head, victim at the tail), moved only by a SET, which the
hook reads from ``PolicyInput.ops``. A SET that re-sizes a cached key evicts
the same victims as the library (see ``cachetools_lru``) and leaves the key
newest, as ``move_to_end`` does.

Simplifications: a SET of a cached key at a size larger than the whole
capacity raises in cachetools and leaves the old value cached; the loop
drops the old copy. A ``popitem`` that takes the re-sized key itself is an
eviction in cachetools, a re-size in the loop. A TTL (the trace's or
``ttl=``) expires keys as the loop does; FIFOCache has none.
"""

from collections import namedtuple
from collections.abc import Mapping
from typing import Any

from numba import njit

from tuner.engine.kernel import is_write, no_op, replay_requests
from tuner.policies import lru
from tuner.policies.base import Policy, PolicyInput
from tuner.policies.linked_list import move_to_head

# lru's recency list, and the requests' operations (None: a read-only trace, where nothing moves).
WriteOrderLinks = namedtuple("WriteOrderLinks", ["links", "ops"])


@njit(inline="always")
def _on_hit(state, arrays, cache, obj, size, now, i):
    if is_write(arrays.ops, i):
        head, tail = move_to_head(arrays.links, state.head, state.tail, obj)
        return lru.replace(state, head=head, tail=tail)
    return state


@njit(inline="always")
def _evict(state, arrays, cache, obj, size, now, i):
    victim = state.tail
    return lru.on_remove(state, arrays, cache, victim, now, i), victim


@njit(cache=True, nogil=True)
def _replay(run, state, arrays):
    return replay_requests(run, state, arrays, _on_hit, no_op, _evict, lru.on_insert, lru.on_remove)


def _init(given: PolicyInput, params: Mapping[str, Any]) -> tuple[lru.RecencyList, WriteOrderLinks]:
    state, (links,) = lru.init_recency_list(given, params)
    return state, WriteOrderLinks(links, given.ops)


POLICY = Policy(
    name="cachetools-fifo",
    summary="cachetools.FIFOCache: the key written longest ago goes (a re-set key moves to the end).",
    init=_init,
    replay=_replay,
    target="cachetools",
)
