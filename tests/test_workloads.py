from pathlib import Path

import numpy as np
import pytest

import tuner
from tuner.errors import WorkloadError
from tuner.workloads import COMMON_DEFAULTS, GENERATORS, _spec_dir, generate, load_spec, resolve_options
from tuner.workloads.recency import _stack_model, recency_keys


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_same_seed_same_trace_other_seed_other_trace(name):
    first = generate(name, requests=5_000, objects=500, seed=3)
    again = generate(name, requests=5_000, objects=500, seed=3)
    assert np.array_equal(first.keys[first.ids], again.keys[again.ids])
    assert np.array_equal(first.timestamps, again.timestamps)
    other = generate(name, requests=5_000, objects=500, seed=4)
    assert not np.array_equal(first.timestamps, other.timestamps)
    if name != "loop":  # a loop's keys are its order, whatever the seed
        assert not np.array_equal(first.keys[first.ids], other.keys[other.ids])


def test_poisson_arrivals_at_the_requested_rate():
    trace = generate("uniform", requests=200_000, objects=100, rate=50.0, seed=1)
    assert np.all(np.diff(trace.timestamps) >= 0)
    assert trace.span_seconds == pytest.approx(200_000 / 50.0, rel=0.01)


def test_zipf_popularity_follows_alpha_and_is_not_key_order():
    trace = generate("zipf", requests=400_000, objects=1_000, alpha=1.0, seed=2)
    keys = trace.keys[trace.ids]
    counts = np.bincount(keys, minlength=1_000)
    ranked = np.sort(counts)[::-1]
    # Rank 1 over rank 10 is about 10 for alpha = 1.
    assert ranked[0] / ranked[9] == pytest.approx(10.0, rel=0.15)
    assert set(np.argsort(counts)[::-1][:10]) != set(range(10))  # shuffled: popularity is not key order


def test_loop_visits_keys_in_order():
    trace = generate("loop", requests=25, objects=10)
    assert trace.keys[trace.ids].tolist() == list(range(10)) * 2 + list(range(5))


def _naive_stack_model(reused, distances, objects):
    stack, keys = [], []
    for reuse, distance in zip(reused, distances, strict=True):
        if (reuse and stack) or len(stack) == objects:
            key = stack[min(distance, len(stack) - 1)] if reuse else stack[-1]
            stack.remove(key)
        else:
            key = len(stack)
        stack.insert(0, key)
        keys.append(key)
    return keys


def test_recency_model_matches_a_naive_lru_stack():
    rng = np.random.default_rng(5)
    reused = rng.random(3_000) < 0.7
    distances = np.floor(rng.pareto(0.8, 3_000)).astype(np.int64)
    assert _stack_model(reused, np.minimum(distances, 40), 40).tolist() == _naive_stack_model(
        reused, np.minimum(distances, 40), 40
    )
    assert len(np.unique(recency_keys(rng, 10_000, 50, reuse=0.8, shape=1.0))) == 50


def test_recency_favours_lru_over_fifo():
    trace = generate("recency", requests=50_000, objects=5_000, seed=1)
    assert tuner.replay(trace, "lru", 100).misses < tuner.replay(trace, "fifo", 100).misses


def test_spec_files_set_defaults_and_options_override(tmp_path: Path):
    spec = tmp_path / "small.toml"
    spec.write_text('generator = "zipf"\nrequests = 1234\nobjects = 50\nalpha = 0.8\n')
    assert len(generate(str(spec))) == 1234
    assert len(generate(str(spec), requests=99)) == 99
    assert load_spec("zipf").generator == "zipf"


def test_each_generator_declares_its_options_once():
    """A generator's options are its own (none shadows a common one); one name shared by generators is one type."""
    kinds = {}
    for generator in GENERATORS.values():
        names = [option.name for option in generator.options]
        assert len(names) == len(set(names)) and not set(names) & set(COMMON_DEFAULTS), generator.name
        for option in generator.options:
            assert kinds.setdefault(option.name, option.kind) is option.kind, option.name
            assert option.help and not option.help.endswith("."), option.name  # the CLI adds the full stop


def test_generator_options_come_from_the_declaration_the_spec_and_the_caller(tmp_path: Path):
    scan = GENERATORS["zipf-scan"]
    assert resolve_options(load_spec("zipf-scan"))["scan_length"] == scan.defaults["scan_length"]
    spec = tmp_path / "scans.toml"
    spec.write_text('generator = "zipf-scan"\nrequests = 3000\nobjects = 100\nscan_length = 500\nalpha = 1\n')
    resolved = resolve_options(load_spec(spec), scan_share=0.5)
    assert (resolved["scan_length"], resolved["scan_share"]) == (500, 0.5)
    assert resolved["alpha"] == 1.0 and isinstance(resolved["alpha"], float)  # TOML's 1 as the declared float
    trace = generate(spec, scan_share=0.5)
    assert np.count_nonzero(trace.keys[trace.ids] >= 100) == 1_500  # three whole scans of 500 one-time keys


@pytest.mark.parametrize(
    ("workload", "options", "message"),
    [
        ("nope", {}, "unknown workload"),
        ("zipf", {"alpha": 0}, "alpha must be positive"),
        ("zipf-scan", {"alpha": -1.0}, "alpha must be positive"),
        ("zipf-scan", {"scan_length": 2.5}, "scan_length must be a whole number"),
        ("recency", {"shape": "wide"}, "shape must be a number"),
        ("zipf", {"objects": 0}, "positive"),
        ("loop", {"alpha": 1.0}, "no option 'alpha'"),
        ("/does/not/exist.toml", {}, "cannot read"),
    ],
)
def test_bad_workloads_raise_workload_error(workload, options, message):
    with pytest.raises(WorkloadError, match=message):
        generate(workload, **options)


def test_spec_with_unknown_generator_or_option(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text('generator = "zipf"\nbananas = 3\n')
    with pytest.raises(WorkloadError, match="bananas"):
        load_spec(bad)
    broken = tmp_path / "broken.toml"
    broken.write_text("generator = \n")
    with pytest.raises(WorkloadError, match="not valid TOML"):
        load_spec(broken)


def test_specs_are_found_in_a_checkout_and_where_a_wheel_installs_them(tmp_path):
    checkout_module = tmp_path / "repo" / "tuner" / "workloads" / "__init__.py"
    (tmp_path / "repo" / "workloads").mkdir(parents=True)
    assert _spec_dir(checkout_module, tmp_path / "venv") == tmp_path / "repo" / "workloads"
    installed_module = tmp_path / "venv" / "lib" / "site-packages" / "tuner" / "workloads" / "__init__.py"
    assert _spec_dir(installed_module, tmp_path / "venv") == tmp_path / "venv" / "share" / "cachetune" / "workloads"
