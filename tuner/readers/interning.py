"""Keys as raw bytes, interned to dense ids in order of first appearance.

Readers find each request's key as a byte span of the text they read; this
table hashes the span (FNV-1a) into an open-addressing table and compares
bytes on a hash match, so two keys are one object only when their bytes are
equal: no decoding, no merging of distinct non-UTF-8 paths, no Python object
per request. Memory grows with the unique keys only.
"""

from __future__ import annotations

import itertools

import numpy as np
from numba import njit

_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)
_EMPTY = -1


@njit(cache=True, nogil=True)
def _hash_bytes(buf, start, end, value):
    for position in range(start, end):
        value = (value ^ np.uint64(buf[position])) * _FNV_PRIME
    return value


@njit(cache=True, nogil=True)
def _equal(data, offsets, key, buf, prefix_start, prefix_end, start, end):
    stored = offsets[key]
    length = (prefix_end - prefix_start) + (end - start)
    if offsets[key + 1] - stored != length:
        return False
    at = stored
    for position in range(prefix_start, prefix_end):
        if data[at] != buf[position]:
            return False
        at += 1
    for position in range(start, end):
        if data[at] != buf[position]:
            return False
        at += 1
    return True


@njit(cache=True, nogil=True)
def _intern(buf, prefix_starts, prefix_ends, starts, ends, slots, hashes, data, offsets, count):
    """Ids of the keys ``buf[prefix] + buf[start:end]``; new keys are appended. Returns (ids, count)."""
    mask = len(slots) - 1
    ids = np.empty(len(starts), np.int32)
    for i in range(len(starts)):
        value = _hash_bytes(buf, prefix_starts[i], prefix_ends[i], _FNV_OFFSET)
        value = _hash_bytes(buf, starts[i], ends[i], value)
        slot = np.int64(value & np.uint64(mask))
        while True:
            key = slots[slot]
            if key == _EMPTY:
                key = count
                slots[slot] = key
                hashes[key] = value
                at = offsets[key]
                for position in range(prefix_starts[i], prefix_ends[i]):
                    data[at] = buf[position]
                    at += 1
                for position in range(starts[i], ends[i]):
                    data[at] = buf[position]
                    at += 1
                offsets[key + 1] = at
                count += 1
                break
            if hashes[key] == value and _equal(data, offsets, key, buf, prefix_starts[i], prefix_ends[i],
                                               starts[i], ends[i]):  # fmt: skip
                break
            slot = (slot + 1) & mask
        ids[i] = key
    return ids, count


@njit(cache=True, nogil=True)
def _rehash(hashes, count, n_slots):
    slots = np.full(n_slots, _EMPTY, np.int32)
    mask = n_slots - 1
    for key in range(count):
        slot = np.int64(hashes[key] & np.uint64(mask))
        while slots[slot] != _EMPTY:
            slot = (slot + 1) & mask
        slots[slot] = key
    return slots


def _grown(array: np.ndarray, needed: int) -> np.ndarray:
    if needed <= len(array):
        return array
    bigger = np.empty(max(needed, 2 * len(array)), array.dtype)
    bigger[: len(array)] = array
    return bigger


class KeyTable:
    """Byte-string keys to dense int32 ids, first appearance first."""

    def __init__(self) -> None:
        self.count = 0
        self.slots = np.full(1024, _EMPTY, np.int32)
        self.hashes = np.empty(512, np.uint64)
        self.offsets = np.zeros(513, np.int64)
        self.data = np.empty(4096, np.uint8)

    def intern(
        self,
        buf: np.ndarray,
        starts: np.ndarray,
        ends: np.ndarray,
        prefix_starts: np.ndarray | None = None,
        prefix_ends: np.ndarray | None = None,
    ) -> np.ndarray:
        """Ids of ``buf[prefix_start:prefix_end] + buf[start:end]`` for each span."""
        starts, ends = np.asarray(starts, np.int64), np.asarray(ends, np.int64)
        if prefix_starts is None:
            prefix_starts = prefix_ends = np.zeros(len(starts), np.int64)
        prefix_starts, prefix_ends = np.asarray(prefix_starts, np.int64), np.asarray(prefix_ends, np.int64)
        most_keys = self.count + len(starts)
        self.hashes = _grown(self.hashes, most_keys)
        self.offsets = _grown(self.offsets, most_keys + 1)
        new_bytes = int((ends - starts).sum() + (prefix_ends - prefix_starts).sum())
        self.data = _grown(self.data, int(self.offsets[self.count]) + new_bytes)
        if 2 * most_keys > len(self.slots):
            n_slots = 1 << int(2 * most_keys).bit_length()
            self.slots = _rehash(self.hashes, self.count, n_slots)
        ids, self.count = _intern(buf, prefix_starts, prefix_ends, starts, ends, self.slots, self.hashes,
                                  self.data, self.offsets, self.count)  # fmt: skip
        return ids

    def packed(self) -> tuple[np.ndarray, np.ndarray]:
        """The keys as one byte array and ``count + 1`` offsets into it (compact, for the trace cache)."""
        offsets = self.offsets[: self.count + 1].copy()
        return self.data[: offsets[-1]].copy(), offsets


def unpack_keys(data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """An object array of ``bytes`` keys from packed bytes and offsets."""
    blob = data.tobytes()
    bounds = offsets.tolist()
    keys = np.empty(len(bounds) - 1, object)
    keys[:] = [blob[start:stop] for start, stop in itertools.pairwise(bounds)]
    return keys
