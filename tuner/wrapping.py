"""uint64 arithmetic that wraps modulo 2**64, compiled or not.

Hashes and random generators multiply on purpose past 2**64. Compiled code
wraps silently; with NUMBA_DISABLE_JIT=1 (the coverage run) the same numpy
scalar operations would warn about overflow, so there these helpers silence
exactly that warning and nothing else.
"""

import numpy as np
from numba import config, njit


@njit(inline="always")
def wrapping_add(a, b):
    return a + b


@njit(inline="always")
def wrapping_mul(a, b):
    return a * b


if config.DISABLE_JIT:

    def wrapping_add(a, b):
        with np.errstate(over="ignore"):
            return a + b

    def wrapping_mul(a, b):
        with np.errstate(over="ignore"):
            return a * b
