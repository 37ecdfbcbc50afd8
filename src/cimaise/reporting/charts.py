"""Server-side SVG charts, the same in the pages and in the monthly PDF (no JS library).

``column_chart``: one bar per label for the main series, and an optional second series drawn as
a line over the bars (the year before, the plan). ``share_chart``: one horizontal bar per label,
for shares. Both scale to their container's width, so they fit a 360 px screen.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH = 320.0
HEIGHT = 150.0
AXIS = 16.0  # room under the bars for the labels
TOP = 14.0  # room above for the legend
MAX_LABELS = 8
ROW = 18.0  # a share chart's row height


# inside each SVG, so that the PDF (which does not apply the page's CSS to SVG) colours it too
STYLE = mark_safe(  # noqa: S308  (constant)
    "<style>.bar,.bar-key{fill:#3b6ea5}.line{fill:none;stroke:#d17a22;stroke-width:2}"
    ".line-key{fill:#d17a22}text{font-size:9px;fill:#333}</style>"
)


def _nice(top: float) -> float:
    return max(top, 1.0)


def _labels(labels: Sequence[str], step: float) -> SafeString:
    every = max(1, -(-len(labels) // MAX_LABELS))
    return format_html_join(
        "",
        '<text class="axis" x="{}" y="{}">{}</text>',
        ((round(i * step + 1, 1), HEIGHT - 3, label) for i, label in enumerate(labels) if i % every == 0),
    )


def _bars(labels: Sequence[str], values: Sequence[float], step: float, top: float) -> SafeString:
    room = HEIGHT - AXIS - TOP
    rows = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = round(float(value) / top * room, 1)
        rows.append((label, value, round(i * step + step * 0.1, 1), round(HEIGHT - AXIS - height, 1),
                     round(step * 0.8, 1), height))  # fmt: skip
    return format_html_join(
        "", '<rect class="bar" x="{2}" y="{3}" width="{4}" height="{5}"><title>{0}: {1}</title></rect>', rows
    )


def _line(values: Sequence[float], step: float, top: float) -> SafeString:
    room = HEIGHT - AXIS - TOP
    coords = [
        (round(i * step + step / 2, 1), round(HEIGHT - AXIS - float(v) / top * room, 1))
        for i, v in enumerate(values)
    ]
    points = [f"{'M' if i == 0 else 'L'}{x},{y}" for i, (x, y) in enumerate(coords)]
    return format_html('<path class="line" d="{}"/>', " ".join(points))


def _legend(names: Sequence[str]) -> SafeString:
    items = [(0 if i == 0 else WIDTH / 2, "bar" if i == 0 else "line", name) for i, name in enumerate(names)]
    return format_html_join(
        "",
        '<g class="legend"><rect class="{1}-key" x="{0}" y="2" width="10" height="8"/>'
        '<text x="{0}" y="10" dx="13">{2}</text></g>',
        items,
    )


def column_chart(
    labels: Sequence[str], values: Sequence[float], title: str, *, names: Sequence[str],
    compare: Sequence[float] | None = None,
) -> SafeString:  # fmt: skip
    """Bars for ``values``, a line for ``compare``; ``names`` label the series in the legend."""
    if not labels:
        return mark_safe("")  # noqa: S308  (constant)
    top = _nice(max([*map(float, values), *map(float, compare or [])]))
    step = WIDTH / len(labels)
    line = _line(compare, step, top) if compare is not None else mark_safe("")  # noqa: S308
    return format_html(
        '<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img" '
        'preserveAspectRatio="xMidYMid meet"><title>{}</title>{}{}{}{}{}</svg>',
        WIDTH, HEIGHT, title, STYLE, _legend(names),
        _bars(labels, values, step, top), line, _labels(labels, step),
    )  # fmt: skip


def share_chart(labels: Sequence[str], values: Sequence[float], title: str) -> SafeString:
    """One horizontal bar per label, its length the share (0–100)."""
    if not labels:
        return mark_safe("")  # noqa: S308  (constant)
    height = ROW * len(labels) + 4
    rows = [
        (
            round(i * ROW + 2, 1),
            round(max(float(v), 0) / 100 * (WIDTH - 130), 1),
            label,
            v,
            round(i * ROW + 14, 1),
        )
        for i, (label, v) in enumerate(zip(labels, values, strict=True))
    ]
    body = format_html_join(
        "",
        '<g><title>{2}: {3} %</title><text class="axis" x="0" y="{4}">{2}</text>'
        '<rect class="bar" x="100" y="{0}" width="{1}" height="14"/>'
        '<text class="axis" x="{5}" y="{4}">{3} %</text></g>',
        ((*r, round(104 + r[1], 1)) for r in rows),
    )
    return format_html(
        '<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img">'
        "<title>{}</title>{}{}</svg>",
        WIDTH, height, title, STYLE, body,
    )  # fmt: skip
