import pytest

from tuner.capacity import BYTES, OBJECTS, parse_capacity


@pytest.mark.parametrize(
    ("spec", "amount", "unit"),
    [
        ("1000", 1000, OBJECTS),
        (999, 999, OBJECTS),
        ("64MiB", 64 * 2**20, BYTES),
        ("1.5GB", 1_500_000_000, BYTES),
        ("128KiB", 131_072, BYTES),
        ("100B", 100, BYTES),
        ("64M", 64 * 2**20, BYTES),
        ("2T", 2 * 2**40, BYTES),
        ("1%", 1_000, OBJECTS),
        ("0.1%", 100, OBJECTS),
        ("0.0001%", 1, OBJECTS),  # rounds up: never an empty cache
    ],
)
def test_reads_counts_bytes_and_percentages(spec, amount, unit):
    capacity = parse_capacity(spec, unique_objects=100_000)
    assert (capacity.amount, capacity.unit) == (amount, unit)


@pytest.mark.parametrize("spec", ["0", "-5", "0%", "abc", "12 parsecs", "1.5", "", "1e400", "1e20", "1e19GB"])
def test_rejects_what_is_not_a_positive_size(spec):
    with pytest.raises(ValueError):
        parse_capacity(spec, unique_objects=10)


def test_percentage_needs_a_trace():
    with pytest.raises(ValueError, match="percentage"):
        parse_capacity("5%")
