"""Charts as inline SVG text: no script, no chart library, no network; prints as vectors.

Every chart is a ``<figure class="chart" data-chart=ID>`` holding one ``<svg>``
with its title, axis labels (with units) and legend drawn inside, so a
screenshot, a printout or a copied chart stays self-explanatory. Points and
bars carry a ``<title>`` so hovering shows the exact figure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape

WIDTH = 640
PLOT_HEIGHT = 250
FONT = 12
_LEFT = 70
_RIGHT = 20
_BOTTOM = 48
_LEGEND_ROW = 18


def format_number(value: float) -> str:
    """Short tick label: 0.25, 12, 3.5k, 1.2M."""
    magnitude = abs(value)
    if value == 0:
        return "0"
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def format_bytes(value: float) -> str:
    """Binary byte sizes: 512 B, 64 KiB, 1.5 GiB."""
    for power, unit in ((40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")):
        if abs(value) >= 2**power:
            return f"{value / 2**power:.3g} {unit}"
    return f"{value:.3g} B"


@dataclass(frozen=True)
class Axis:
    """One axis: its label (with the unit), scale and tick format."""

    label: str
    log: bool = False
    zero: bool = False  # linear axes: always show 0
    format: Callable[[float], str] = format_number


@dataclass(frozen=True)
class Series:
    """One policy's line, points or bars.

    ``xs`` are the points' positions; for a ``step`` series they are the
    ``len(ys) + 1`` bin edges. ``hover`` is the text shown over each point.
    ``data`` become ``data-NAME`` attributes of the series' group: the exact
    figures behind a line, for a reader's script or a test to take back out.
    ``errors`` are each point's or bar's ``(low, high)`` interval, drawn as an
    error bar (none where a bound is NaN or the two are equal).
    """

    name: str
    xs: Sequence[float]
    ys: Sequence[float]
    colour: str
    dashed: bool = False
    line: bool = True
    markers: bool = True
    step: bool = False
    hover: Sequence[str] = field(default_factory=tuple)
    data: Mapping[str, str] = field(default_factory=dict)
    errors: Sequence[tuple[float, float]] = field(default_factory=tuple)


@dataclass(frozen=True)
class _Scale:
    low: float
    high: float
    start: float
    end: float
    log: bool

    def __call__(self, value: float) -> float:
        low, high = self.low, self.high
        if self.log:
            low, high, value = math.log10(low), math.log10(high), math.log10(value)
        return self.start + (value - low) / (high - low) * (self.end - self.start)


def _nice_step(span: float, count: int = 5) -> float:
    raw = span / count
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def _linear_ticks(values: Sequence[float], zero: bool) -> tuple[float, float, list[float]]:
    low, high = min(values), max(values)
    if zero:
        low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        low, high = (low - 1, high + 1) if low == 0 else (low - abs(low) * 0.1, high + abs(high) * 0.1)
    step = _nice_step(high - low)
    low, high = math.floor(low / step + 1e-9) * step, math.ceil(high / step - 1e-9) * step
    ticks = [low + index * step for index in range(round((high - low) / step) + 1)]
    return low, high, [round(tick, 12) for tick in ticks]


def _log_ticks(values: Sequence[float]) -> tuple[float, float, list[float]]:
    positive = [value for value in values if value > 0]
    low, high = (min(positive), max(positive)) if positive else (1.0, 10.0)
    low, high = low / 1.25, high * 1.25
    decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    for multiples in ((1,), (1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9)):
        if len(multiples) == 1 and len(decades) <= 3:
            continue
        ticks = [m * 10.0**d for d in decades for m in multiples if low <= m * 10.0**d <= high]
        if len(ticks) >= 3:
            break
    return low, high, ticks


def _scale(values: Sequence[float], axis: Axis, start: float, end: float) -> tuple[_Scale, list[float]]:
    low, high, ticks = _log_ticks(values) if axis.log else _linear_ticks(values, axis.zero)
    return _Scale(low, high, start, end, axis.log), ticks


def _text(x: float, y: float, content: str, anchor: str = "start", size: int = FONT, extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"{extra}>{escape(content)}</text>'


def _text_width(content: str, size: int = FONT) -> float:
    return len(content) * size * 0.6


def _legend(entries: Sequence[tuple[str, str, bool]], top: float, bars: bool) -> tuple[str, float]:
    """Legend rows under the title; returns the SVG and the height used."""
    if not entries:
        return "", 0.0
    parts, x, y = [], float(_LEFT), top + _LEGEND_ROW / 2
    for name, colour, dashed in entries:
        width = 26 + _text_width(name)
        if x + width > WIDTH - _RIGHT and x > _LEFT:
            x, y = float(_LEFT), y + _LEGEND_ROW
        if bars:
            parts.append(f'<rect x="{x:.1f}" y="{y - 5:.1f}" width="14" height="10" fill="{colour}"/>')
        else:
            dash = ' stroke-dasharray="5 3"' if dashed else ""
            parts.append(
                f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x + 18:.1f}" y2="{y:.1f}" stroke="{colour}" '
                f'stroke-width="2.5"{dash}/>'
            )
        parts.append(_text(x + 22, y + 4, name))
        x += width + 12
    return f'<g class="legend">{"".join(parts)}</g>', y - top + _LEGEND_ROW / 2 + 6


def _frame(chart_id: str, title: str, body: str, height: float) -> str:
    heading = _text(12, 22, title, size=15, extra=' font-weight="600"')
    return (
        f'<figure class="chart" data-chart="{escape(chart_id)}">'
        f'<svg viewBox="0 0 {WIDTH} {height:.0f}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{heading}{body}</svg></figure>"
    )


def _axes(
    x_ticks: list[tuple[float, str]],
    y_ticks: list[tuple[float, str]],
    box: tuple[float, float, float, float],
    x_label: str,
    y_label: str,
) -> str:
    """Grid lines, tick labels and axis titles around the plot box (left, top, right, bottom)."""
    left, top, right, bottom = box
    parts = ['<g class="grid" stroke="#ddd" stroke-width="1">']
    parts += [f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{right:.1f}" y2="{y:.1f}"/>' for y, _ in y_ticks]
    parts += [f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}"/>' for x, _ in x_ticks]
    parts.append("</g>")
    parts.append(
        f'<path d="M{left:.1f},{top:.1f}V{bottom:.1f}H{right:.1f}" fill="none" stroke="#555" stroke-width="1"/>'
    )
    parts += [_text(left - 6, y + 4, label, "end", 11) for y, label in y_ticks]
    parts += [_text(x, bottom + 16, label, "middle", 11) for x, label in x_ticks]
    parts.append(_text((left + right) / 2, bottom + 38, x_label, "middle"))
    middle = (top + bottom) / 2
    parts.append(_text(16, middle, y_label, "middle", extra=f' transform="rotate(-90 16 {middle:.1f})"'))
    return "".join(parts)


def _error_bar(x: float, low: float, high: float, colour: str, cap: float) -> str:
    """An interval ``[low, high]`` (already in pixels) at ``x``: a vertical line with short caps."""
    return (f'<path class="error-bar" d="M{x:.1f},{low:.1f}V{high:.1f}M{x - cap:.1f},{low:.1f}H{x + cap:.1f}'
            f'M{x - cap:.1f},{high:.1f}H{x + cap:.1f}" stroke="{colour}" stroke-width="1.4" fill="none"/>')  # fmt: skip


def _errors_svg(series: Series, pixels: Sequence[float | None], y_scale: _Scale, colour: str, cap: float) -> str:
    """``series``' error bars at the x positions ``pixels`` (None: the point is not drawn), one per interval
    with two finite, distinct bounds."""
    parts = []
    for x, (low, high) in zip(pixels, series.errors, strict=False):
        usable = all(math.isfinite(v) and (not y_scale.log or v > 0) for v in (low, high))
        if x is not None and usable and low != high:
            parts.append(_error_bar(x, y_scale(low), y_scale(high), colour, cap))
    return "".join(parts)


def _series_svg(series: Series, x_scale: _Scale, y_scale: _Scale) -> str:
    def usable(x: float, y: float) -> bool:
        return all(math.isfinite(v) and (not log or v > 0) for v, log in ((x, x_scale.log), (y, y_scale.log)))

    dash = ' stroke-dasharray="6 4"' if series.dashed else ""
    parts = []
    if series.step:
        edges = list(series.xs)
        commands = []
        for index, y in enumerate(series.ys):
            if not usable(edges[index], y):
                continue
            x0, x1, py = x_scale(edges[index]), x_scale(edges[index + 1]), y_scale(y)
            commands.append(f"{'L' if commands else 'M'}{x0:.1f},{py:.1f}H{x1:.1f}")
        points = [((edges[i] + edges[i + 1]) / 2, y) for i, y in enumerate(series.ys)]
    else:
        points = list(zip(series.xs, series.ys, strict=True))
        commands = [
            f"{'L' if index else 'M'}{x_scale(x):.1f},{y_scale(y):.1f}"
            for index, (x, y) in enumerate(point for point in points if usable(*point))
        ]
    if series.line and commands:
        parts.append(f'<path d="{"".join(commands)}" fill="none" stroke="{series.colour}" stroke-width="2.2"{dash}/>')
    if series.markers or series.step:
        radius = 2.5 if series.step else 3.5
        for index, (x, y) in enumerate(points):
            if not usable(x, y):
                continue
            hover = series.hover[index] if index < len(series.hover) else f"{series.name}: {format_number(y)}"
            parts.append(
                f'<circle cx="{x_scale(x):.1f}" cy="{y_scale(y):.1f}" r="{radius}" fill="{series.colour}" '
                f'fill-opacity="{0 if series.step else 1}"><title>{escape(hover)}</title></circle>'
            )
    if series.errors and not series.step:
        pixels = [x_scale(x) if usable(x, y) else None for x, y in points]
        parts.append(_errors_svg(series, pixels, y_scale, series.colour, 3.0))
    data = "".join(f' data-{name}="{escape(value)}"' for name, value in series.data.items())
    return f'<g class="series" data-series="{escape(series.name)}"{data}>{"".join(parts)}</g>'


def line_chart(
    chart_id: str, title: str, series: Sequence[Series], x_axis: Axis, y_axis: Axis, legend: bool = True
) -> str:
    """Lines and/or points of several series over shared axes (either may be logarithmic)."""
    legend_svg, legend_height = _legend(
        [(s.name, s.colour, s.dashed) for s in series] if legend else [], 32, bars=False
    )
    top = 40 + legend_height
    box = (float(_LEFT), top, float(WIDTH - _RIGHT), top + PLOT_HEIGHT)
    xs = [x for s in series for x in s.xs if math.isfinite(x)]
    ys = [y for s in series for y in [*s.ys, *(end for pair in s.errors for end in pair)] if math.isfinite(y)]
    x_scale, x_ticks = _scale(xs or [0.0, 1.0], x_axis, box[0] + 6, box[2] - 6)
    y_scale, y_ticks = _scale(ys or [0.0, 1.0], y_axis, box[3], box[1])
    body = _axes(
        [(x_scale(t), x_axis.format(t)) for t in x_ticks],
        [(y_scale(t), y_axis.format(t)) for t in y_ticks],
        box,
        x_axis.label,
        y_axis.label,
    )
    body += legend_svg + "".join(_series_svg(s, x_scale, y_scale) for s in series)
    return _frame(chart_id, title, body, box[3] + _BOTTOM)


@dataclass(frozen=True)
class SecondAxis:
    """A right-hand axis for the same bars in another unit: ``right = left × factor``."""

    label: str
    factor: float
    format: Callable[[float], str] = format_number


def bar_chart(
    chart_id: str,
    title: str,
    groups: Sequence[str],
    series: Sequence[Series],
    x_label: str,
    y_axis: Axis,
    second: SecondAxis | None = None,
) -> str:
    """Grouped vertical bars: one group per entry of ``groups``, one bar per series (``ys`` by group)."""
    legend_svg, legend_height = _legend([(s.name, s.colour, False) for s in series], 32, bars=True)
    top = 40 + legend_height
    right = WIDTH - (_LEFT if second else _RIGHT)
    box = (float(_LEFT), top, float(right), top + PLOT_HEIGHT)
    values = [y for s in series for y in [*s.ys, *(end for pair in s.errors for end in pair)] if math.isfinite(y)]
    y_scale, y_ticks = _scale([*values, 0.0], Axis(y_axis.label, zero=True), box[3], box[1])
    slot = (box[2] - box[0]) / max(1, len(groups))
    bar = slot * 0.84 / max(1, len(series))
    group_ticks = [(box[0] + slot * (index + 0.5), name) for index, name in enumerate(groups)]
    body = _axes([], [(y_scale(t), y_axis.format(t)) for t in y_ticks], box, x_label, y_axis.label)
    every = max(1, math.ceil(max((_text_width(name, 11) for name in groups), default=0) / (slot * 0.9)))
    body += "".join(_text(x, box[3] + 16, name, "middle", 11) for x, name in group_ticks[::every])
    if second:
        middle = (box[1] + box[3]) / 2
        *_, right_ticks = _linear_ticks([y_scale.high * second.factor], zero=True)
        body += "".join(
            _text(box[2] + 6, y_scale(t / second.factor) + 4, second.format(t), size=11)
            for t in right_ticks
            if t <= y_scale.high * second.factor * (1 + 1e-9)
        )
        turn = f' transform="rotate(90 {WIDTH - 10} {middle:.1f})"'
        body += _text(WIDTH - 10, middle, second.label, "middle", extra=turn)
    body += legend_svg
    for position, s in enumerate(series):
        rects = []
        for index, y in enumerate(s.ys):
            if not math.isfinite(y):
                continue
            x = box[0] + slot * index + slot * 0.08 + bar * position
            top_y = y_scale(max(y, 0.0))
            hover = s.hover[index] if index < len(s.hover) else f"{s.name}, {groups[index]}: {y_axis.format(y)}"
            rects.append(
                f'<rect x="{x:.1f}" y="{top_y:.1f}" width="{max(bar - 1, 1):.1f}" '
                f'height="{max(y_scale(0.0) - top_y, 0.5):.1f}" fill="{s.colour}"><title>{escape(hover)}</title></rect>'
            )
        centres = [box[0] + slot * index + slot * 0.08 + bar * (position + 0.5) for index in range(len(s.ys))]
        whiskers = _errors_svg(s, centres, y_scale, "#222", min(4.0, bar / 3))
        body += f'<g class="series" data-series="{escape(s.name)}">{"".join(rects)}{whiskers}</g>'
    return _frame(chart_id, title, body, box[3] + _BOTTOM)


def horizontal_bar_chart(
    chart_id: str, title: str, labels: Sequence[str], values: Sequence[float], colours: Sequence[str], x_axis: Axis
) -> str:
    """One horizontal bar per label, top to bottom in the given order (for rankings)."""
    left = max(_LEFT, 16 + max((_text_width(label) for label in labels), default=0))
    row = 24
    box = (float(left), 40.0, float(WIDTH - _RIGHT - 20), 40.0 + row * max(1, len(labels)))
    x_scale, x_ticks = _scale([*values, 0.0], Axis(x_axis.label, zero=True), box[0], box[2])
    body = _axes([(x_scale(t), x_axis.format(t)) for t in x_ticks], [], box, x_axis.label, "")
    for index, (label, value, colour) in enumerate(zip(labels, values, colours, strict=True)):
        y = box[1] + row * index
        body += _text(box[0] - 8, y + row / 2 + 4, label, "end")
        width = max(x_scale(value) - x_scale(0.0), 0.5)
        body += (
            f'<g class="series" data-series="{escape(label)}"><rect x="{box[0]:.1f}" y="{y + 4:.1f}" '
            f'width="{width:.1f}" height="{row - 8}" fill="{colour}">'
            f"<title>{escape(label)}: {escape(x_axis.format(value))}</title></rect></g>"
        )
        body += _text(box[0] + width + 4, y + row / 2 + 4, x_axis.format(value), size=11)
    return _frame(chart_id, title, body, box[3] + _BOTTOM)
