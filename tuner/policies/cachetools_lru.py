"""cachetools-lru: cachetools 8.0.3 ``LRUCache(maxsize, getsizeof)``, driven as an application drives it.

Follows ``cachetools/__init__.py`` 8.0.3: ``LRUCache.__getitem__`` (a hit
moves the key to the end of one OrderedDict), ``LRUCache.__setitem__`` (a new
key is appended, a re-set one moved to the end), ``LRUCache.popitem`` (the
victim is the first key: the least recently read or written) and
``Cache.__setitem__`` (evict until ``currsize + size <= maxsize``; a key
larger than ``maxsize`` raises ``ValueError('value too large')`` and is not
stored). The capacity is ``maxsize``: an object count (``getsizeof`` None,
each key 1) or bytes (``getsizeof`` = the request's size; zero is allowed).
This is exactly ``lru``'s hooks: reads and writes both move a key to the
newest end, and a SET that re-sizes a cached key evicts the same victims in
both, since ``Cache.__setitem__`` evicts while ``currsize - old + new >
maxsize`` with the key in its place, and whether ``popitem`` takes the key
itself on the way (freeing nothing the loop had not freed already) the
others leave in the same order and the key ends newest.

Simplifications: a SET of a cached key at a size larger than the whole
capacity raises in cachetools and leaves the old value cached; the loop
drops the old copy (the next GET misses). A ``popitem`` that takes the
re-sized key itself counts as an eviction in cachetools; the loop counts it
as a re-size, not an eviction. A TTL (the trace's or ``ttl=``) expires keys
as the loop does; LRUCache itself has none (use cachetools-ttl).
"""

from tuner.policies import lru
from tuner.policies.base import Policy

POLICY = Policy(
    name="cachetools-lru",
    summary="cachetools.LRUCache: the least recently read or written key goes; maxsize in objects or bytes.",
    init=lru.init_recency_list,
    replay=lru.POLICY.replay,
    target="cachetools",
)
