"""``tuner.optimize``: tune policy, capacity and parameters on a trace, with the CLI's options."""

from __future__ import annotations

import dataclasses
import json
import math
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import pandas as pd

from tuner.capacity import BYTES, OBJECTS, Capacity, parse_capacity
from tuner.deploy import ANY, Deployment, Target, for_each_shard, get_target, target_policies
from tuner.errors import CachetuneError
from tuner.fleet import Fleet
from tuner.intervals import Interval, paired_difference
from tuner.lineup import named_policies
from tuner.mrc.miniature import MiniatureSimulator
from tuner.optimize.evaluate import TrialObjective
from tuner.optimize.menu import DEFAULT_TARGET_GAIN, Menu, build_menu, check_target_gain, evaluated
from tuner.optimize.objectives import Objective
from tuner.optimize.operations import OperationSpace, settings_of
from tuner.optimize.recommend import TOP, Figures, Judge, Scored, pareto_front, scored_trials, within_tolerance
from tuner.optimize.space import Config, SearchSpace
from tuner.optimize.study import HEARTBEAT_SECONDS, open_storage, open_study
from tuner.optimize.traces import split_by_time
from tuner.policies import Policy, floor_policy
from tuner.seeds import DEFAULT_SEED
from tuner.shards import shard_capacity_of
from tuner.trace import Trace

DEFAULT_TRIALS = 100
DEFAULT_STUDY = "cachetune"
# Screening: each policy with its defaults at up to this many capacities, within this share of the trials.
SCREENING_LEVELS = 3
SCREENING_SHARE = 0.25

FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.FAIL)
# Called after each finished trial with (trials finished in this run, best so far as text).
ProgressFn = Callable[[int, str], None]


@dataclass(frozen=True)
class OptimizeResult:
    """The recommendation, what it is compared with, every trial, and the arguments ``optimize`` ran with.

    ``options`` holds every argument as given (policy names resolved, the
    study's name filled in); ``budget`` is the largest capacity searched, in ``unit``.
    ``menu`` (no budget given, objective not cost) is the recommendation by the
    avoidable-misses rule and the sizes that reach each level (``tuner.optimize.menu``).
    """

    recommendation: Figures
    lru: Figures
    opt: Figures
    top: list[Scored]
    front: list[Scored] | None
    trials: pd.DataFrame
    options: dict[str, Any]
    counts: dict[str, int]
    budget: int
    interrupted: bool = False
    unit: str = OBJECTS
    target: str = ANY
    default: Figures | None = None
    deployment: Deployment | None = None
    menu: Menu | None = None

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by the name of the run file it is saved as (``trials.csv``, and ``pareto.csv`` for a front)."""
        tables = {"trials": self.trials, **({} if self.front is None else {"pareto": front_table(self.front)})}
        if self.menu is not None:
            tables["menu"] = menu_table(self.menu, self.unit)
        return tables

    def improvement_over_lru(self, part: str = "tuning") -> float | None:
        """1 − recommended misses/h ÷ LRU's at the same capacity (``part``: tuning or holdout)."""
        mine, lru = getattr(self.recommendation, part), getattr(self.lru, part)
        if mine is None or lru is None or not lru.misses_per_hour:
            return None
        return 1.0 - mine.misses_per_hour / lru.misses_per_hour

    def saving_over_default(self, part: str = "tuning") -> float | None:
        """1 − recommended misses/h ÷ the product's default's at the same capacity (LRU for target ``any``)."""
        mine, theirs = getattr(self.recommendation, part), getattr(self.against_default, part)
        if mine is None or theirs is None or not theirs.misses_per_hour:
            return None
        return 1.0 - mine.misses_per_hour / theirs.misses_per_hour

    def misses_against(self, other: Figures) -> Interval:
        """The recommendation's misses minus ``other``'s on the part it is judged on (held out when there
        is one), with a 95 % block-bootstrap interval over the timeline windows; an interval spanning
        zero means the trace cannot tell the two apart."""
        return paired_difference(self.recommendation.windows, other.windows, seed=self.options["seed"])

    @property
    def against_default(self) -> Figures:
        """What the recommendation is compared with: the product's default at the same size, LRU for no target."""
        return self.default or self.lru


def _is_all(policies: str | list[str] | None) -> bool:
    names = [policies] if isinstance(policies, str) else policies or []
    return not [name for part in names for name in part.split(",") if name.strip() and name.strip() != "all"]


