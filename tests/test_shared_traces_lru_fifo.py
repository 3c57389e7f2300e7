"""Exact LRU and FIFO miss counts on the public reference traces (../shared/traces), every object-capacity row."""

import pytest

import tuner
from tests import policy_checks as checks
from tests.conftest import expected_rows, needs_jit

POLICY_NAMES = {"LRU": "lru", "FIFO": "fifo"}


def _cases():
    if not checks.EXPECTED_CSV.exists():
        return [pytest.param(None, id="shared-traces-missing")]
    return [
        pytest.param(row, id=f"{row['policy']}-{row['trace_file']}-{row['cache_size']}")
        for name in POLICY_NAMES
        for row in expected_rows(name)
    ]


@needs_jit
@pytest.mark.parametrize("row", _cases())
def test_exact_misses_match_expected(row):
    if row is None:
        pytest.skip("../shared/traces not present")
    trace = checks.load_row_trace(row["trace_file"])
    assert len(trace) == int(row["n_req"])
    result = tuner.replay(trace, POLICY_NAMES[row["policy"]], int(row["cache_size"]))
    if row["expected_misses"]:
        assert result.misses == int(row["expected_misses"])
    else:  # rows published as a six-digit miss ratio only
        assert result.miss_ratio == pytest.approx(float(row["expected_miss_ratio"]), abs=5e-7)
