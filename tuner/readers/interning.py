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
def _finish_hash(value):
    """Spread FNV's bits (murmur3's finaliser) so linear probing stays short."""
    value ^= value >> np.uint64(33)
    value *= np.uint64(0xFF51AFD7ED558CCD)
    value ^= value >> np.uint64(33)
    return value


@njit(cache=True, nogil=True)
def _packed_short(buf, prefix_start, prefix_end, start, end):
    """A key of at most 7 bytes as one int64 (length in the top byte), -1 for longer keys."""
    length = (prefix_end - prefix_start) + (end - start)
    if length > 7:
        return np.int64(-1)
    packed = np.int64(length) << 56
    shift = 0
    for position in range(prefix_start, prefix_end):
        packed |= np.int64(buf[position]) << shift
        shift += 8
    for position in range(start, end):
        packed |= np.int64(buf[position]) << shift
        shift += 8
    return packed


@njit(cache=True, nogil=True)
def _intern(buf, prefix_starts, prefix_ends, starts, ends, first, ids, slots, hashes, data, offsets, count):
    """Set ``ids[i]`` for the keys ``buf[prefix] + buf[start:end]`` from ``first`` on; new keys are appended.

    A slot holds (id, hash, short key) side by side, so a key of up to 7 bytes
    is found or ruled out with one memory access; longer keys compare bytes.
    Stops early when the table is half full or the key arrays are full, and
    returns (count, where it stopped) so the caller can grow them and go on.
    """
    mask = len(slots) // 3 - 1
    for i in range(first, len(starts)):
        length = (prefix_ends[i] - prefix_starts[i]) + (ends[i] - starts[i])
        if 2 * (count + 1) > mask + 1 or count + 2 > len(hashes) or offsets[count] + length > len(data):
            return count, i
        value = _hash_bytes(buf, prefix_starts[i], prefix_ends[i], _FNV_OFFSET)
        value = _finish_hash(_hash_bytes(buf, starts[i], ends[i], value))
        signed = np.int64(value)
        short = _packed_short(buf, prefix_starts[i], prefix_ends[i], starts[i], ends[i])
        slot = np.int64(value & np.uint64(mask))
        while True:
            key = slots[3 * slot]
            if key == _EMPTY:
                key = count
                slots[3 * slot], slots[3 * slot + 1], slots[3 * slot + 2] = key, signed, short
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
            if slots[3 * slot + 1] == signed:
                if short >= 0:
                    if slots[3 * slot + 2] == short:
                        break
                elif _equal(data, offsets, key, buf, prefix_starts[i], prefix_ends[i], starts[i], ends[i]):
                    break
            slot = (slot + 1) & mask
        ids[i] = np.int32(key)
    return count, len(starts)


@njit(cache=True, nogil=True)
def _rehash(hashes, data, offsets, count, n_slots):
    slots = np.full(3 * n_slots, _EMPTY, np.int64)
    mask = n_slots - 1
    for key in range(count):
        slot = np.int64(hashes[key] & np.uint64(mask))
        while slots[3 * slot] != _EMPTY:
            slot = (slot + 1) & mask
        slots[3 * slot], slots[3 * slot + 1] = key, np.int64(hashes[key])
        slots[3 * slot + 2] = _packed_short(data, 0, 0, offsets[key], offsets[key + 1])
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
        self.slots = np.full(3 * 1024, _EMPTY, np.int64)
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
        ids = np.empty(len(starts), np.int32)
        done = 0
        while True:
            self.count, done = _intern(buf, prefix_starts, prefix_ends, starts, ends, done, ids, self.slots,
                                       self.hashes, self.data, self.offsets, self.count)  # fmt: skip
            if done == len(starts):
                return ids
            self._grow(int(ends[done] - starts[done] + prefix_ends[done] - prefix_starts[done]))

    def _grow(self, key_bytes: int) -> None:
        """Double whatever stopped the interning kernel: the slots, the key arrays or the key bytes."""
        self.hashes = _grown(self.hashes, self.count + 2)
        self.offsets = _grown(self.offsets, len(self.hashes) + 1)
        self.data = _grown(self.data, int(self.offsets[self.count]) + key_bytes)
        n_slots = len(self.slots) // 3
        if 2 * (self.count + 1) > n_slots:
            self.slots = _rehash(self.hashes, self.data, self.offsets, self.count, 2 * n_slots)

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
