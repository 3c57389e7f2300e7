"""Keys as raw bytes, interned to dense ids in order of first appearance.

Readers find each request's key as a byte span of the text they read; this
table hashes the span (FNV-1a over 8-byte words; a key of up to 7 bytes is
packed into one integer that is its own hash input) into an open-addressing table and compares
bytes on a hash match, so two keys are one object only when their bytes are
equal: no decoding, no merging of distinct non-UTF-8 paths, no Python object
per request. Memory grows with the unique keys only.
"""

from __future__ import annotations

import itertools

import numpy as np
from numba import njit

from tuner.wrapping import wrapping_mul

_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)
_EMPTY = -1
_SHORT_BYTES = 7
_BATCH = 256


@njit(cache=True, nogil=True)
def _absorb(buf, start, end, value, word, shift):
    """Fold ``buf[start:end]`` into the hash eight bytes at a time (one multiply per word, not per byte)."""
    for position in range(start, end):
        word |= np.uint64(buf[position]) << np.uint64(shift)
        shift += 8
        if shift == 64:
            value = wrapping_mul(value ^ word, _FNV_PRIME)
            word, shift = np.uint64(0), 0
    return value, word, shift


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
    value = wrapping_mul(value, np.uint64(0xFF51AFD7ED558CCD))
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
def key_hash(buf, prefix_start, prefix_end, start, end):
    """(hash, short) of the key ``buf[prefix] + buf[start:end]``; a short key (``_packed_short``) is its own hash."""
    short = _packed_short(buf, prefix_start, prefix_end, start, end)
    if short >= 0:
        return _finish_hash(np.uint64(short)), short
    value, word, shift = _absorb(buf, prefix_start, prefix_end, _FNV_OFFSET, np.uint64(0), 0)
    value, word, shift = _absorb(buf, start, end, value, word, shift)
    length = np.uint64((prefix_end - prefix_start) + (end - start))
    return _finish_hash(wrapping_mul(value ^ word ^ (length << np.uint64(56)), _FNV_PRIME)), short


@njit(cache=True, nogil=True)
def _too_full(n_keys, n_slots):
    """Above 70% load linear probing slows down; below it the table wastes cache (16 bytes a slot)."""
    return 10 * n_keys > 7 * n_slots


@njit(cache=True, nogil=True)
def _store_key(buf, prefix_start, prefix_end, start, end, key, data, offsets):
    at = offsets[key]
    for position in range(prefix_start, prefix_end):
        data[at] = buf[position]
        at += 1
    for position in range(start, end):
        data[at] = buf[position]
        at += 1
    offsets[key + 1] = at


@njit(cache=True, nogil=True)
def _intern(buf, prefix_starts, prefix_ends, starts, ends, first, ids, slots, hashes, data, offsets, count):
    """Set ``ids[i]`` for the keys ``buf[prefix] + buf[start:end]`` from ``first`` on; new keys are appended.

    A slot holds (hash, 2 * id + short?) side by side. Hashing a short key is
    a bijection of its packed bytes, so equal hashes of two short keys mean
    equal keys: one memory access finds them; longer keys compare bytes.
    Hashes are computed a batch ahead of the probes so the table's cache
    misses overlap. Stops early when the table is too full (see ``_too_full``) or the key arrays
    are full, and returns (count, where it stopped) so the caller can grow
    them and go on.
    """
    mask = len(slots) // 2 - 1
    batch_hashes, batch_short = np.empty(_BATCH, np.uint64), np.empty(_BATCH, np.bool_)
    for batch_start in range(first, len(starts), _BATCH):
        batch_end = min(batch_start + _BATCH, len(starts))
        for i in range(batch_start, batch_end):
            value, short = key_hash(buf, prefix_starts[i], prefix_ends[i], starts[i], ends[i])
            batch_hashes[i - batch_start], batch_short[i - batch_start] = value, short >= 0
        for i in range(batch_start, batch_end):
            length = (prefix_ends[i] - prefix_starts[i]) + (ends[i] - starts[i])
            if _too_full(count + 1, mask + 1) or count + 2 > len(hashes) or offsets[count] + length > len(data):
                return count, i
            value, short = batch_hashes[i - batch_start], batch_short[i - batch_start]
            signed = np.int64(value)
            slot = np.int64(value & np.uint64(mask))
            while True:
                tagged = slots[2 * slot + 1]
                if tagged == _EMPTY:
                    key = count
                    slots[2 * slot], slots[2 * slot + 1] = signed, 2 * key + short
                    hashes[key] = value
                    _store_key(buf, prefix_starts[i], prefix_ends[i], starts[i], ends[i], key, data, offsets)
                    count += 1
                    break
                key = tagged >> 1
                if (slots[2 * slot] == signed and (tagged & 1) == short
                        and (short or _equal(data, offsets, key, buf, prefix_starts[i], prefix_ends[i], starts[i],
                                             ends[i]))):  # fmt: skip
                    break
                slot = (slot + 1) & mask
            ids[i] = np.int32(key)
    return count, len(starts)


