"""Short words (operations, HTTP methods) matched in a byte buffer, ASCII case ignored.

A table is its words lower-cased and packed end to end, with their offsets, so
a compiled parser can match a field without making a Python string. One table,
``OPERATIONS``, names the ``Trace.ops`` codes for every reader whose operations
are free text: a csv operation column, an access log's HTTP method. A format
with a fixed vocabulary (the memcached commands of Twitter's traces) builds its
own with ``operation_table``, so a word it never uses is not taken for one.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numba import njit

from tuner.trace import DELETE, GET, SET

OPERATION_WORDS = {
    GET: (b"get", b"gets", b"read", b"r", b"lookup", b"head"),
    SET: (b"set", b"write", b"w", b"put", b"insert", b"add", b"update", b"replace", b"cas", b"append", b"prepend",
          b"incr", b"decr", b"post"),
    DELETE: (b"delete", b"del", b"remove", b"evict"),
}  # fmt: skip


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


def operation_table(words_by_code: dict[int, Iterable[bytes]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(packed words, offsets, the operation code of each word), as ``operation_code`` takes them."""
    named = [(word, code) for code, words in words_by_code.items() for word in words]
    return (*pack_words(word for word, _ in named), np.array([code for _, code in named], np.int8))


OPERATIONS = operation_table(OPERATION_WORDS)


@njit(cache=True, nogil=True)
def operation_code(buf, start, end, words, offsets, codes):
    """The operation ``buf[start:end]`` names (blanks around it stripped, any case), -1 when unknown."""
    while start < end and (buf[start] == 32 or 9 <= buf[start] <= 13):
        start += 1
    while end > start and (buf[end - 1] == 32 or 9 <= buf[end - 1] <= 13):
        end -= 1
    k = word_index(buf, start, end, words, offsets)
    return codes[k] if k >= 0 else -1
