"""Shared and resumed studies: several ``cachetune optimize`` processes on one journal file or one PostgreSQL
database, and Ctrl-C keeping every finished trial."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import optuna
import pytest

from tests.cli import assert_one_line_error, cachetune
from tuner.optimize.study import JOURNAL_NAME, open_storage

IN_CI = os.environ.get("CI", "").lower() == "true"
SMALL = ("--workload", "loop", "--objects", "200", "--requests", "20000", "--budget", "199",
         "--policies", "lru,mru,random")  # fmt: skip
DONE = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tuner", "optimize", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


def finished(process: subprocess.Popen) -> tuple[str, str]:
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr
    return stdout, stderr


def done_trials(storage: str, name: str) -> list[optuna.trial.FrozenTrial]:
    study = optuna.load_study(study_name=name, storage=open_storage(storage, None))
    return study.get_trials(deepcopy=False, states=DONE)


def two_workers_share_one_study(storage: str, tmp_path: Path) -> None:
    name = f"shared-{uuid.uuid4().hex[:8]}"
    workers = [start(*SMALL, "--trials", "8", "--seed", str(seed), "--storage", storage, "--study-name", name,
                     "--out", str(tmp_path / f"worker{seed}"), "--format", "json") for seed in (1, 2)]  # fmt: skip
    for worker in workers:
        stdout, _ = finished(worker)
        assert json.loads(stdout)["policy"] in {"mru", "random"}
    trials = done_trials(storage, name)
    contributors = {trial.user_attrs.get("worker") for trial in trials if trial.state == DONE[0]}
    pids = {f":{worker.pid}" for worker in workers}
    print(f"{storage.split(':')[0]}: {len(trials)} trials from workers {sorted(contributors)}")
    assert len(trials) == 16
    assert {pid for pid in pids if any(str(c).endswith(pid) for c in contributors)} == pids


def test_two_workers_share_a_journal_file(tmp_path):
    two_workers_share_one_study(str(tmp_path / JOURNAL_NAME), tmp_path)


def postgres_url() -> str:
    """The server CI starts (``.ci/run`` exports its URL); skipped elsewhere, where none is given."""
    url = os.environ.get("CACHETUNE_TEST_POSTGRES_URL")
    if url:
        return url
    message = "no PostgreSQL server: set CACHETUNE_TEST_POSTGRES_URL (.ci/postgres.sh starts one)"
    if IN_CI:
        pytest.fail(f"{message}; CI must run the PostgreSQL test")
    pytest.skip(message)


def test_two_workers_share_a_postgresql_study(tmp_path):
    two_workers_share_one_study(postgres_url(), tmp_path)


def test_ctrl_c_keeps_finished_trials_and_a_resume_adds_to_them(tmp_path):
    journal = str(tmp_path / JOURNAL_NAME)
    common = (*SMALL, "--storage", journal, "--study-name", "interrupted", "--seed", "4")
    worker = start(*common, "--trials", "100000", "--out", str(tmp_path / "first"))
    deadline = time.monotonic() + 300
    while not (Path(journal).exists() and len(done_trials(journal, "interrupted")) >= 10):
        if time.monotonic() > deadline or worker.poll() is not None:
            worker.kill()
            pytest.fail("the worker did not finish 10 trials in 300 s")
        time.sleep(0.5)
    worker.send_signal(signal.SIGINT)
    stdout, stderr = worker.communicate(timeout=120)
    assert worker.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
    assert "cachetune optimize" in stdout  # the summary of the best so far
    kept = len(done_trials(journal, "interrupted"))
    assert kept >= 10
    assert json.loads((tmp_path / "first" / "best.json").read_text())["interrupted"] is True
    resumed = cachetune("optimize", *common, "--trials", "10", "--out", str(tmp_path / "second"))
    assert resumed.returncode == 0, resumed.stderr
    assert len(done_trials(journal, "interrupted")) == kept + 10


def test_bad_input_is_a_one_line_error(tmp_path):
    out = ("--out", str(tmp_path))
    assert_one_line_error(cachetune("optimize", *SMALL[:6], "--budget", "0", *out), "--budget: cache size must be")
    assert_one_line_error(cachetune("optimize", *SMALL[:6], "--policies", "nosuch", *out), "--policies: unknown policy")
    assert_one_line_error(cachetune("optimize", *SMALL, "--storage", "postgresql://u:secret@127.0.0.1:1/x", *out),
                          "cannot open storage")  # fmt: skip
    first = cachetune("optimize", *SMALL, "--trials", "2", "--study-name", "s", *out)
    assert first.returncode == 0, first.stderr
    assert_one_line_error(cachetune("optimize", *SMALL[:6], "--trials", "2", "--study-name", "s", *out),
                          "another search space")  # fmt: skip


def running_trial_of(storage: str, name: str, pid: int) -> int | None:
    """The number of a trial ``pid``'s worker is running now, if any."""
    try:
        study = optuna.load_study(study_name=name, storage=open_storage(storage, None, heartbeat=0))
    except KeyError:  # the worker has not created the study yet
        return None
    running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    return next((trial.number for trial in running if str(trial.user_attrs.get("worker")).endswith(f":{pid}")), None)


