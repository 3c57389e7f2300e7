"""Tuning policy, cache size and policy parameters with optuna: one job per module.

``space`` (search space from the registry), ``objectives`` (what is minimised),
``traces`` (holdout split, prefixes, spatial samples), ``evaluate`` (the trial
objective), ``study`` (storage and study setup), ``recommend`` (tolerance rule
and exact figures), ``run`` (the ``optimize`` function) and ``report``
(``best.json`` and the summary panel).
"""

from tuner.optimize.report import best_record, front_table, print_summary
from tuner.optimize.run import DEFAULT_TRIALS, OptimizeResult, optimize

__all__ = ["DEFAULT_TRIALS", "OptimizeResult", "best_record", "front_table", "optimize", "print_summary"]
