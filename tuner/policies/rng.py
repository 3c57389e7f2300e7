"""A tiny random generator whose whole state is one uint64, for compiled policies.

Randomized policies keep the generator's state in their state tuple, so it
stays in a register inside the replay loop and a run is reproducible from
``PolicyInput.seed`` alone. The generator is SplitMix64 (Steele, Lea & Flood,
"Fast splittable pseudorandom number generators", OOPSLA 2014): add a
constant to the state, then scramble it with two xor-shift-multiply rounds.
Any seed, zero included, is a valid start.

``below(rng, n)`` draws uniformly from ``0 .. n-1`` with Lemire's
multiply-and-shift on the top 32 bits of a draw, rejecting the few values
that would bias the result ("Fast random integer generation in an
interval", ACM TOMACS 2019), so the draw is exactly uniform for any
``n < 2**32``. Arithmetic wraps modulo 2**64 on purpose.
"""

import numpy as np
from numba import njit

from tuner.wrapping import wrapping_add, wrapping_mul

_GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_LOW_32 = np.uint64(0xFFFFFFFF)
_TWO_32 = np.uint64(1 << 32)


def seed_state(seed: int) -> np.uint64:
    """The generator state for an integer seed (any int, taken modulo 2**64)."""
    return np.uint64(int(seed) % (1 << 64))


@njit(inline="always")
def next_u64(rng):
    """Advance the state; returns ``(new_state, 64 random bits)``."""
    rng = wrapping_add(rng, _GOLDEN_GAMMA)
    z = rng
    z = wrapping_mul(z ^ (z >> np.uint64(30)), _MIX_1)
    z = wrapping_mul(z ^ (z >> np.uint64(27)), _MIX_2)
    return rng, z ^ (z >> np.uint64(31))


@njit(inline="always")
def below(rng, n):
    """``(new_state, k)`` with ``k`` uniform in ``0 .. n-1`` (``1 <= n < 2**32``)."""
    bound = np.uint64(n)
    rng, bits = next_u64(rng)
    product = (bits >> np.uint64(32)) * bound
    low = product & _LOW_32
    if low < bound:
        # Values of ``low`` below 2**32 mod n belong to one outcome too many.
        threshold = (_TWO_32 - bound) % bound
        while low < threshold:
            rng, bits = next_u64(rng)
            product = (bits >> np.uint64(32)) * bound
            low = product & _LOW_32
    return rng, np.int64(product >> np.uint64(32))