def kill_mid_trial(storage: str, name: str, args: tuple[str, ...], tmp_path: Path) -> int:
    """Start a worker, SIGKILL it while it runs a trial, and return that trial's number.

    A trial of this small study takes milliseconds, so the kill can land just after the trial ended;
    then the storage shows no running trial of the dead worker and another worker is started."""
    for attempt in range(5):
        worker = start(*args, "--trials", "100000", "--out", str(tmp_path / f"killed{attempt}"))
        deadline = time.monotonic() + 300
        while (number := running_trial_of(storage, name, worker.pid)) is None:
            if time.monotonic() > deadline or worker.poll() is not None:
                worker.kill()
                pytest.fail(f"the worker ran no trial in 300 s: {worker.communicate()[1]}")
            time.sleep(0.02)
        worker.kill()
        worker.communicate(timeout=60)
        if running_trial_of(storage, name, worker.pid) == number:
            return number
    pytest.fail("five workers were each killed between two trials")


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")  # as tuner.optimize.study does
def test_a_killed_workers_trial_is_failed_and_retried_not_left_running(tmp_path):
    """Two workers on one PostgreSQL study: one is killed mid-trial (SIGKILL: no chance to clean up); the
    other, still running trials after the dead one's heartbeat went stale, fails that trial and runs it
    again with the parameters it had drawn."""
    storage, name = postgres_url(), f"heartbeat-{uuid.uuid4().hex[:8]}"
    args = (*SMALL, "--storage", storage, "--study-name", name, "--heartbeat", "1", "--seed", "3")
    survivor = start(*args, "--timeout", "40", "--out", str(tmp_path / "survivor"), "--format", "json")
    killed = kill_mid_trial(storage, name, args, tmp_path)
    finished(survivor)
    study = optuna.load_study(study_name=name, storage=open_storage(storage, None, heartbeat=0))
    trials = study.get_trials(deepcopy=False)
    assert not [trial.number for trial in trials if trial.state == optuna.trial.TrialState.RUNNING]
    failed = trials[killed]
    assert failed.state == optuna.trial.TrialState.FAIL
    retries = [trial for trial in trials if optuna.storages.RetryHeartbeatStaleTrialCallback.retried_trial_number(trial)
               == killed]  # fmt: skip
    assert len(retries) == 1
    assert retries[0].state in DONE  # finished: scored, or pruned by the median rule like any trial
    assert failed.params.items() <= retries[0].params.items()  # what it had drawn before it died, and the rest
    assert str(retries[0].user_attrs["worker"]).endswith(f":{survivor.pid}")
