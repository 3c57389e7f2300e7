"""Where a study lives and how it is opened, created or resumed.

Default storage is an optuna journal file in the run's output folder
(append-only, safe for several processes on one machine), so a crashed or
interrupted run keeps its trials. The CLI's default folder is new for every
run, so resuming a study, or sharing one between processes, takes the same
``--storage`` (or ``--out``) as well as the same ``--study-name``. A URL
(``sqlite:///…``, ``postgresql://…``, ``mysql://…``) opens an optuna RDB
storage that workers on many machines can share; there each running trial
records a heartbeat, so a trial whose worker died (silent for twice the
interval) is marked failed by the next worker to start a trial and run again
with the same parameters, instead of staying "running" forever. A stored study remembers
the search space and scoring it was made with; opening it with another is an
error rather than a silent mix.
"""

from __future__ import annotations

import json
import time
import warnings
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage, InMemoryStorage, JournalStorage, RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.storages.journal import JournalFileBackend

from tuner.errors import CachetuneError

SETUP_ATTR = "cachetune_setup"
JOURNAL_NAME = "study.journal"
STARTUP_TRIALS = 10
# Concurrent workers may race to create the RDB schema; the loser retries.
CONNECT_ATTEMPTS = 3
# How often a running trial in a database storage says it is alive (seconds), and how many times a trial
# whose worker died is run again.
HEARTBEAT_SECONDS = 60
RETRIES = 3


class StudyError(CachetuneError):
    """A storage that cannot be opened, or a stored study made for another search."""


def open_storage(storage: str | None, folder: Path | None, heartbeat: int = HEARTBEAT_SECONDS) -> BaseStorage:
    """``storage`` as a URL or journal path; by default a journal in ``folder`` (in memory without one).

    A URL's running trials record a heartbeat every ``heartbeat`` seconds (0: none); a journal is one
    machine's file, where a dead worker is seen at once by the user.
    """
    if heartbeat < 0:
        raise CachetuneError(f"heartbeat must not be negative, got {heartbeat}", parameter="heartbeat")
    if storage is None:
        if folder is None:
            return InMemoryStorage()
        return _journal(folder / JOURNAL_NAME)
    if "://" not in storage:
        return _journal(Path(storage))
    for attempt in range(CONNECT_ATTEMPTS):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return RDBStorage(_with_installed_driver(storage), **_heartbeat_options(heartbeat))
        except Exception as error:  # drivers raise their own types; all mean the same to the user
            if attempt == CONNECT_ATTEMPTS - 1 or "already exists" not in str(error):
                first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                raise StudyError(f"cannot open storage {_redacted(storage)}: {first_line}") from None
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


def _heartbeat_options(heartbeat: int) -> dict[str, Any]:
    if not heartbeat:
        return {}
    retry = RetryHeartbeatStaleTrialCallback(RETRIES)
    return {"heartbeat_interval": heartbeat, "heartbeat_stale_trial_callback": retry}


def _with_installed_driver(url: str) -> str:
    """``postgresql://`` names SQLAlchemy's default driver (psycopg 3); use psycopg2 when only it is installed."""
    scheme, separator, rest = url.partition("://")
    if scheme == "postgresql" and find_spec("psycopg") is None and find_spec("psycopg2") is not None:
        return f"postgresql+psycopg2{separator}{rest}"
    return url


def _journal(path: Path) -> JournalStorage:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path)))
    except OSError as error:
        raise StudyError(f"cannot open journal {path}: {error.strerror or error}") from None


def _redacted(url: str) -> str:
    """``url`` without its password, for messages."""
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return url
    return f"{scheme}://{credentials.split(':')[0]}:***@{host}"


def sampler_and_pruner(seed: int, pareto: bool) -> tuple[optuna.samplers.BaseSampler, optuna.pruners.BasePruner]:
    """Seeded TPE (grouped, so each policy's own parameters are modelled together) and a median pruner."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            seed=seed, n_startup_trials=STARTUP_TRIALS, multivariate=True, group=True, constant_liar=True
        )
    pruner = optuna.pruners.NopPruner() if pareto else optuna.pruners.MedianPruner(n_startup_trials=STARTUP_TRIALS)
    return sampler, pruner


def open_study(storage: BaseStorage, name: str, setup: dict[str, Any], seed: int, pareto: bool) -> optuna.Study:
    """Create the study ``name`` or resume it; a stored study with another ``setup`` is a StudyError."""
    sampler, pruner = sampler_and_pruner(seed, pareto)
    directions = ["minimize", "minimize"] if pareto else ["minimize"]
    try:
        study = optuna.create_study(storage=storage, study_name=name, directions=directions, sampler=sampler,
                                    pruner=pruner, load_if_exists=True)  # fmt: skip
    except Exception as error:
        raise StudyError(f"cannot open study {name!r}: {error}") from None
    wanted = json.loads(json.dumps(setup))
    stored = study.user_attrs.get(SETUP_ATTR)
    if stored is None:
        study.set_user_attr(SETUP_ATTR, wanted)
    elif stored != wanted or len(study.directions) != len(directions):
        differing = sorted(key for key in set(stored) | set(wanted) if stored.get(key) != wanted.get(key))
        raise StudyError(
            f"study {name!r} exists with another search space or scoring ({', '.join(differing) or 'directions'} "
            "differ); give another study_name or the same options",
            parameter="study_name",
        )
    return study
