"""Intrusive doubly linked lists over dense object ids, for compiled policies.

``links[obj] = (prev, next)`` with -1 for none; one ``links`` array can hold
several lists at once (ARC's four, S3-FIFO's two) as long as an object is in
at most one of them. A list is just its ``(head, tail)`` pair, which the caller
keeps in its state tuple so it stays in registers. The head is the most
recently pushed end.
"""

import numpy as np
from numba import njit

NONE = np.int32(-1)


def new_links(n_objects: int) -> np.ndarray:
    """Links for ``n_objects`` ids, all unlinked."""
    return np.full((max(n_objects, 1), 2), -1, np.int32)


@njit(inline="always")
def push_head(links, head, tail, obj):
    """Link ``obj`` at the head; returns the new ``(head, tail)``."""
    links[np.uint32(obj), 0] = NONE
    links[np.uint32(obj), 1] = head
    if head >= 0:
        links[np.uint32(head), 0] = obj
    else:
        tail = obj
    return np.int32(obj), tail


@njit(inline="always")
def _bypass(links, head, tail, obj):
    """Join ``obj``'s neighbours to each other; returns the new ``(head, tail)``. ``obj``'s own links stay."""
    prev = links[obj, 0]
    nxt = links[obj, 1]
    if prev >= 0:
        links[np.uint32(prev), 1] = nxt
    else:
        head = nxt
    if nxt >= 0:
        links[np.uint32(nxt), 0] = prev
    else:
        tail = prev
    return head, tail


@njit(inline="always")
def unlink(links, head, tail, obj):
    """Remove ``obj`` from the list; returns the new ``(head, tail)``."""
    at = np.uint32(obj)
    head, tail = _bypass(links, head, tail, at)
    links[at, 0] = NONE
    links[at, 1] = NONE
    return head, tail


@njit(inline="always")
def move_to_head(links, head, tail, obj):
    """Unlink ``obj`` and push it at the head again (its own links are rewritten, not cleared first)."""
    if obj == head:
        return head, tail
    head, tail = _bypass(links, head, tail, np.uint32(obj))
    return push_head(links, head, tail, obj)
