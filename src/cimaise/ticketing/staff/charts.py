"""Server-side SVG for the capacity pages: a fill bar per slot and a fill chart per entrance
(one bar per half-hour, its height the share of the entrance's places taken). No JS library."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WARN_AT = 75
FULL_AT = 95
CHART_WIDTH = 300.0  # drawn 1:1 on a 360 px handheld
CHART_HEIGHT = 100.0
AXIS = 16.0  # room under the bars for the hour labels
LABEL_EVERY_BAR = 12  # up to this many bars, each has its label; beyond, every other one


@dataclass(frozen=True)
class Point:
    at: dt.datetime
    label: str
    taken: int
    capacity: int


def percent(taken: int, capacity: int) -> int:
    """The share taken, 0–100 (a quota with no capacity counts as full)."""
    if capacity <= 0:
        return 100
    return max(0, min(100, round(taken * 100 / capacity)))


def tone(share: int) -> str:
    if share >= FULL_AT:
        return "full"
    return "warn" if share >= WARN_AT else "ok"


def fill_bar(taken: int, capacity: int) -> SafeString:
    """A 100 × 8 bar, filled to the share taken; the figure is in the title for screen readers."""
    share = percent(taken, capacity)
    return format_html(
        '<svg class="fill-bar" viewBox="0 0 100 8" preserveAspectRatio="none" role="img">'
        '<title>{} %</title><rect class="fill-bg" width="100" height="8"/>'
        '<rect class="fill-{}" width="{}" height="8"/></svg>',
        share, tone(share), share,
    )  # fmt: skip


def _bar(i: int, step: float, point: Point) -> SafeString:
    share = percent(point.taken, point.capacity)
    top = CHART_HEIGHT - AXIS
    height = round(share / 100 * (top - 4), 1)
    x, width = round(i * step + step * 0.1, 1), round(step * 0.8, 1)
    return format_html(
        '<g><title>{}: {} / {}</title><rect class="fill-bg" x="{}" y="4" width="{}" height="{}"/>'
        '<rect class="fill-{}" x="{}" y="{}" width="{}" height="{}"/></g>',
        point.label, point.taken, point.capacity, x, width, round(top - 4, 1),
        tone(share), x, round(top - height, 1), width, height,
    )  # fmt: skip


def _label(i: int, step: float, point: Point) -> SafeString:
    return format_html(
        '<text x="{}" y="{}">{}</text>',
        round(i * step + step * 0.1, 1), CHART_HEIGHT - 3, point.label,
    )  # fmt: skip


def entrance_chart(points: Sequence[Point], title: str) -> SafeString:
    """Bars per half-hour of the entrance's quota taken; hours labelled under every other bar
    when there are many."""
    if not points:
        return mark_safe("")  # noqa: S308  (constant)
    step = CHART_WIDTH / len(points)
    every = 1 if len(points) <= LABEL_EVERY_BAR else 2
    bars = [_bar(i, step, p) for i, p in enumerate(points)]
    labels = [_label(i, step, p) for i, p in enumerate(points) if i % every == 0]
    top = CHART_HEIGHT - AXIS
    return format_html(
        '<svg class="fill-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img">'
        '<title>{}</title><line class="full" x1="0" y1="4" x2="{}" y2="4"/>{}'
        '<line class="axis" x1="0" y1="{}" x2="{}" y2="{}"/>{}</svg>',
        CHART_WIDTH, CHART_HEIGHT, title, CHART_WIDTH, format_html_join("", "{}", ((b,) for b in bars)),
        top, CHART_WIDTH, top, format_html_join("", "{}", ((t,) for t in labels)),
    )  # fmt: skip
