"""Server-side SVG of the yearly indicators: per year, three bars (procedures launched, contracts
notified, groupings joined), the year under them. No JS library; drawn 1:1 on a 360 px phone."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from cimaise.purchasing.selectors import YearIndicators

CHART_WIDTH = 300.0
CHART_HEIGHT = 120.0
AXIS = 14.0  # room under the bars for the years
SERIES = ("launched", "notified", "joined")


def _bars(i: int, step: float, row: YearIndicators, top: int) -> SafeString:
    room = CHART_HEIGHT - AXIS - 12
    base = CHART_HEIGHT - AXIS
    width = round(step * 0.8 / len(SERIES), 1)
    parts = []
    for j, name in enumerate(SERIES):
        value: int = getattr(row, name)
        height = round(value / top * room, 1)
        x = round(i * step + step * 0.1 + j * width, 1)
        parts.append(
            format_html(
                '<rect class="{}" x="{}" y="{}" width="{}" height="{}"/>'
                '<text class="value" x="{}" y="{}">{}</text>',
                name,
                x,
                round(base - height, 1),
                width,
                height,
                round(x + width / 2, 1),
                round(base - height - 2, 1),
                value,
            )  # fmt: skip
        )
    title = _("%(year)s: %(launched)s launched, %(notified)s notified, %(joined)s groupings joined") % {
        "year": row.year, "launched": row.launched, "notified": row.notified, "joined": row.joined,
    }  # fmt: skip
    return format_html(
        '<g data-year="{}"><title>{}</title>{}<text x="{}" y="{}">{}</text></g>',
        row.year, title, format_html_join("", "{}", ((p,) for p in parts)),
        round(i * step + step / 2, 1), CHART_HEIGHT - 2, row.year,
    )  # fmt: skip


def indicators_chart(rows: Sequence[YearIndicators], title: str) -> SafeString:
    """Grouped bars per year; the tallest bar fills the chart."""
    if not rows:
        return mark_safe("")  # noqa: S308  (constant)
    top = max(1, *(max(r.launched, r.notified, r.joined) for r in rows))
    step = CHART_WIDTH / len(rows)
    base = CHART_HEIGHT - AXIS
    groups = [_bars(i, step, row, top) for i, row in enumerate(rows)]
    return format_html(
        '<svg class="indicators-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img">'
        '<title>{}</title>{}<line class="axis" x1="0" y1="{}" x2="{}" y2="{}"/></svg>',
        CHART_WIDTH, CHART_HEIGHT, title, format_html_join("", "{}", ((g,) for g in groups)),
        base, CHART_WIDTH, base,
    )  # fmt: skip
