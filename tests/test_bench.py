"""The comparison table: every policy at every size, with the gap to Belady's OPT."""

import pytest
from rich.console import Console

import tuner
from tuner.cli.printers import print_bench_table
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
