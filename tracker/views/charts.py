"""Server-rendered SVG bar charts: no script and no CDN, readable by screen readers (a
title and a description name the chart; the page puts the data table beside it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
LABEL_WIDTH = 190
VALUE_WIDTH = 90
BAR_HEIGHT = 16
BAR_GAP = 3
GROUP_GAP = 12
TOP = 34
LABEL_CHARS = 28
# Colours with at least 3:1 contrast against white and against each other for colour-blind
# readers (blue, orange, green); the legend and the table carry the same information.
COLOURS = ("#00558c", "#b35900", "#1e6b2f")


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    value_format: Callable[[float], str] = lambda v: f"{v:g}",
    maximum: float | None = None,
) -> Markup:
    """Horizontal grouped bars: one group per category, one bar per series."""
    values = [v for s in series for v in s.values if v is not None]
    top = maximum if maximum is not None else max(values, default=0.0)
    scale = (WIDTH - LABEL_WIDTH - VALUE_WIDTH) / top if top > 0 else 0.0
    group_height = len(series) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP
    height = TOP + max(len(categories), 1) * (group_height + GROUP_GAP) + 4
    ident = escape(chart_id)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-labelledby="{ident}-title {ident}-desc">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(description)}</desc>',
    ]
    x = LABEL_WIDTH
    for index, item in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        parts.append(
            f'<rect x="{x}" y="8" width="12" height="12" fill="{colour}" aria-hidden="true"/>'
        )
        parts.append(f'<text x="{x + 16}" y="18" class="legend">{escape(item.label)}</text>')
        x += 24 + 8 * len(item.label)
    if not categories:
        parts.append(f'<text x="{LABEL_WIDTH}" y="{TOP + 14}" class="empty">–</text>')
    for position, category in enumerate(categories):
        y = TOP + position * (group_height + GROUP_GAP)
        label_y = y + group_height / 2 + 4
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{label_y:g}" text-anchor="end" class="label">'
            f"<title>{escape(category)}</title>{escape(_short(category))}</text>"
        )
        for index, item in enumerate(series):
            value = item.values[position]
            bar_y = y + index * (BAR_HEIGHT + BAR_GAP)
            colour = COLOURS[index % len(COLOURS)]
            length = max(0.0, (value or 0.0) * scale)
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{bar_y}" width="{length:.1f}" '
                f'height="{BAR_HEIGHT}" fill="{colour}"/>'
            )
            text = "–" if value is None else value_format(value)
            parts.append(
                f'<text x="{LABEL_WIDTH + length + 4:.1f}" y="{bar_y + BAR_HEIGHT - 4}" '
                f'class="value">{escape(text)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
