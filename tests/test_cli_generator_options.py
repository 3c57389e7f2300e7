"""Generator options on the command line: one flag per option a generator module declares."""

import inspect

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.cli import assert_one_line_error, cachetune
from tuner.cli import analyze, app, bench, generate, mrc, optimize
from tuner.errors import CachetuneError, WorkloadError
from tuner.workloads import GENERATORS
from tuner.workloads import generate as generate_workload

COMMANDS = [analyze.analyze_command, bench.bench_command, generate.generate_command, mrc.mrc_command,
            optimize.optimize_command]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command.__name__)
def test_every_command_that_takes_a_workload_has_every_declared_option(command):
    parameters = inspect.signature(command).parameters
    for generator in GENERATORS.values():
        for option in generator.options:
            assert parameters[option.name].default is None, (generator.name, option.name)


def test_generate_writes_what_the_library_generates_with_the_same_options(tmp_path):
    path = tmp_path / "scans.csv"
    options = ["--requests", "4000", "--objects", "300", "--seed", "3", "--scan-share", "0.25", "--scan-length", "50"]
    done = CliRunner().invoke(app, ["generate", "-w", "zipf-scan", *options, "--alpha", "1.2", "-o", str(path)])
    assert done.exit_code == 0, done.output
    expected = generate_workload("zipf-scan", requests=4000, objects=300, seed=3, scan_share=0.25, scan_length=50,
                                 alpha=1.2)  # fmt: skip
    assert np.array_equal(pd.read_csv(path)["key"].to_numpy(), expected.keys[expected.ids])


def test_a_generator_option_the_source_cannot_take_is_refused(tmp_path):
    trace = tmp_path / "keys.txt"
    trace.write_text("a\nb\n")
    done = CliRunner().invoke(app, ["bench", "--trace", str(trace), "--scan-share", "0.1", "--out", str(tmp_path)])
    assert isinstance(done.exception, CachetuneError) and "--scan-share only apply to --workload" in str(done.exception)
    done = CliRunner().invoke(app, ["generate", "-w", "loop", "--alpha", "1", "-o", str(tmp_path / "loop.csv")])
    assert isinstance(done.exception, WorkloadError) and "takes no option 'alpha'" in str(done.exception)


def test_a_bad_generator_option_is_one_line(tmp_path):
    done = cachetune("generate", "-w", "recency", "--reuse", "2", "-o", str(tmp_path / "recency.csv"))
    assert_one_line_error(done, "reuse must be between 0 and 1")
