"""One seed default: a run given no seed is the run given ``DEFAULT_SEED``, from the workload to the study."""

import inspect

import numpy as np
import pytest

import tuner
from tuner.seeds import DEFAULT_SEED
from tuner.workloads import GENERATORS, SPEC_DIR, load_spec, resolve_options


@pytest.mark.parametrize("entry", [tuner.replay, tuner.bench, tuner.miss_ratio_curve, tuner.optimize])
def test_every_library_entry_point_defaults_to_the_one_seed(entry):
    assert inspect.signature(entry).parameters["seed"].default == DEFAULT_SEED


@pytest.mark.parametrize("name", sorted(set(GENERATORS) | {path.stem for path in SPEC_DIR.glob("*.toml")}))
def test_every_generator_and_named_workload_defaults_to_the_one_seed(name):
    assert resolve_options(load_spec(name))["seed"] == DEFAULT_SEED


def test_a_workload_given_no_seed_is_the_one_given_the_default():
    default = tuner.generate("zipf", requests=2_000, objects=200)
    given = tuner.generate("zipf", requests=2_000, objects=200, seed=DEFAULT_SEED)
    assert np.array_equal(default.ids, given.ids) and np.array_equal(default.timestamps, given.timestamps)
