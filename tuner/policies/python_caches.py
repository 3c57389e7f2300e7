"""What the models of Python's caches (``functools_lru``, ``cachetools_*``) share: telling a write that
re-sizes a cached key from a removal, and whether a cached key has expired.

An application drives a cachetools cache as ``cache[key]`` (a GET: a hit, or a
KeyError and then ``cache[key] = value``), ``cache[key] = value`` (a SET) and
``cache.pop(key, None)`` (a DELETE); the shared loop replays a trace the same
way under write-through or write-back. Where the library does something the
loop's hooks cannot see on their own, a model reads it here:

- ``is_write`` (the engine's): whether request ``i`` is a SET (FIFOCache moves
  a re-set key to the end; TTLCache restarts its clock), from ``PolicyInput.ops``.
- ``resizing``: cachetools 8.0.3 ``Cache.__setitem__`` keeps a key whose
  value grows in its place while it evicts for it (``popitem`` may then take
  the key itself), and afterwards the subclass treats the key as re-set
  (``LFUCache.__touch``: its count goes up; ``RRCache``: it keeps its slot).
  The loop instead removes the key (``on_remove``) and admits it again. A
  model that must keep the key in place keeps it on that ``on_remove`` and
  remembers it as *pending*: its ``evict`` skips past it (dropping it, as
  ``popitem`` would, if it is the victim), its ``on_insert`` of the same key
  at the same request takes it back as a re-set, and any hook at a later
  request first drops a pending key that never came back (the cache refused
  its new size, or a write-around SET invalidated it).
"""

import numpy as np
from numba import njit

from tuner.engine.kernel import is_write

NO_KEY = np.int64(-1)  # no pending key


@njit(inline="always")
def expired(cache, obj, now):
    """Whether cached ``obj`` has expired at ``now`` (never when nothing expires: ``cache.expires`` then
    holds one unused element)."""
    return np.int64(obj) < cache.expires.shape[0] and cache.expires[np.uint32(obj)] <= now


@njit(inline="always")
def resizing(ops, cache, obj, now, i):
    """Whether the loop removes ``obj`` (the object of request ``i``) because a SET gives it another size,
    to admit it again at once: a SET that finds it unexpired. (A write-around SET that invalidates it
    looks the same here; it never comes back at this request, so it is dropped at the next hook.)"""
    return is_write(ops, i) and not expired(cache, obj, now)


@njit(inline="always")
def overdue(pending, pending_at, i):
    """Whether a pending key (``pending`` >= 0, kept since request ``pending_at``) must now be dropped:
    a hook at a later request runs, so the key did not come back."""
    return pending >= 0 and pending_at != i
