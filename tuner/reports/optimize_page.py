"""The ``optimize`` report: the recommendation first, then the evidence.

Built from ``best.json`` (the recommendation and its tuning, held-out, LRU and
OPT figures), ``trials.csv`` (every trial) and, after ``--pareto``,
``pareto.csv``. Without a budget, ``best.json`` also holds the menu (the
smallest size found at each share of the avoidable misses, and LRU's size for
the same misses): marked on the front, and drawn as avoided share against size.
Any of them may be missing (an interrupted run, an older version); the page
then shows what there is.
"""

from __future__ import annotations

import json
import math
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tuner.reports.charts import Axis, Series, format_bytes, format_number, horizontal_bar_chart, line_chart
from tuner.reports.importance import param_importances
from tuner.reports.page import chart_grid, counted, note, read_table, section, table
from tuner.reports.palette import policy_colour

OBJECTIVE_LABELS = {
    "misses-per-hour": "misses per hour (tuning part)",
    "miss-ratio": "miss ratio (tuning part)",
    "byte-miss-ratio": "byte miss ratio (tuning part)",
    "cost": "cost per hour (misses × miss cost + GB × memory cost)",
}
_SCOPE_COLOUR = "#555555"
TRIALS_COLUMNS = ("number", "policy", "capacity")
PARETO_COLUMNS = ("capacity", "params", "misses_objective")


def _read_best(folder: Path) -> dict[str, Any] | None:
    path = folder / "best.json"
    if not path.is_file():
        return None
    try:
        best = json.loads(path.read_text())
    except json.JSONDecodeError:
        return None
    return best if isinstance(best, dict) else None


def _figure(value: Any, digits: int = 0) -> str:
    if not isinstance(value, int | float) or math.isnan(value):
        return "—"
    return f"{value:,.{digits}f}"


def _gain(value: Any) -> str:
    if not isinstance(value, int | float) or math.isnan(value):
        return "—"
    return f"{value:+.1%}"


def _difference(comparison: Any) -> str:
    """A comparison from best.json: the difference in misses and its 95 % interval, or "not significant"."""
    if not isinstance(comparison, dict) or not isinstance(comparison.get("misses"), int | float):
        return "—"
    text = f"{comparison['misses']:+,.0f}"
    low, high = comparison.get("low"), comparison.get("high")
    if isinstance(low, int | float) and isinstance(high, int | float):
        text += f" [{low:+,.0f}, {high:+,.0f}]" + ("" if comparison.get("significant") else " not significant")
    return text


def _part(comparison: Any) -> str:
    return "held out" if isinstance(comparison, dict) and comparison.get("measured_on") == "holdout" else "tuning"


def _params_text(params: Any) -> str:
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except json.JSONDecodeError:
            return params
    if not isinstance(params, dict) or not params:
        return "defaults" if isinstance(params, dict) else "—"
    return ", ".join(
        f"{name}={value:.4g}" if isinstance(value, float) else f"{name}={value}" for name, value in params.items()
    )


def _capacity_text(capacity: Any, unit: str) -> str:
    if not isinstance(capacity, int | float):
        return "—"
    return format_bytes(capacity) if unit == "bytes" else f"{capacity:,.0f} objects"


