"""Which choices moved the objective: PED-ANOVA importances recomputed from ``trials.csv`` alone.

The report may not reopen the study (its storage can be a remote database),
so the finished trials are loaded into an in-memory optuna study with
distributions spanning the values tried, and optuna's PED-ANOVA evaluator
(Watanabe et al., "PED-ANOVA: Efficiently Quantifying Hyperparameter
Importance in Arbitrary Subspaces", IJCAI 2023) measures how far each
parameter's distribution among the best 10% of trials differs from its
distribution over all of them. It needs nothing beyond optuna and is
deterministic, so the page is the same each time. Parameters are
conditional on the policy, so there are two scopes: ``all`` (policy and
capacity, over every trial) and each policy's own trials (capacity and that
policy's parameters).
"""

from __future__ import annotations

import warnings

import numpy as np
import optuna
import pandas as pd

MIN_TRIALS = 6  # fewer trials than this in a scope say nothing about importance


def param_columns(trials: pd.DataFrame, policy: str) -> list[str]:
    """``trials.csv`` names a policy's parameters ``<policy>.<parameter>``."""
    return [column for column in trials.columns if column.startswith(f"{policy}.")]


def _distribution(values: pd.Series, log: bool = False) -> optuna.distributions.BaseDistribution | None:
    if not pd.api.types.is_numeric_dtype(values):
        choices = tuple(sorted(values.astype(str).unique()))
        return optuna.distributions.CategoricalDistribution(choices) if len(choices) > 1 else None
    low, high = float(values.min()), float(values.max())
    if not high > low:
        return None
    return optuna.distributions.FloatDistribution(low, high, log=log and low > 0)


def _importances(frame: pd.DataFrame, columns: list[str], value: str) -> dict[str, float]:
    distributions = {}
    for column in columns:
        found = _distribution(frame[column], log=column == "capacity")
        if found is not None:
            distributions[column] = found
    if not distributions or len(frame) < MIN_TRIALS or frame[value].nunique() < 2:
        return {}
    study = optuna.create_study(direction="minimize")
    for record in frame.to_dict("records"):
        params = {
            name: str(record[name])
            if isinstance(dist, optuna.distributions.CategoricalDistribution)
            else float(record[name])
            for name, dist in distributions.items()
        }
        study.add_trial(optuna.trial.create_trial(params=params, distributions=distributions, value=record[value]))
    evaluator = optuna.importance.PedAnovaImportanceEvaluator()
    return optuna.importance.get_param_importances(study, evaluator=evaluator, normalize=True)


def param_importances(trials: pd.DataFrame, value: str) -> pd.DataFrame:
    """Importance (share of the objective's variance, each scope summing to 1) of each choice.

    Columns: ``scope`` (``all`` or a policy), ``parameter``, ``importance``.
    """
    complete = trials[np.isfinite(pd.to_numeric(trials[value], errors="coerce"))]
    if "state" in complete.columns:
        complete = complete[complete["state"] == "complete"]
    rows = []
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, share in _importances(complete, ["policy", "capacity"], value).items():
            rows.append({"scope": "all", "parameter": name, "importance": share})
        for policy, mine in complete.groupby("policy", sort=True):
            columns = ["capacity", *param_columns(trials, str(policy))]
            for name, share in _importances(mine, columns, value).items():
                rows.append({"scope": policy, "parameter": name.removeprefix(f"{policy}."), "importance": share})
    return pd.DataFrame(rows, columns=["scope", "parameter", "importance"])
