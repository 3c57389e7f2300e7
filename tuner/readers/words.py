"""Short words (operations, HTTP methods) matched in a byte buffer, ASCII case ignored.

A table is its words lower-cased and packed end to end, with their offsets, so
a compiled parser can match a field without making a Python string.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numba import njit


def pack_words(words: Iterable[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """``(packed lower-case bytes, offsets)``: word ``k`` is ``packed[offsets[k]:offsets[k + 1]]``."""
    lowered = [word.lower() for word in words]
    offsets = np.cumsum([0] + [len(word) for word in lowered]).astype(np.int64)
    return np.frombuffer(b"".join(lowered) or b"\0", np.uint8), offsets


@njit(cache=True, nogil=True)
def word_index(buf, start, end, packed, offsets):
    """Which word of the table ``buf[start:end]`` is, ASCII case ignored; -1 for none."""
    for k in range(len(offsets) - 1):
        first = offsets[k]
        if offsets[k + 1] - first != end - start:
            continue
        same = True
        for offset in range(end - start):
            byte = buf[start + offset]
            if 65 <= byte <= 90:
                byte += 32
            if byte != packed[first + offset]:
                same = False
                break
        if same:
            return k
    return -1