def _recommendation(best: dict[str, Any]) -> str:
    unit = best.get("capacity_unit", "objects")
    fleet = best.get("fleet")
    fleet_text = ""
    if fleet:
        fleet_text = (f" a shard, {fleet['shards']} shards by {fleet['shard_hash']} (the fleet: "
                      f"{_capacity_text(fleet['fleet_capacity'], unit)}; every figure is the fleet's)")  # fmt: skip
    head = (
        f"<p><b>{escape(str(best.get('policy')))}</b> at <b>{escape(_capacity_text(best.get('capacity'), unit))}</b>"
        f"{escape(fleet_text)} with {escape(_params_text(best.get('params')))}</p>"
    )
    lru, opt = best.get("lru") or {}, best.get("opt") or {}
    figures = [
        ("misses/h, tuning part", _figure(best.get("misses_per_hour"))),
        ("misses/h, held-out part", _figure(best.get("holdout_misses_per_hour"))),
        (
            "LRU at the same size, tuning / held out",
            f"{_figure(lru.get('misses_per_hour'))} / {_figure(lru.get('holdout_misses_per_hour'))}",
        ),
        (
            "fewer misses than LRU, tuning / held out",
            f"{_gain(best.get('improvement_over_lru'))} / {_gain(best.get('holdout_improvement_over_lru'))}",
        ),
        (
            f"misses minus LRU's ({_part(best.get('misses_against_lru'))}), 95 % interval",
            _difference(best.get("misses_against_lru")),
        ),
    ]
    holdout_miss_ratio = best.get("holdout_miss_ratio")
    if isinstance(holdout_miss_ratio, int | float):
        figures.insert(2, ("hit ratio, held-out part", f"{1.0 - holdout_miss_ratio:.2%}"))
    default = best.get("default")
    if default:
        target = str(best.get("target"))
        figures += [
            (
                f"{target}'s default ({default.get('policy')}) at the same size, tuning / held out",
                f"{_figure(default.get('misses_per_hour'))} / {_figure(default.get('holdout_misses_per_hour'))}",
            ),
            (
                f"fewer misses than {target}'s default, tuning / held out",
                f"{_gain(best.get('saving_over_default'))} / {_gain(best.get('holdout_saving_over_default'))}",
            ),
            (
                f"misses minus {target}'s default's ({_part(best.get('misses_against_default'))}), 95 % interval",
                _difference(best.get("misses_against_default")),
            ),
        ]
    if opt:
        figures.append(
            (
                ("OPT, offline best found" if unit == "bytes" else "OPT floor (offline optimum)")
                + ", tuning / held out",
                f"{_figure(opt.get('misses_per_hour'))} / {_figure(opt.get('holdout_misses_per_hour'))}",
            )
        )
    cells = "".join(f'<div class="figure">{escape(label)}<b>{escape(value)}</b></div>' for label, value in figures)
    counts = best.get("trials") or {}
    rule = best.get("rule")
    chosen = (
        f"the smallest configuration within {float(best.get('tolerance', 0)):.1%} of the best found"
        if not rule
        else f"the smallest configuration found avoiding at least {float(rule['target_gain']):.0%} of the avoidable "
        f"misses ({_figure(rule['requests'])} GETs on the {rule['measured_on']} part less "
        f"{_figure(rule['cold_misses'])} cold misses, which even the whole working set has); it avoids "
        f"{float(rule['avoided']):.1%}; "
        + (
            "LRU misses more even at the whole working set"
            if rule.get("lru_capacity") is None
            else f"LRU needs {_capacity_text(rule['lru_capacity'], unit)} for as few misses"
        )
    )
    details = (
        f"Objective {best.get('objective', '?')}; {chosen}. The held-out part is the last "
        f"{float(best.get('holdout', 0)):.0%} of the trace, never seen while tuning. Trials: "
        f"{counts.get('complete', '?')} complete, {counts.get('pruned', '?')} pruned, "
        f"{counts.get('failed', '?')} failed."
    )
    if best.get("interrupted"):
        details += " The search was interrupted: this is the best of the trials finished so far."
    return (
        f'<section class="box" id="recommendation"><h2>Recommendation</h2>{head}'
        f'<div class="figures">{cells}</div>{note(details)}{_deploy(best)}</section>'
    )


def _deploy(best: dict[str, Any]) -> str:
    """With a target: the settings to apply (also in the run's ``deploy/`` files) and the command to check them."""
    settings = best.get("deploy")
    if not settings:
        return ""
    rows = "".join(f"<tr><td>{escape(str(name))}</td><td><code>{escape(str(value))}</code></td></tr>"
                   for name, value in settings.items())  # fmt: skip
    verify = best.get("verify")
    check = f"<p>Check the model against {escape(str(best.get('target')))}: <code>{escape(verify)}</code></p>"
    return (
        f"<h3>Apply to {escape(str(best.get('target')))}</h3><table>{rows}</table>"
        f"<p>The run folder's <code>deploy/</code> holds these settings as files to apply.</p>"
        + (check if verify else "")
    )


def _value_column(trials: pd.DataFrame) -> str | None:
    return next((column for column in ("value", "value_misses") if column in trials.columns), None)


def _objective_axis(objective: str, values: pd.Series, capacity_axis: bool = False) -> Axis:
    positive = values[values > 0]
    wide = len(positive) == len(values) and len(values) > 1 and positive.max() / positive.min() > 20
    label = OBJECTIVE_LABELS.get(objective, objective)
    return Axis(label + (", log scale" if wide else ""), log=wide, zero=not wide and not capacity_axis)


