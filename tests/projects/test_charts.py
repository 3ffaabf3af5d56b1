"""The server-rendered SVG charts."""

from __future__ import annotations

import re

from tracker.views.charts import Series, bar_chart


def test_a_chart_is_named_for_screen_readers_and_scales_its_bars() -> None:
    svg = bar_chart(
        chart_id="c1",
        title="Applications & awards",
        description="Per year",
        categories=["2024", "<script>"],
        series=[Series("Applications", [4, 2]), Series("Awarded", [2, None])],
    )
    assert 'role="img"' in svg and 'aria-labelledby="c1-title c1-desc"' in svg
    assert '<title id="c1-title">Applications &amp; awards</title>' in svg
    assert '<desc id="c1-desc">Per year</desc>' in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    bars = re.findall(r'<rect x="190" y="\d+" width="([\d.]+)" height="16"', svg)
    widths = [float(w) for w in bars]
    # The longest bar (4) fills the plot; 2 is half of it; a missing value draws nothing.
    assert widths == [360.0, 180.0, 180.0, 0.0]
    assert svg.count(">–</text>") == 1


def test_an_empty_chart_still_renders() -> None:
    svg = bar_chart(chart_id="c2", title="t", description="d", categories=[], series=[])
    assert svg.startswith("<svg") and svg.endswith("</svg>")
