"""Tuning policy, cache size and policy parameters with optuna: one job per module.

``space`` (search space from the registry), ``objectives`` (what is minimised),
``traces`` (holdout split, prefixes, spatial samples), ``evaluate`` (the trial
objective), ``study`` (storage and study setup), ``recommend`` (tolerance rule
and exact figures), ``menu`` (with no budget: the avoidable-misses rule and
the menu of sizes), ``run`` (the ``optimize`` function and its result's
tables) and ``best`` (``best.json``).
"""

from tuner.optimize.best import best_record
from tuner.optimize.run import DEFAULT_TRIALS, OptimizeResult, optimize

__all__ = ["DEFAULT_TRIALS", "OptimizeResult", "best_record", "optimize"]
