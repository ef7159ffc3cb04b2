"""Line charts as SVG, drawn on the server: no script and nothing from the internet, readable without either.

Every point is a circle carrying its values (data-series, data-x, data-y), so that a reader's tools, and the tests,
can count and read what the chart shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 34, 36
COLOURS = ("#1f6fb2", "#e07b00", "#2a9d3c", "#c0392b", "#7b4fb2", "#6b6b6b")
TICKS = 5


def line_chart(
    series: Mapping[str, Sequence[tuple[float, float]]],
    *,
    x_label: str,
    empty: str,
    x_format: Callable[[float], str] = lambda value: f"{value:g}",
) -> Markup:
    """One line per series with a point per value; ``empty`` is what the chart says when there is nothing to draw."""
    drawn = {name: list(points) for name, points in series.items() if points}
    if not drawn:
        return Markup(
            f'<svg class="chart" viewBox="0 0 {WIDTH} 60" role="img"><text x="{WIDTH / 2}" y="34" '
            f'text-anchor="middle" class="chart-empty">{escape(empty)}</text></svg>'
        )
    xs = [x for points in drawn.values() for x, _ in points]
    ys = [y for points in drawn.values() for _, y in points]
    x_low, x_high = _span(min(xs), max(xs))
    y_low, y_high = _span(min(ys), max(ys))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def at(x: float, y: float) -> tuple[float, float]:
        return (LEFT + (x - x_low) / (x_high - x_low) * plot_width,
                TOP + (1 - (y - y_low) / (y_high - y_low)) * plot_height)  # fmt: skip

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(", ".join(drawn))}">']
    for index in range(TICKS + 1):
        y = y_low + (y_high - y_low) * index / TICKS
        _, top = at(x_low, y)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{top:.1f}" y2="{top:.1f}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{top + 4:.1f}" text-anchor="end">{y:.4g}</text>')
    for x in _x_ticks(xs, x_low, x_high):
        left, _ = at(x, y_low)
        parts.append(f'<text class="tick" x="{left:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
                     f"{escape(x_format(x))}</text>")  # fmt: skip
    parts.append(f'<text class="axis" x="{LEFT + plot_width / 2}" y="{HEIGHT - 4}" text-anchor="middle">'
                 f"{escape(x_label)}</text>")  # fmt: skip
    for number, (name, points) in enumerate(drawn.items()):
        colour = COLOURS[number % len(COLOURS)]
        placed = [at(x, y) for x, y in points]
        path = " ".join(f"{left:.1f},{top:.1f}" for left, top in placed)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{path}"/>')
        parts.extend(
            f'<circle class="point" r="2" fill="{colour}" cx="{left:.1f}" cy="{top:.1f}" data-series="{escape(name)}" '
            f'data-x="{x:g}" data-y="{y:.6g}"><title>{escape(name)} {escape(x_format(x))}: {y:.6g}</title></circle>'
            for (left, top), (x, y) in zip(placed, points)
        )  # fmt: skip
        parts.append(f'<rect x="{LEFT + number * 170}" y="8" width="12" height="12" fill="{colour}"/>'
                     f'<text class="legend" x="{LEFT + number * 170 + 18}" y="18">{escape(name)}</text>')  # fmt: skip
    parts.append("</svg>")
    return Markup("".join(parts))


def _x_ticks(xs: list[float], low: float, high: float) -> list[float]:
    """Where the x axis is labelled: TICKS + 1 even steps, or on whole numbers when every x is one (rounds, the
    order of jobs), so that no two labels say the same number."""
    steps = [low + (high - low) * index / TICKS for index in range(TICKS + 1)]
    if all(float(x).is_integer() for x in xs):
        return sorted({float(round(step)) for step in steps if min(xs) <= round(step) <= max(xs)})
    return steps


def _span(low: float, high: float) -> tuple[float, float]:
    """The axis' range: the values' own, or around a single value (a flat line must not divide by zero)."""
    if high > low:
        return low, high
    pad = abs(low) * 0.05 or 1.0
    return low - pad, high + pad