def _policies(trials: pd.DataFrame, value: str) -> list[str]:
    return list(trials.groupby("policy")[value].min().sort_values(kind="stable").index)


def _history(trials: pd.DataFrame, value: str, objective: str) -> str:
    done = trials.sort_values("number")
    series = []
    for policy in _policies(done, value):
        mine = done[done["policy"] == policy]
        hover = [
            f"trial {n}: {policy} at {c:,.0f}, {format_number(v)}"
            for n, c, v in zip(mine["number"], mine["capacity"], mine[value], strict=True)
        ]
        series.append(
            Series(policy, list(mine["number"]), list(mine[value]), policy_colour(policy), line=False, hover=hover)
        )
    best = done[value].cummin().to_numpy()
    numbers = done["number"].to_numpy()
    xs = [*(x for n in numbers for x in (n, n))][1:]  # a step: across at the old best, then down
    ys = [*(y for b in best for y in (b, b))][:-1]
    series.append(Series("best so far", xs, ys, "#000000", markers=False))
    return line_chart(
        "optimization-history",
        "Optimization history: each trial's objective",
        series,
        Axis("trial number"),
        _objective_axis(objective, done[value]),
    )


def _by_capacity(
    trials: pd.DataFrame, value: str, objective: str, unit: str, front: pd.DataFrame | None, best: dict[str, Any] | None
) -> str:
    series = []
    for policy in _policies(trials, value):
        mine = trials[trials["policy"] == policy]
        hover = [
            f"trial {n}: {policy} at {c:,.0f}, {format_number(v)}"
            for n, c, v in zip(mine["number"], mine["capacity"], mine[value], strict=True)
        ]
        series.append(
            Series(policy, list(mine["capacity"]), list(mine[value]), policy_colour(policy), line=False, hover=hover)
        )
    if front is not None and not front.empty:
        ordered = front.sort_values("capacity")
        series.append(
            Series(
                "Pareto front", list(ordered["capacity"]), list(ordered["misses_objective"]), "#000000", markers=False
            )
        )
    if best and best.get("menu"):
        series.append(_menu_marks(best["menu"]))
    if best and isinstance(best.get("capacity"), int | float) and isinstance(best.get("objective_value"), int | float):
        series.append(
            Series(
                "recommended",
                [best["capacity"]],
                [best["objective_value"]],
                "#000000",
                line=False,
                hover=[f"recommended: {best.get('policy')} at {best['capacity']:,.0f}"],
            )
        )
    x_axis = Axis(
        f"cache size ({'bytes' if unit == 'bytes' else 'objects'}, log scale)",
        log=True,
        format=format_bytes if unit == "bytes" else format_number,
    )
    if front is not None:
        chart_id, title = "pareto-front", "Pareto front: misses per hour against cache size"
    else:
        chart_id, title = "trials-by-capacity", "Every trial by cache size (the recommendation in black)"
    return line_chart(chart_id, title, series, x_axis, _objective_axis(objective, trials[value], True))


def _menu_marks(menu: list[dict[str, Any]]) -> Series:
    """The menu's configurations on the front chart, at their tuning-part objective."""
    shown = [item for item in menu if isinstance(item.get("objective_value"), int | float)]
    return Series(
        "menu (share of avoidable misses avoided, held out)",
        [item["capacity"] for item in shown],
        [item["objective_value"] for item in shown],
        "#d62728",
        line=False,
        hover=[
            f"≥ {item['level']:.0%}: {item['policy']} at {item['capacity']:,.0f}, avoids {item['avoided']:.1%}"
            for item in shown
        ],
    )


def _menu_chart(menu: list[dict[str, Any]], unit: str) -> str:
    """Share avoided against size: the menu's policy and LRU at the size it needs for the same misses."""
    with_lru = [item for item in menu if item.get("lru_capacity")]
    series = [
        Series(
            "best policy found",
            [item["capacity"] for item in menu],
            [item["avoided"] for item in menu],
            "#000000",
            hover=[f"≥ {item['level']:.0%}: {item['policy']} at {item['capacity']:,.0f}" for item in menu],
        ),
        Series(
            "LRU, same misses",
            [item["lru_capacity"] for item in with_lru],
            [item["avoided"] for item in with_lru],
            policy_colour("lru"),
            dashed=True,
            hover=[f"≥ {item['level']:.0%}: LRU at {item['lru_capacity']:,.0f}" for item in with_lru],
        ),
    ]
    x_axis = Axis(
        f"cache size ({'bytes' if unit == 'bytes' else 'objects'}, log scale)",
        log=True,
        format=format_bytes if unit == "bytes" else format_number,
    )
    return line_chart(
        "how-much-cache",
        "How much cache: avoidable misses avoided (held out)",
        series,
        x_axis,
        Axis("avoided share of the avoidable misses", format=lambda v: f"{v:.0%}"),
    )


