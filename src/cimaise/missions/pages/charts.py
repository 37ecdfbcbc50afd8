"""Server-side SVG for the reception page: people expected per day over a week, a bar per day,
the site's capacity as a line; a day over capacity is drawn in the warning colour. No JS."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from cimaise.missions.reception import Day

WIDTH, HEIGHT, AXIS = 300.0, 110.0, 16.0


def week_chart(days: Sequence[Day], title: str) -> SafeString:
    """One bar per day (staff plus visitors), labelled with its count and weekday."""
    capacity = days[0].site.capacity if days else None
    top = max([d.people for d in days] + [capacity or 0, 1])
    slot = WIDTH / max(len(days), 1)
    plot = HEIGHT - AXIS - 12

    def y(value: int) -> float:
        return round(HEIGHT - AXIS - value * plot / top, 1)

    bars = format_html_join(
        "",
        '<g data-day="{}"><rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>'
        '<text x="{}" y="{}" text-anchor="middle" font-size="10">{}</text>'
        '<text x="{}" y="{}" text-anchor="middle" font-size="10">{}</text></g>',
        (
            (
                d.day.isoformat(),
                round(i * slot + 4, 1),
                y(d.people),
                round(slot - 8, 1),
                round(HEIGHT - AXIS - y(d.people), 1),
                "#b3261e" if d.over_capacity else "#35608f",
                round(i * slot + slot / 2, 1),
                y(d.people) - 2,
                d.people,
                round(i * slot + slot / 2, 1),
                HEIGHT - 3,
                d.day.strftime("%d/%m"),
            )
            for i, d in enumerate(days)
        ),
    )
    line = (
        format_html(
            '<line x1="0" x2="{}" y1="{}" y2="{}" stroke="#b3261e" stroke-dasharray="4 3"/>',
            WIDTH,
            y(capacity),
            y(capacity),
        )
        if capacity
        else ""
    )
    return format_html(
        '<svg class="week-chart" role="img" viewBox="0 0 {} {}" width="100%" style="max-width:{}px">'
        "<title>{}</title>{}{}</svg>",
        WIDTH,
        HEIGHT,
        int(WIDTH),
        title,
        bars,
        line,
    )
