"""Server-side SVG drawings of the board: a map of the Paris–Liévin area (an equirectangular
projection of a lat/lon box, no tiles) and a bar chart of works stored per week against plan."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from cimaise.core.models import Site
from cimaise.moves.board.selectors import ConvoyLine, Point, Week

#: The Paris–Liévin area (south, west, north, east); widened to take any point outside it.
AREA = (48.7, 1.7, 50.6, 3.4)
MAP_WIDTH = 400.0
PAD = 12.0


@dataclass(frozen=True)
class Projection:
    """lat/lon → SVG x/y in a box; longitudes shrunk by cos(mid latitude) to keep shapes."""

    south: float
    west: float
    north: float
    east: float

    @property
    def scale(self) -> float:
        return (MAP_WIDTH - 2 * PAD) / ((self.east - self.west) * self._shrink)

    @property
    def _shrink(self) -> float:
        return math.cos(math.radians((self.south + self.north) / 2))

    @property
    def height(self) -> float:
        return round((self.north - self.south) * self.scale + 2 * PAD, 1)

    def xy(self, point: Point) -> tuple[float, float]:
        lat, lon = point
        x = PAD + (lon - self.west) * self._shrink * self.scale
        y = PAD + (self.north - lat) * self.scale
        return round(x, 1), round(y, 1)


def projection_for(points: Sequence[Point]) -> Projection:
    south, west, north, east = AREA
    for lat, lon in points:
        south, north = min(south, lat - 0.05), max(north, lat + 0.05)
        west, east = min(west, lon - 0.05), max(east, lon + 0.05)
    return Projection(south, west, north, east)


def _polyline(proj: Projection, points: Sequence[Point], css: str) -> SafeString:
    if len(points) < 2:  # noqa: PLR2004  (a line needs two points)
        return mark_safe("")  # noqa: S308  (constant)
    coords = " ".join(f"{x},{y}" for x, y in (proj.xy(p) for p in points))
    return format_html('<polyline class="{}" points="{}"/>', css, coords)


def _site(proj: Projection, site: Site) -> SafeString:
    assert site.latitude is not None and site.longitude is not None  # noqa: S101  (selected so)
    x, y = proj.xy((float(site.latitude), float(site.longitude)))
    left = x > MAP_WIDTH / 2  # the label on the side with room for it
    return format_html(
        '<g class="site"><circle cx="{}" cy="{}" r="5"/><text x="{}" y="{}" text-anchor="{}">{}</text></g>',
        x, y, x - 8 if left else x + 8, y + 4, "end" if left else "start", site.name,
    )  # fmt: skip


def _convoy(proj: Projection, line: ConvoyLine) -> SafeString:
    parts = [_polyline(proj, line.route, "route"), _polyline(proj, line.track, "track")]
    if line.track:
        x, y = proj.xy(line.track[-1])
        parts.append(
            format_html(
                '<g class="last"><circle cx="{}" cy="{}" r="6"/><text x="{}" y="{}">{}</text></g>',
                x,
                y,
                x + 9,
                y - 6,
                line.convoy.code,
            )  # fmt: skip
        )
    body = format_html_join("", "{}", ((p,) for p in parts))
    return format_html('<g class="convoy" data-convoy="{}">{}</g>', line.convoy.code, body)


MAP_STYLE = (
    ".land{fill:#f4f1ea;stroke:#c9c3b5}.site circle{fill:#1f4e79}.site text,.last text{font:12px sans-serif;"
    "fill:#222}.route{fill:none;stroke:#8c877a;stroke-width:2;stroke-dasharray:6 4}"
    ".track{fill:none;stroke:#b3541e;stroke-width:3}.last circle{fill:#b3541e;stroke:#fff;stroke-width:2}"
)


def board_map(sites: Sequence[Site], convoys: Sequence[ConvoyLine], title: str) -> SafeString:
    """The map: the sites as labelled dots, each convoy's route, track and last position."""
    points = [(float(s.latitude), float(s.longitude)) for s in sites if s.latitude and s.longitude]
    for line in convoys:
        points += line.route + line.track
    proj = projection_for(points)
    drawn = [_site(proj, s) for s in sites if s.latitude is not None and s.longitude is not None]
    drawn += [_convoy(proj, line) for line in convoys]
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img" aria-labelledby="map-title">'
        '<title id="map-title">{}</title><style>{}</style>'
        '<rect class="land" x="0" y="0" width="{}" height="{}"/>{}</svg>',
        MAP_WIDTH, proj.height, title, MAP_STYLE, MAP_WIDTH, proj.height,
        format_html_join("", "{}", ((d,) for d in drawn)),
    )  # fmt: skip


CHART_HEIGHT = 200.0
BAR_STYLE = ".bar{fill:#1f4e79}.plan{fill:none;stroke:#b3541e;stroke-width:2}.axis{stroke:#8c877a}"


def progress_chart(weeks: Sequence[Week], title: str) -> SafeString:
    """Bars: works stored each week; the line: the week's plan."""
    if not weeks:
        return mark_safe("")  # noqa: S308  (constant)
    top = max(max(w.stored for w in weeks), max(w.plan for w in weeks), 1)
    step = 400.0 / len(weeks)
    bars, plan = [], []
    for i, week in enumerate(weeks):
        h = round(week.stored / top * (CHART_HEIGHT - 10), 1)
        x = round(i * step + step * 0.1, 1)
        bars.append(
            format_html(
                '<rect class="bar" x="{}" y="{}" width="{}" height="{}"><title>{}: {}</title></rect>',
                x,
                round(CHART_HEIGHT - h, 1),
                round(step * 0.8, 1),
                h,
                week.label,
                week.stored,
            )  # fmt: skip
        )
        y = round(CHART_HEIGHT - week.plan / top * (CHART_HEIGHT - 10), 1)
        plan.append(f"{round(i * step, 1)},{y} {round((i + 1) * step, 1)},{y}")
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 {}" role="img" '
        'aria-labelledby="chart-title">'
        '<title id="chart-title">{}</title><style>{}</style>{}'
        '<polyline class="plan" points="{}"/><line class="axis" x1="0" y1="{}" x2="400" y2="{}"/></svg>',
        CHART_HEIGHT, title, BAR_STYLE, format_html_join("", "{}", ((b,) for b in bars)),
        " ".join(plan), CHART_HEIGHT, CHART_HEIGHT,
    )  # fmt: skip