def _importance_chart(importances: pd.DataFrame) -> str:
    ordered = pd.concat([importances[importances["scope"] == "all"], importances[importances["scope"] != "all"]])
    labels = [
        ("all trials" if s == "all" else s) + ": " + p
        for s, p in zip(ordered["scope"], ordered["parameter"], strict=True)
    ]
    colours = [_SCOPE_COLOUR if s == "all" else policy_colour(s) for s in ordered["scope"]]
    return horizontal_bar_chart(
        "parameter-importances",
        "Parameter importances (PED-ANOVA, best 10% of trials)",
        labels,
        list(ordered["importance"]),
        colours,
        Axis("importance, share within each group (all trials, then each policy)", format=lambda v: f"{v:.0%}"),
    )


def sections(folder: Path, run: dict[str, Any]) -> list[str]:
    """The optimize report's sections after the run description."""
    best = _read_best(folder)
    trials = read_table(folder, "trials", TRIALS_COLUMNS)
    front = read_table(folder, "pareto", PARETO_COLUMNS)
    objective = (best or {}).get("objective") or (run.get("options") or {}).get("objective") or "misses-per-hour"
    unit = (best or {}).get("capacity_unit", "objects")
    parts = [_recommendation(best)] if best else [note("best.json is missing: no recommendation to show.")]
    value = _value_column(trials) if trials is not None else None
    charts = []
    if trials is not None and value is not None:
        scored = trials[np.isfinite(pd.to_numeric(trials[value], errors="coerce"))]
        if "state" in scored.columns:
            scored = scored[scored["state"] == "complete"]
        if not scored.empty:
            charts += [_history(scored, value, objective), _by_capacity(scored, value, objective, unit, front, best)]
            if best and best.get("menu"):
                charts.append(_menu_chart(best["menu"], unit))
            importances = param_importances(scored, value)
            if not importances.empty:
                charts.append(_importance_chart(importances))
    if charts:
        parts.append(
            section(
                "Charts",
                chart_grid(charts)
                + note(
                    "Colours stand for the same policy in every chart and report. Pruned trials (stopped early as "
                    "hopeless) have no final value and are not drawn."
                ),
                "charts",
            )
        )
    if best and best.get("menu"):
        menu = pd.DataFrame(best["menu"]).assign(params=lambda f: f["params"].map(_params_text))
        parts.append(
            section(
                "Menu",
                table(
                    menu,
                    "menu",
                    "The smallest configuration found avoiding each share of the avoidable misses on the held-out "
                    "part, and the size LRU needs for as few misses there (lru_capacity): saved_over_lru is the "
                    "memory a better policy saves (menu.csv).",
                ),
                "menu",
            )
        )
    if best and best.get("top"):
        top = pd.DataFrame(best["top"]).assign(params=lambda f: f["params"].map(_params_text))
        parts.append(
            section("Top configurations", table(top, "top", "Best first on the tuning part (best.json)."), "top")
        )
    if front is not None:
        shown = front.assign(params=front["params"].map(_params_text))
        parts.append(
            section(
                "Pareto front",
                table(
                    shown, "pareto", "No other configuration has both fewer misses and a smaller cache (pareto.csv)."
                ),
                "pareto",
            )
        )
    if trials is not None:
        parts.append(
            section(
                "All trials",
                "<details><summary>Show every trial (trials.csv)</summary>" + table(trials, "trials") + "</details>",
                "trials",
            )
        )
    return parts


def subtitle(run: dict[str, Any]) -> str:
    """One line under the title: what was searched."""
    options = run.get("options") or {}
    budget = options.get("budget") or "the working set"
    trials, timeout = options.get("trials"), options.get("timeout")
    limits = [] if trials is None else [counted(trials, "trial")]
    if timeout is not None:  # with --timeout alone there is no trial count: as many run as fit in the time
        limits.append(f"timeout {timeout:g} s")
    return ", ".join([f"objective {options.get('objective', 'misses-per-hour')}", f"budget {budget}", *limits])