@njit(cache=True, nogil=True)
def _intern_hashed(buf, spans, key_hashes, shorts, first, ids, slots, hashes, data, offsets, count):
    """``_intern`` for keys a parser hashed already (in parallel): ``spans`` rows are (start, end, prefix)."""
    mask = len(slots) // 2 - 1
    for i in range(first, len(ids)):
        start, end, prefix_start, prefix_end = spans[i, 0], spans[i, 1], spans[i, 2], spans[i, 3]
        length = (prefix_end - prefix_start) + (end - start)
        if _too_full(count + 1, mask + 1) or count + 2 > len(hashes) or offsets[count] + length > len(data):
            return count, i
        value, short = key_hashes[i], np.int64(shorts[i])
        signed = np.int64(value)
        slot = np.int64(value & np.uint64(mask))
        while True:
            tagged = slots[2 * slot + 1]
            if tagged == _EMPTY:
                key = count
                slots[2 * slot], slots[2 * slot + 1] = signed, 2 * key + short
                hashes[key] = value
                _store_key(buf, prefix_start, prefix_end, start, end, key, data, offsets)
                count += 1
                break
            key = tagged >> 1
            if (slots[2 * slot] == signed and (tagged & 1) == short
                    and (short or _equal(data, offsets, key, buf, prefix_start, prefix_end, start, end))):  # fmt: skip
                break
            slot = (slot + 1) & mask
        ids[i] = np.int32(key)
    return count, len(ids)


@njit(cache=True, nogil=True)
def _rehash(hashes, offsets, count, n_slots):
    slots = np.full(2 * n_slots, _EMPTY, np.int64)
    mask = n_slots - 1
    for key in range(count):
        slot = np.int64(hashes[key] & np.uint64(mask))
        while slots[2 * slot + 1] != _EMPTY:
            slot = (slot + 1) & mask
        slots[2 * slot] = np.int64(hashes[key])
        slots[2 * slot + 1] = 2 * key + (offsets[key + 1] - offsets[key] <= _SHORT_BYTES)
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
        self.slots = np.full(2 * 1024, _EMPTY, np.int64)
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

    def intern_hashed(
        self, buf: np.ndarray, spans: np.ndarray, key_hashes: np.ndarray, shorts: np.ndarray
    ) -> np.ndarray:
        """Ids of keys a parser has hashed with ``key_hash``: ``buf[prefix] + buf[start:end]`` for each span row
        (start, end, prefix start, prefix end)."""
        ids = np.empty(len(spans), np.int32)
        done = 0
        while True:
            self.count, done = _intern_hashed(buf, spans, key_hashes, shorts, done, ids, self.slots, self.hashes,
                                              self.data, self.offsets, self.count)  # fmt: skip
            if done == len(spans):
                return ids
            self._grow(int(spans[done, 1] - spans[done, 0] + spans[done, 3] - spans[done, 2]))

    def _grow(self, key_bytes: int) -> None:
        """Double whatever stopped the interning kernel: the slots, the key arrays or the key bytes."""
        self.hashes = _grown(self.hashes, self.count + 2)
        self.offsets = _grown(self.offsets, len(self.hashes) + 1)
        self.data = _grown(self.data, int(self.offsets[self.count]) + key_bytes)
        n_slots = len(self.slots) // 2
        if _too_full(self.count + 1, n_slots):
            self.slots = _rehash(self.hashes, self.offsets, self.count, 2 * n_slots)

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
