"""Reuse intervals: from one request of an object to its next, what keeping it cached in between costs.

A hit at request ``e`` on an object last requested at ``s`` needs the object
held across every gap between requests from ``s`` to ``e`` (``e - s`` gaps),
so it costs ``size × (e - s)`` of the cache's space-time; a cache of
``capacity`` units has ``capacity × (n - 1)`` of it over ``n`` requests (one
``capacity`` per gap between two requests). Whatever a cache does, the
intervals it hits on fit in that budget. Taking the cheapest intervals first
then gives the most hits any cache could have: the lower bound on misses of
Berger, Beckmann and Harchol-Balter, "Practical Bounds on Optimal Caching
with Variable Object Sizes", SIGMETRICS 2018 (PFOO-L), whose published code
(dasebe/optimalwebcaching, ``OHRgoal/PFOO-L``) sorts each request's interval
to its next request by ``size × distance`` and fills ``capacity × n``.

Three choices here are tighter than that code and keep the bound: the budget
counts the ``n - 1`` gaps (not ``n``); an interval of an object larger than
what the cache admits is left out (it can never be a hit); and only whole
intervals are taken (the code counts the one that crosses the budget).
Taking the smallest costs first maximises how many fit (any ``k`` intervals
cost at least the ``k`` cheapest), so no cache hits more.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tuner.trace import request_scratch

# Next use of a request whose object is never requested again.
NEVER = np.iinfo(np.int64).max


def next_uses(ids: np.ndarray, n_objects: int) -> np.ndarray:
    """``following[i]``: the position of the next request for ``ids[i]``, or NEVER (file-backed beside a
    mapped trace's columns, see ``request_scratch``)."""
    following = request_scratch(ids, np.int64)
    _fill_next_uses(ids, n_objects, following)
    return following


@njit(cache=True, nogil=True)
def _fill_next_uses(ids, n_objects, following):
    upcoming = np.full(max(n_objects, 1), NEVER, np.int64)
    for i in range(ids.shape[0] - 1, -1, -1):
        obj = ids[i]
        following[i] = upcoming[obj]
        upcoming[obj] = i


def smallest_sizes(ids: np.ndarray, sizes: np.ndarray, n_objects: int) -> np.ndarray:
    """Each object's smallest requested size: a cached copy holds at least that much, whichever request
    wrote it (an interval charged at it never costs more than the cache pays)."""
    smallest = np.full(max(n_objects, 1), np.iinfo(np.int64).max, np.int64)
    np.minimum.at(smallest, ids, sizes.astype(np.int64, copy=False))
    return smallest


def interval_costs(ids, sizes, n_objects, largest, counted=None, following=None):
    """The space-time cost of every reuse interval a hit could end, sorted, cheapest first.

    ``largest`` is the largest object the cache admits (its capacity, or a
    smaller size limit): an object above it is never a hit. ``counted``, when
    given, is a boolean per interval start (aligned with ``ids``) saying
    whether the interval from that request to its next can end in a hit
    (the caller's rule for operations); without it, every one can.
    ``following`` are ``next_uses(ids, n_objects)`` when the caller has them.
    """
    following = next_uses(ids, n_objects) if following is None else following
    starts = np.flatnonzero(following != NEVER)
    if counted is not None:
        starts = starts[counted[starts]]
    smallest = smallest_sizes(ids, sizes, n_objects)[ids[starts]]
    fits = smallest <= largest
    starts, smallest = starts[fits], smallest[fits]
    costs = smallest * (following[starts] - starts)
    costs.sort(kind="stable")
    return costs


def cheapest_that_fit(costs: np.ndarray, capacity: int, n_requests: int) -> int:
    """How many of the sorted ``costs`` fit, cheapest first, in ``capacity × (n_requests - 1)``.

    Summed in float64: exact while the total stays below 2**53; beyond, a
    rounding of one part in 10**16 at the budget's edge.
    """
    budget = float(capacity) * float(max(n_requests - 1, 0))
    spent = np.cumsum(costs, dtype=np.float64)
    return int(np.searchsorted(spent, budget, side="right"))
