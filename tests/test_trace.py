import numpy as np
import pytest

from tuner.trace import Trace


def test_ids_are_dense_in_order_of_first_appearance():
    trace = Trace.from_arrays(["b", "a", "b", "c", "a"])
    assert trace.ids.tolist() == [0, 1, 0, 2, 1]
    assert trace.ids.dtype == np.int32
    assert trace.keys[trace.ids].tolist() == ["b", "a", "b", "c", "a"]
    assert trace.n_objects == 3


def test_defaults_one_second_apart_and_unit_sizes():
    trace = Trace.from_arrays([5, 6, 7])
    assert trace.timestamps.tolist() == [0.0, 1.0, 2.0]
    assert trace.span_seconds == 2.0
    assert not trace.has_sizes
    assert Trace.from_arrays([5, 6], sizes=[10, 20]).has_sizes


def test_working_set_counts_each_object_once_at_its_largest_size():
    trace = Trace.from_arrays([1, 2, 1], sizes=[10, 5, 30])
    assert trace.working_set_bytes == 35


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"sizes": [1, -1]}, "negative"), ({"timestamps": [2.0, 1.0]}, "decrease")],
)
def test_rejects_inconsistent_columns(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Trace.from_arrays([1, 2], **kwargs)
