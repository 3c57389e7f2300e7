"""Decimal fields parsed in place from a byte buffer, for the compiled text readers.

Each returns a sentinel (-1, or NaN) for a malformed field instead of
raising, so a parser can count the bad line and go on.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def digits(buf, position, count):
    """The ``count`` decimal digits at ``position`` as an integer; -1 if any is not a digit."""
    value = 0
    for k in range(count):
        byte = np.int64(buf[position + k])  # uint8 arithmetic would wrap (without the JIT)
        if byte < 48 or byte > 57:
            return -1
        value = value * 10 + (byte - 48)
    return value


@njit(cache=True, nogil=True)
def unsigned(buf, start, end, dash_is_zero):
    """A decimal integer field; ``-`` may mean 0; -1 when malformed."""
    if dash_is_zero and end - start == 1 and buf[start] == 45:
        return 0
    if end <= start or end - start > 18:
        return -1
    return digits(buf, start, end - start)


@njit(cache=True, nogil=True)
def seconds(buf, start, end):
    """``1700000000.123`` as float, NaN when malformed."""
    value, scale, seen_point, seen_digits = 0.0, 1.0, False, 0
    for position in range(start, end):
        byte = buf[position]
        if byte == 46 and not seen_point:
            seen_point = True
        elif 48 <= byte <= 57:
            seen_digits += 1
            if seen_point:
                scale /= 10.0
                value += (byte - 48) * scale
            else:
                value = value * 10.0 + (byte - 48)
        else:
            return np.nan
    return value if seen_digits else np.nan


_LARGEST_TTL = float(np.finfo(np.float32).max)


@njit(cache=True, nogil=True)
def ttl_seconds(buf, start, end):
    """A time to live in seconds (a number ≥ 0, stored as float32); an empty field is 0, no TTL; NaN when malformed."""
    if end <= start:
        return 0.0
    value = seconds(buf, start, end)
    return value if value <= _LARGEST_TTL else np.nan