def candidate_policies(policies: str | list[str] | None, target: Target | None = None,
                       with_timeout: bool = False) -> list[Policy]:  # fmt: skip
    """The online policies to search (``None``: every registered one but the offline floor; with a ``target``,
    its product's models, of which ``policies`` must be some)."""
    if target is not None:
        models = target_policies(target, with_timeout)
        if _is_all(policies):
            return models
        outside = [policy.name for policy in named_policies(policies) if policy not in models]
        if outside:
            raise CachetuneError(f"policy {outside[0]!r} is not a model of target {target.name} (choose from: "
                                 f"{', '.join(policy.name for policy in models)})", parameter="policies")  # fmt: skip
        return named_policies(policies)
    online = [policy for policy in named_policies(policies) if not policy.offline]
    if not online:
        raise CachetuneError(f"policies must name an online policy: {floor_policy().name} sees the future and is "
                             "only reported as the floor", parameter="policies")  # fmt: skip
    return online


def screening_levels(policies: int, trials: int | None) -> int:
    """How many capacities every policy is first tried at, with its defaults, before TPE takes over.

    A categorical over many policies gives TPE few trials of each; screening
    each at a few capacities first shows which policies are worth refining.
    At least one level (every policy at the budget); at most ``SCREENING_SHARE``
    of the trials beyond that.
    """
    if trials is None:
        return SCREENING_LEVELS
    return max(1, min(SCREENING_LEVELS, int(trials * SCREENING_SHARE) // max(1, policies)))


def resolve_budget(trace: Trace, budget: int | str | Capacity | None, target: Target | None = None) -> Capacity:
    """The budget as given, else the whole working set (bytes when the trace has sizes and the target takes
    bytes).

    A trace whose objects all have size 0 fills no cache measured in bytes, so
    it needs a budget in objects. A target's product takes one unit (Redis's
    maxmemory and memcached's -m bytes, lru_cache's maxsize objects), or either.
    """
    wanted = None if target is None else target.unit
    if budget is None and (not trace.has_sizes or wanted == OBJECTS):
        return Capacity(trace.n_objects, OBJECTS, f"{trace.n_objects} objects (working set)")
    if budget is None:
        resolved = Capacity(trace.working_set_bytes, BYTES, f"{trace.working_set_bytes} B (working set)")
    else:
        try:
            resolved = parse_capacity(budget, trace.n_objects)
        except CachetuneError as error:
            raise CachetuneError(f"budget: {error}", parameter="budget") from None
    if resolved.unit == BYTES and trace.working_set_bytes == 0:
        raise CachetuneError("the trace's objects all have size 0 bytes: give budget in objects (1000 or 10%)",
                             parameter="budget")  # fmt: skip
    smallest = int(trace.sizes.min()) if resolved.unit == BYTES else 1
    if resolved.amount < max(1, smallest):
        raise CachetuneError(f"budget {budget} is below one object (the smallest is {smallest} bytes)",
                             parameter="budget")  # fmt: skip
    if wanted is not None and resolved.unit != wanted:
        example = "64MiB of server memory" if wanted == BYTES else "a number of objects such as 1000"
        raise CachetuneError(f"target {target.name} takes its size in {wanted}: give budget as {example}, "
                             f"not {resolved.spec}", parameter="budget")  # fmt: skip
    return resolved


class _Interrupt:
    """While active, the first Ctrl-C lets the running trial finish and then stops the study; a second aborts.

    Stopping between trials keeps every trial whole in the storage (optuna itself
    may fail to record a trial that a KeyboardInterrupt cuts mid-write).
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def _handle(self, signum: int, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> _Interrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _best_text(study: optuna.Study, pareto: bool) -> str:
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        return "no trial finished yet"
    if pareto:
        return f"front of {len(study.best_trials)}"
    best = min(complete, key=lambda trial: trial.value)
    return f"best {best.value:,.4g} ({best.params['policy']}, {best.params['capacity']:,})"


def trials_table(study: optuna.Study, pareto: bool) -> pd.DataFrame:
    """One row per trial: state, policy, capacity, every parameter it chose, values and measures."""
    rows = []
    for trial in study.get_trials(deepcopy=False, states=FINISHED):
        values = trial.values or [math.nan] * (2 if pareto else 1)
        row = {"number": trial.number, "state": trial.state.name.lower()}
        row.update(trial.params)
        if pareto:
            row.update({"value_misses": values[0], "value_capacity": values[1]})
        else:
            row["value"] = values[0]
        row.update(trial.user_attrs)
        duration = trial.duration.total_seconds() if trial.duration else math.nan
        row["seconds"] = duration
        rows.append(row)
    return pd.DataFrame(rows)


def front_table(front: list[Scored]) -> pd.DataFrame:
    """``pareto.csv``: the configurations no other beats on both misses and capacity."""
    return pd.DataFrame(
        [{"trial": item.trial, "policy": item.config.policy, "capacity": item.config.capacity,
          "params": json.dumps(item.config.params, sort_keys=True), "misses_objective": item.value}
         for item in front],
        columns=["trial", "policy", "capacity", "params", "misses_objective"],
    )  # fmt: skip


def menu_table(menu: Menu, unit: str) -> pd.DataFrame:
    """``menu.csv``: per level, the smallest configuration found reaching it, and LRU's size for the same misses."""
    return pd.DataFrame(
        [{"level": item.level, "policy": item.figures.config.policy, "capacity": item.capacity, "capacity_unit": unit,
          "params": json.dumps(item.figures.config.params, sort_keys=True),
          "misses_per_hour": evaluated(item.figures).misses_per_hour,
          "avoided": item.gain, "lru_capacity": item.lru_capacity, "saved_over_lru": item.saved_over_lru}
         for item in menu.items],
        columns=["level", "policy", "capacity", "capacity_unit", "params", "misses_per_hour", "avoided",
                 "lru_capacity", "saved_over_lru"],
    ).astype({"lru_capacity": "Int64", "saved_over_lru": "Int64"})  # fmt: skip


def with_menu(budget: int | str | Capacity | None, objective: str) -> bool:
    """Whether ``optimize`` answers "how much cache do I need?" (no budget, no price on memory)."""
    return budget is None and objective != "cost"


def optimize(
    trace: Trace,
    *,
    budget: int | str | Capacity | None = None,
    trials: int | None = DEFAULT_TRIALS,
    timeout: float | None = None,
    policies: str | list[str] | None = None,
    objective: str = "misses-per-hour",
    miss_cost: float = 1.0,
    memory_cost: float = 1.0,
    pareto: bool = False,
    tolerance: float = 0.01,
    target_gain: float = DEFAULT_TARGET_GAIN,
    holdout: float = 0.3,
    sample_rate: float = 1.0,
    storage: str | None = None,
    study_name: str | None = None,
    heartbeat: int = HEARTBEAT_SECONDS,
    jobs: int = 1,
    write_policy: str | None = None,
    ttl: float | None = None,
    tune_ttl: bool = False,
    flush_interval: float | None = None,
    max_object_size: int | str | None = None,
    max_dirty: int | None = None,
    seed: int = DEFAULT_SEED,
    target: str = ANY,
    shards: int | None = None,
    shard_hash: str = "redis-cluster",
    out: Path | None = None,
    progress: ProgressFn | None = None,
) -> OptimizeResult:
    """Search policies, capacities up to ``budget`` and policy parameters for the least misses (or cost).

    Tunes on the first ``1 - holdout`` of the trace's span and reports the
    recommendation on the rest too; ``sample_rate`` below 1 scores trials on
    a spatial sample (drawn with ``seed``) and re-scores the best exactly;
    the study lives in ``storage`` (default: a journal file in ``out``) under
    ``study_name`` and resumes when both are given again (in a database, a trial silent for two
    ``heartbeat`` intervals, its worker dead, is failed and run again). Ctrl-C stops the search and returns
    what the finished trials found (``interrupted=True``). ``write_policy`` (searched when None and
    the trace has writes), ``ttl`` (searched with ``tune_ttl``), ``flush_interval`` and
    ``max_object_size`` (searched when None and capacities are in bytes) are replay's settings
    (``tuner.optimize.operations``); a write-back configuration with more than ``max_dirty``
    dirty objects at once is rejected. ``target`` (``tuner.deploy``: redis, memcached, cachetools,
    functools) searches only that product's models and knobs and renders the recommendation as its
    settings; ``any`` searches the textbook policies.

    With no ``budget`` (and an objective other than ``cost``) the answer is to "how much cache
    do I need?": a two-objective study (the objective and the size) up to the whole working set,
    and the smallest configuration avoiding at least ``target_gain`` of the avoidable misses, with
    a menu of sizes for other shares (``tuner.optimize.menu``); ``tolerance`` is then unused.

    With ``shards``, the cache is a fleet of that many, each key on the shard ``shard_hash`` picks
    (``tuner.shards``): the study tunes each shard's size (the capacity of every trial, menu and
    recommendation), and every figure is the fleet's, each shard's part replayed alone. ``budget`` is
    then the fleet's, split evenly (by default each shard may hold the largest shard's working set).
    """
    check_target_gain(target_gain)
    if tolerance < 0:
        raise CachetuneError(f"tolerance must not be negative, got {tolerance:g}", parameter="tolerance")
    if jobs < 1:
        raise CachetuneError(f"jobs must be at least 1, got {jobs}", parameter="jobs")
    if trials is not None and trials < 1:
        raise CachetuneError(f"trials must be at least 1, got {trials}", parameter="trials")
    if max_dirty is not None and max_dirty < 0:
        raise CachetuneError(f"max_dirty must not be negative, got {max_dirty}", parameter="max_dirty")
    if objective == "backend-ops" and sample_rate < 1.0:
        raise CachetuneError("objective 'backend-ops' counts writes, which a key sample cannot scale; "
                             "use sample_rate 1", parameter="sample_rate")  # fmt: skip
    if pareto and objective == "cost":
        raise CachetuneError("pareto already trades capacity against misses; use it with an objective other than "
                             "'cost'", parameter="pareto")  # fmt: skip
    product = get_target(target)
    two_objectives = pareto or with_menu(budget, objective)
    candidates = candidate_policies(policies, product, with_timeout=ttl is not None or tune_ttl)
    budget_capacity = resolve_budget(trace, budget, product)
    unit = budget_capacity.unit
    fleet = None
    if shards is not None:
        if sample_rate < 1.0:
            raise CachetuneError("sample_rate below 1 is not supported with shards: a fleet's trials replay every "
                                 "shard exactly", parameter="sample_rate")  # fmt: skip
        fleet = Fleet.route(trace, shards, shard_hash)
        budget_capacity = (shard_capacity_of(trace, budget_capacity, shards) if budget is not None else
                           Capacity(fleet.working_set(unit), unit, "the largest shard's working set"))  # fmt: skip
    if objective == "cost" and not trace.has_sizes:
        raise CachetuneError("objective 'cost' prices memory per GB, which needs a trace with object sizes",
                             parameter="objective")  # fmt: skip
    bytes_per_object = trace.working_set_bytes / max(1, trace.n_objects)
    scoring = Objective(objective, miss_cost, memory_cost, bytes_per_object, 1 if fleet is None else fleet.shards)
    split = split_by_time(trace, holdout)
    miniatures = MiniatureSimulator(split.tuning, sample_rate, seed)
    if sample_rate < 1.0 and not len(miniatures.sample(sample_rate)[0]):
        raise CachetuneError(f"sample_rate {sample_rate:g} keeps no key of this trace; raise it",
                             parameter="sample_rate")  # fmt: skip
    smallest = max(int(trace.sizes.min()) if unit == BYTES else 1, 1 if product is None else product.least_capacity)
    operations = OperationSpace.build(trace, unit, budget_capacity.amount, split.tuning.span_seconds,
                                      write_policy=write_policy, ttl=ttl, tune_ttl=tune_ttl,
                                      flush_interval=flush_interval, max_object_size=max_object_size,
                                      limit_object_size=product is None)  # fmt: skip
    held, choices = (frozenset(), {}) if product is None else (product.held, product.choices)
    space = SearchSpace.build(candidates, budget_capacity, split.tuning.span_seconds, smallest, operations, held,
                              choices)  # fmt: skip
    setup = {
        "space": space.describe(),
        "scoring": [dataclasses.asdict(scoring), two_objectives, max_dirty],
        "data": [trace.name, len(trace), trace.n_objects, holdout, sample_rate, shards, shard_hash],
    }
    name = study_name or DEFAULT_STUDY
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = open_study(open_storage(storage, out, heartbeat), name, setup, seed, two_objectives)
    for capacity in space.screening_capacities(screening_levels(len(candidates), trials)):
        for policy in candidates:
            study.enqueue_trial(space.at_defaults(policy, capacity), skip_if_exists=True)
    trial_objective = TrialObjective(space, scoring, miniatures, seed, two_objectives, max_dirty,
                                     None if product is None else product.refuses, fleet)  # fmt: skip
    finished = 0
    interrupt = _Interrupt()

    def after_trial(study: optuna.Study, _: optuna.trial.FrozenTrial) -> None:
        nonlocal finished
        finished += 1
        if progress is not None:
            progress(finished, _best_text(study, two_objectives))
        if interrupt.requested:
            study.stop()

    with interrupt:
        study.optimize(trial_objective, n_trials=trials, timeout=timeout, n_jobs=jobs, callbacks=[after_trial])
    options = {"budget": budget, "trials": trials, "timeout": timeout, "policies": [p.name for p in candidates],
               "objective": scoring.name, "miss_cost": miss_cost, "memory_cost": memory_cost, "pareto": pareto,
               "tolerance": tolerance, "target_gain": target_gain, "holdout": holdout,
               "sample_rate": sample_rate, "storage": storage, "heartbeat": heartbeat,
               "study_name": name, "jobs": jobs, "write_policy": write_policy, "ttl": ttl, "tune_ttl": tune_ttl,
               "flush_interval": flush_interval, "max_object_size": max_object_size, "max_dirty": max_dirty,
               "seed": seed, "target": product.name if product else ANY, "shards": shards,
               "shard_hash": None if shards is None else shard_hash}  # fmt: skip
    return _conclude(study, split, scoring, space, options, finished, interrupt.requested, product,
                     smallest, fleet)  # fmt: skip


def _conclude(study, split, scoring, space, options, finished, interrupted, product=None,
              smallest=1, fleet=None) -> OptimizeResult:  # fmt: skip
    """Re-score exactly where trials saw a sample, pick the recommendation, replay the comparisons."""
    menu_wanted = with_menu(options["budget"], options["objective"])
    two_objectives = options["pareto"] or menu_wanted
    all_trials = study.get_trials(deepcopy=False, states=FINISHED)
    scored = scored_trials(all_trials, space.operations)
    if not scored:
        raise CachetuneError(f"no trial of study {options['study_name']!r} finished, so there is nothing to recommend")
    judge = Judge(split, scoring, space.unit, options["seed"], fleet)
    if options["sample_rate"] < 1.0 and not menu_wanted:  # the menu replays its candidates exactly
        rescored = [dataclasses.replace(judge.tuning(item.config), trial=item.trial) for item in scored[: TOP * 2]]
        scored = sorted(rescored, key=lambda item: (item.value, item.config.capacity))
    front = pareto_front(scored) if two_objectives else None
    menu = None
    if menu_wanted:
        deployed = (lambda config: config) if product is None else product.deployed
        menu = build_menu(judge, front, space.capacity_high, smallest, options["target_gain"], deployed,
                          with_lru="lru" in options["policies"], fixed=space.operations.fixed)  # fmt: skip
        recommendation = menu.recommendation.figures
        chosen = Scored(recommendation.config, recommendation.value, -1)
    else:
        chosen = within_tolerance(front or scored, options["tolerance"])
        if product is not None:  # as the product takes it (memcached: whole MiB, which its model replays anyway)
            chosen = dataclasses.replace(chosen, config=product.deployed(chosen.config))
        recommendation = judge.figures(chosen.config)
    same_settings = settings_of(chosen.config.params)  # LRU and OPT replay the recommendation's writes and timeouts
    lru = judge.figures(Config("lru", chosen.config.capacity, same_settings))
    opt = judge.figures(Config(floor_policy().name, chosen.config.capacity, same_settings))
    default, deployment = None, None
    if product is not None:
        default = judge.figures(product.default_config(chosen.config.capacity, same_settings))
        deployment = product.render(chosen.config, space.unit)
        if fleet is not None:
            deployment = for_each_shard(deployment, fleet.shards, fleet.hash)
    states = [trial.state for trial in all_trials]
    counts = {
        "trials": len(states),
        "complete": states.count(optuna.trial.TrialState.COMPLETE),
        "pruned": states.count(optuna.trial.TrialState.PRUNED),
        "failed": states.count(optuna.trial.TrialState.FAIL),
        "this_run": finished,
    }
    return OptimizeResult(recommendation, lru, opt, scored[:TOP], front, trials_table(study, two_objectives),
                          options, counts, space.capacity_high, interrupted, space.unit, options["target"], default,
                          deployment, menu)  # fmt: skip
