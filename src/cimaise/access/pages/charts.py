"""Server-side SVG for the monitor: a lane's scans per 5 minutes over the last two hours, accepted
(green) under refused (red), the half-hours labelled. No JS library; drawn 1:1 on a 360 px
handheld."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from cimaise.access.decide import PARIS
from cimaise.access.monitor import Bucket

CHART_WIDTH = 288.0
CHART_HEIGHT = 64.0
AXIS = 12.0  # room under the bars for the times
MIN_SCALE = 10  # a quiet lane's few scans do not fill the chart
LABEL_EVERY = 6  # one time label every half-hour (6 buckets of 5 minutes)


def _bar(i: int, step: float, bucket: Bucket, top: int) -> SafeString:
    room = CHART_HEIGHT - AXIS - 2
    base = CHART_HEIGHT - AXIS
    accepted = round(bucket.accepted / top * room, 1)
    rejected = round(bucket.rejected / top * room, 1)
    x, width = round(i * step + 1, 1), round(step - 2, 1)
    label = _("%(time)s: %(accepted)s accepted, %(rejected)s refused") % {
        "time": timezone.localtime(bucket.start, PARIS).strftime("%H:%M"),
        "accepted": bucket.accepted,
        "rejected": bucket.rejected,
    }
    return format_html(
        '<g><title>{}</title><rect class="ok" x="{}" y="{}" width="{}" height="{}"/>'
        '<rect class="bad" x="{}" y="{}" width="{}" height="{}"/></g>',
        label, x, round(base - accepted, 1), width, accepted,
        x, round(base - accepted - rejected, 1), width, rejected,
    )  # fmt: skip


def _label(i: int, step: float, bucket: Bucket) -> SafeString:
    return format_html(
        '<text x="{}" y="{}">{}</text>',
        round(i * step, 1), CHART_HEIGHT - 2, timezone.localtime(bucket.start, PARIS).strftime("%H:%M"),
    )  # fmt: skip


def lane_chart(buckets: Sequence[Bucket], title: str) -> SafeString:
    """Stacked bars per 5 minutes: accepted below, refused above."""
    if not buckets:
        return mark_safe("")  # noqa: S308  (constant)
    top = max(MIN_SCALE, *(b.total for b in buckets))
    step = CHART_WIDTH / len(buckets)
    bars = [_bar(i, step, b, top) for i, b in enumerate(buckets)]
    labels = [_label(i, step, b) for i, b in enumerate(buckets) if i % LABEL_EVERY == 0]
    base = CHART_HEIGHT - AXIS
    return format_html(
        '<svg class="lane-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img">'
        '<title>{}</title>{}<line class="axis" x1="0" y1="{}" x2="{}" y2="{}"/>{}</svg>',
        CHART_WIDTH, CHART_HEIGHT, title, format_html_join("", "{}", ((b,) for b in bars)),
        base, CHART_WIDTH, base, format_html_join("", "{}", ((t,) for t in labels)),
    )  # fmt: skip
