"""The library's errors name its parameters, the CLI's name its flags, and a bug keeps its traceback."""

import sys

import pytest

import tuner
from tests.cli import assert_one_line_error, cachetune
from tuner.cli import main
from tuner.cli.console import error_line
from tuner.errors import CachetuneError

LOOP = ("--workload", "loop", "--objects", "50", "--requests", "2000")


def test_the_library_names_the_parameter_not_the_flag():
    trace = tuner.generate("loop", objects=50, requests=2_000)
    with pytest.raises(CachetuneError, match=r"^tolerance must not be negative, got -1$") as refused:
        tuner.optimize(trace, tolerance=-1)
    assert refused.value.parameter == "tolerance"
    assert isinstance(refused.value, ValueError)  # callers that catch bad values keep working


def test_the_cli_names_the_flag_in_one_line(tmp_path):
    completed = cachetune("optimize", *LOOP, "--tolerance", "-1", "--out", str(tmp_path / "run"))
    assert_one_line_error(completed, "--tolerance must not be negative, got -1")


def test_each_parameter_is_called_by_its_option():
    assert error_line(CachetuneError("sample_rate 0.001 keeps no key; raise it", parameter="sample_rate")) == (
        "--sample-rate 0.001 keeps no key; raise it"
    )
    assert error_line(CachetuneError("budget: cannot read cache size 'x'", parameter="budget")) == (
        "--budget: cannot read cache size 'x'"
    )
    assert error_line(CachetuneError("trace.csv: line 3: negative size")) == "trace.csv: line 3: negative size"


def test_a_bug_is_not_turned_into_a_one_line_message(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("a bug, not the user's mistake")

    monkeypatch.setattr("tuner.cli.bench.bench", broken)
    monkeypatch.setattr(sys, "argv", ["cachetune", "bench", *LOOP, "--out", str(tmp_path / "run")])
    with pytest.raises(ValueError, match="a bug"):
        main()


def test_a_file_the_cli_cannot_write_is_a_one_line_error(tmp_path):
    missing = tmp_path / "no" / "such" / "folder" / "zipf.csv"
    completed = cachetune("generate", "--workload", "zipf", "--requests", "100", "-o", str(missing))
    assert_one_line_error(completed, f"--output {missing}: cannot write it")
