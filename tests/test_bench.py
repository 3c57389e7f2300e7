"""The comparison table: every policy at every size, with the gap to Belady's OPT."""

import numpy as np
import pytest
from rich.console import Console

import tuner
from tuner.cli.printers import print_bench_table
from tuner.intervals import mean_interval
from tuner.policies import floor_policy


@pytest.fixture(scope="module")
def zipf_trace():
    return tuner.generate("zipf", requests=30_000, objects=3_000, alpha=0.9, seed=2)


def test_one_row_per_policy_and_size_sorted_best_first(zipf_trace):
    table = tuner.bench(zipf_trace, "lru,fifo,mru", ["1%", "10%"]).table
    assert len(table) == 6
    for _, group in table.groupby("cache_size"):
        assert list(group["miss_ratio"]) == sorted(group["miss_ratio"])
    assert "opt" not in set(table["policy"])  # the floor is measured but not listed unless asked for


def test_every_row_carries_its_gap_to_opt(zipf_trace):
    table = tuner.bench(zipf_trace, None, ["0.5%", "5%"]).table
    for row in table.itertuples():
        assert row.opt_misses == tuner.replay(zipf_trace, "opt", row.cache_size).misses
        assert row.misses >= row.opt_misses
        assert row.gap_to_opt == pytest.approx(row.misses / row.opt_misses - 1)
    assert (table.loc[table["policy"] == "opt", "gap_to_opt"] == 0).all()


def test_the_floor_is_the_registrys_one_offline_policy():
    assert [policy.name for policy in tuner.POLICIES.values() if policy.offline] == ["opt"]
    assert floor_policy() is tuner.get_policy("opt")


def test_timeline_sums_to_the_misses(zipf_trace):
    result = tuner.bench(zipf_trace, "lru,fifo", [100])
    totals = result.timeline.groupby("policy")["misses"].sum()
    assert totals.to_dict() == dict(zip(result.table["policy"], result.table["misses"], strict=True))


def test_bad_policy_parameters_fail_before_any_replay(zipf_trace):
    with pytest.raises(ValueError, match="no parameter"):
        tuner.bench(zipf_trace, "lru", [10], params={"lru": {"depth": 3}})


def test_the_table_highlights_the_best_online_policy_not_opt(zipf_trace):
    table = tuner.bench(zipf_trace, ["lru", "arc", "opt"], [50]).table
    console = Console(record=True, width=200, force_terminal=True, color_system="standard")
    print_bench_table(table, console, "zipf")
    plain = console.export_text(clear=False).splitlines()
    styled = console.export_text(styles=True).splitlines()
    lines = {
        plain_line.split("│")[2].strip(): line
        for plain_line, line in zip(plain, styled, strict=True)
        if "│" in plain_line
    }
    bold_green = "\x1b[1;32m"
    best_online = table.loc[table["policy"] != "opt"].sort_values("miss_ratio")["policy"].iloc[0]
    assert bold_green in lines[best_online]
    assert bold_green not in lines["opt"]


def test_sizes_that_come_to_one_capacity_are_replayed_once():
    tiny = tuner.Trace.from_arrays(["a", "b", "a", "c"])
    table = tuner.bench(tiny, "lru,fifo", ["0.1%", "1%", "10%"]).table
    assert len(table) == 2 and set(table["cache_size"]) == {1} and set(table["size_spec"]) == {"0.1%"}


@pytest.fixture(scope="module")
def hours_of_requests():
    """A small trace spread over about 8 hours: several windows for the bootstrap."""
    return tuner.generate("zipf", requests=4_000, objects=400, alpha=0.9, rate=0.14, seed=8)


def test_seeds_average_randomized_policies_and_replay_the_others_once(hours_of_requests):
    result = tuner.bench(hours_of_requests, "lru,random", [20], seed=5, seeds=3)
    rows = result.table.set_index("policy")
    replays = [tuner.replay(hours_of_requests, "random", 20, seed=seed) for seed in (5, 6, 7)]
    misses = [replay.misses for replay in replays]
    expected = mean_interval(misses)
    assert rows.loc["random", "seeds"] == 3 and len(set(misses)) > 1
    assert rows.loc["random", "misses"] == pytest.approx(np.mean(misses))
    assert rows.loc["random", "miss_ratio"] == pytest.approx(np.mean([replay.miss_ratio for replay in replays]))
    assert (rows.loc["random", "misses_ci_low"], rows.loc["random", "misses_ci_high"]) == pytest.approx(
        (expected.low, expected.high)
    )
    lru = tuner.replay(hours_of_requests, "lru", 20).misses
    assert rows.loc["lru", "seeds"] == 1  # deterministic: one replay, exact
    assert rows.loc["lru", "misses"] == rows.loc["lru", "misses_ci_low"] == rows.loc["lru", "misses_ci_high"] == lru
    timeline = result.timeline[result.timeline["policy"] == "random"]
    assert timeline["misses"].sum() == pytest.approx(np.mean(misses))  # the timeline is the seeds' mean too
    assert result.options["seeds"] == 3


def test_every_row_is_compared_with_lru_by_a_bootstrap_over_its_windows(hours_of_requests):
    table = tuner.bench(hours_of_requests, "lru,fifo", [20, 400], seed=2).table
    for row in table.itertuples():
        lru = table[(table["policy"] == "lru") & (table["cache_size"] == row.cache_size)]["misses"].iloc[0]
        assert row.misses_vs_lru == row.misses - lru
        assert row.vs_lru_ci_low <= row.misses_vs_lru <= row.vs_lru_ci_high
    whole = table[table["cache_size"] == 400]  # every object fits: both policies miss only cold, no difference
    assert (whole["vs_lru_ci_low"] == 0).all() and (whole["vs_lru_ci_high"] == 0).all()
    text = _table_text(table)
    assert "vs LRU [95% CI]" in text and "n.s." in text  # fifo at 400 objects ties LRU
    fifo = table[(table["policy"] == "fifo") & (table["cache_size"] == 20)].iloc[0]
    lru = table[(table["policy"] == "lru") & (table["cache_size"] == 20)]["misses"].iloc[0]
    assert fifo.vs_lru_ci_low > 0  # at 20 objects FIFO misses significantly more: its interval is printed
    low, high = fifo.vs_lru_ci_low / lru, fifo.vs_lru_ci_high / lru
    assert f"{fifo.misses_vs_lru / lru:+.1%} [{low:+.1%}, {high:+.1%}]" in text
    assert "vs LRU" not in _table_text(tuner.bench(hours_of_requests, "fifo", [20]).table)  # no LRU, no column


def _table_text(table) -> str:
    console = Console(record=True, width=200)
    print_bench_table(table, console, "zipf")
    return console.export_text()


def test_seeds_must_be_at_least_one(hours_of_requests):
    with pytest.raises(tuner.CachetuneError, match="seeds must be a whole number of at least 1"):
        tuner.bench(hours_of_requests, "lru", [20], seeds=0)
