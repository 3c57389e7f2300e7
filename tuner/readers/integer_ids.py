"""Integer object ids to dense ids in order of first appearance, chunk by chunk.

What ``pandas.factorize`` gives for a whole column, built up over a stream:
an open-addressing table (linear probing, splitmix64 hash) whose slots hold
only dense ids (int32, 4 bytes) and compare against the keys array, so the
memory is about 8 bytes a key plus 4 to 8 bytes a slot, and grows with the
distinct objects, never with the requests.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tuner.wrapping import wrapping_mul

_EMPTY = np.int32(-1)


@njit(cache=True, nogil=True)
def _slot_of(key, mask):
    """splitmix64's finaliser of the key, masked to the table (spreads sequential ids over the slots)."""
    mixed = key + np.uint64(0x9E3779B97F4A7C15)
    mixed = wrapping_mul(mixed ^ (mixed >> np.uint64(30)), np.uint64(0xBF58476D1CE4E5B9))
    mixed = wrapping_mul(mixed ^ (mixed >> np.uint64(27)), np.uint64(0x94D049BB133111EB))
    return np.int64((mixed ^ (mixed >> np.uint64(31))) & np.uint64(mask))


@njit(cache=True, nogil=True)
def _intern(values, first, ids, slots, keys, count):
    """Set ``ids[i]`` for ``values[i]`` from ``first`` on, appending new keys; stops when the table is 70%
    full or the keys array is full, returning (count, where it stopped) so the caller can grow them."""
    mask = len(slots) - 1
    for i in range(first, len(values)):
        if 10 * (count + 1) > 7 * len(slots) or count == len(keys):
            return count, i
        value = values[i]
        slot = _slot_of(value, mask)
        while True:
            known = slots[slot]
            if known == _EMPTY:
                slots[slot] = count
                keys[count] = value
                ids[i] = count
                count += 1
                break
            if keys[known] == value:
                ids[i] = known
                break
            slot = (slot + 1) & mask
    return count, len(values)


@njit(cache=True, nogil=True)
def _rehash(keys, count, n_slots):
    slots = np.full(n_slots, _EMPTY, np.int32)
    mask = n_slots - 1
    for key in range(count):
        slot = _slot_of(keys[key], mask)
        while slots[slot] != _EMPTY:
            slot = (slot + 1) & mask
        slots[slot] = key
    return slots


class IntegerIds:
    """uint64 object ids to dense int32 ids, first appearance first, across any number of chunks."""

    def __init__(self) -> None:
        self.count = 0
        self.slots = np.full(1 << 12, _EMPTY, np.int32)
        self.key_store = np.empty(1 << 11, np.uint64)

    def intern(self, values: np.ndarray) -> np.ndarray:
        """Dense ids of ``values`` (uint64), numbering unseen ones after every id given so far."""
        values = np.ascontiguousarray(values, np.uint64)
        ids = np.empty(len(values), np.int32)
        done = 0
        while True:
            self.count, done = _intern(values, done, ids, self.slots, self.key_store, self.count)
            if done == len(values):
                return ids
            if self.count == len(self.key_store):
                grown = np.empty(2 * len(self.key_store), np.uint64)
                grown[: self.count] = self.key_store[: self.count]
                self.key_store = grown
            if 10 * (self.count + 1) > 7 * len(self.slots):
                self.slots = _rehash(self.key_store, self.count, 2 * len(self.slots))

    @property
    def keys(self) -> np.ndarray:
        """The distinct ids seen, in order of first appearance (a view: ``keys[dense id]``)."""
        return self.key_store[: self.count]
