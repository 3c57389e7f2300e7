"""The removal hook: every policy lets an object leave without choosing it (a DELETE), and stays consistent.

These tests drive each policy's compiled loop with DELETE requests directly,
through the kernel's ``Requests.ops``, one segment a request, so each
request's hit and the loop's final tally are both in view.
"""

from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tuner
from tests.policy_checks import ANY_CAPACITY, TIMEOUT_NEEDED
from tuner.engine import kernel
from tuner.policies import POLICIES, PolicyInput
from tuner.trace import DELETE, GET


def replay_with_deletes(keys, deletes, capacity, policy_name, sizes=None, seed=0, **params):
    """Per-request hit flags and the final tally of replaying ``keys`` where ``deletes[i]`` marks a DELETE
    (``params``: the policy's own, defaults for the rest)."""
    trace = tuner.Trace.from_arrays(keys, sizes=sizes)
    policy = POLICIES[policy_name]
    ops = np.where(np.asarray(deletes, bool), DELETE, GET).astype(np.int8)
    count_objects = sizes is None
    bounds = np.arange(1, len(trace) + 1, dtype=np.int64)  # one segment a request: its hit flag
    held = np.full(trace.n_objects, -1, np.int8 if count_objects else np.int32)
    timeout = TIMEOUT_NEEDED.get(policy_name)  # a model whose product has a timeout gets one no trace here outlives
    # The loop's inputs in the shapes ``tuner.replay`` gives a trace with writes (expiry: TTLs and timeout).
    requests = kernel.Requests(trace.ids, trace.sizes, trace.timestamps, bounds, ops,
                               None if timeout is None else trace.ttls)  # fmt: skip
    cache = kernel.Cache(held, np.zeros(kernel.N_TALLY, np.int64), None,
                         kernel.new_expiries(trace.n_objects, timeout is not None))  # fmt: skip
    unit_sizes = trace.unit_sizes if count_objects else trace.sizes
    # The policy sees only what it would be told: the requests and their operations, not their outcome.
    given = PolicyInput(trace.ids, unit_sizes, trace.timestamps, trace.n_objects, capacity, seed, removes=True,
                        ops=ops, ttl=timeout)  # fmt: skip
    state, arrays = policy.init(given, policy.resolve_params(params))
    run = kernel.Run(requests, np.int64(capacity), cache, timeout, kernel.WRITE_THROUGH, 0.0,
                     np.int64(np.iinfo(np.int64).max))  # fmt: skip
    _, segment_hits, _, _ = policy.replay(run, state, arrays)
    return segment_hits.astype(bool).tolist(), cache, trace


def reference(keys, deletes, capacity, reorder_on_hit):
    """LRU (``reorder_on_hit``) or FIFO over an ordered dict, with deletes."""
    resident: OrderedDict = OrderedDict()
    hits = []
    for key, delete in zip(keys, deletes, strict=True):
        if delete:
            resident.pop(key, None)
            hits.append(False)
        elif key in resident:
            hits.append(True)
            if reorder_on_hit:
                resident.move_to_end(key)
        else:
            hits.append(False)
            if len(resident) == capacity:
                resident.popitem(last=False)
            resident[key] = True
    return hits


requests = st.lists(st.tuples(st.integers(0, 12), st.integers(0, 5).map(lambda r: r == 0)), min_size=1, max_size=120)


@settings(max_examples=150, deadline=None)
@given(requests, st.integers(1, 8))
def test_lru_and_fifo_with_deletes_equal_the_reference(pairs, capacity):
    keys = [key for key, _ in pairs]
    deletes = [delete for _, delete in pairs]
    for name, reorder in (("lru", True), ("fifo", False)):
        hits, _, _ = replay_with_deletes(keys, deletes, capacity, name)
        assert hits == reference(keys, deletes, capacity, reorder), name


@pytest.mark.parametrize("name", ANY_CAPACITY)
@settings(max_examples=60, deadline=None)
@given(requests, st.integers(1, 8))
def test_every_policy_stays_consistent_through_deletes(name, pairs, capacity):
    keys = [key for key, _ in pairs]
    deletes = [delete for _, delete in pairs]
    hits, cache, _ = replay_with_deletes(keys, deletes, capacity, name)
    held = cache.held
    # A deleted object is gone: its next read misses unless it was read (and admitted) in between.
    gone = set()
    for key, delete, hit in zip(keys, deletes, hits, strict=True):
        if delete:
            gone.add(key)
            assert not hit
        else:
            assert not (hit and key in gone), f"{name} hit {key} after its delete"
            gone.discard(key)
    # The loop's capacity in use is what is held: every victim a policy named was resident, once.
    resident = int(np.count_nonzero(held >= 0))
    assert cache.tally[kernel.USED] == resident <= capacity
    assert cache.tally[kernel.REMOVED] <= cache.tally[kernel.BACKEND_WRITES] == sum(deletes)
