"""Reads of the live board: the convoys under way with their route, track and open incidents; the
works stored per ISO week against the plan, per department; what waits in acclimatisation."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Min
from django.db.models.functions import TruncDate

from cimaise.core.models import Institution, Site
from cimaise.moves.models import Assignment, Convoy, ConvoyState, Incident, ObjectState, Programme, Status
from cimaise.moves.telemetry.readings import Reading
from cimaise.moves.telemetry.selectors import convoy_track, open_incidents

S = ConvoyState
ACTIVE = (S.LOADING, S.SEALED, S.IN_TRANSIT, S.ARRIVED, S.UNLOADED)
WEEKLY_PLAN = 4 * 700  # four convoys of 700 works a week
TRACK_LIMIT = 500
Point = tuple[float, float]


@dataclass
class ConvoyLine:
    """A convoy on the board: its state, planned route, track and open incidents."""

    convoy: Convoy
    route: list[Point]
    track: list[Point]
    last: Reading | None
    incidents: list[Incident] = field(default_factory=list)


@dataclass(frozen=True)
class Week:
    """Works stored in one ISO week, against the plan."""

    label: str  # "2019-W41"
    start: dt.date
    stored: int
    plan: int
    cumulative: int
    cumulative_plan: int


@dataclass(frozen=True)
class Department:
    department: str
    assigned: int
    stored: int

    @property
    def percent(self) -> int:
        return round(100 * self.stored / self.assigned) if self.assigned else 0


@dataclass(frozen=True)
class Waiting:
    """A crate or work in acclimatisation (status holding), since when."""

    uri: str
    kind: str
    since: dt.datetime


def _points(raw: object) -> list[Point]:
    if not isinstance(raw, list):
        return []
    points = []
    for p in raw:
        if isinstance(p, list | tuple) and len(p) == 2:  # noqa: PLR2004  ([lat, lon])
            try:
                points.append((float(p[0]), float(p[1])))
            except (TypeError, ValueError):
                continue
    return points


def board_convoys(institution: Institution) -> list[ConvoyLine]:
    """The institution's convoys under way (loading to unloaded), with their open incidents."""
    incidents = open_incidents(institution=institution)
    convoys = (
        Convoy.objects.filter(institution=institution, state__in=ACTIVE)
        .select_related("institution", "vehicle", "origin", "destination")
        .order_by("planned_departure", "code")
    )
    lines = []
    for convoy in convoys:
        track = convoy_track(convoy=convoy, limit=TRACK_LIMIT)
        points = [(r.lat, r.lon) for r in track if r.lat is not None and r.lon is not None]
        lines.append(
            ConvoyLine(
                convoy=convoy,
                route=_points(convoy.route),
                track=points,
                last=track[-1] if track else None,
                incidents=incidents.get(convoy.code, []),
            )
        )
    return lines


def board_sites(institution: Institution) -> list[Site]:
    """The institution's sites that have a position."""
    return list(
        Site.objects.filter(
            institution=institution, latitude__isnull=False, longitude__isnull=False
        ).order_by("code")
    )


def _programme(institution: Institution) -> Programme | None:
    return Programme.objects.filter(institution=institution, active=True).order_by("code").first()


def _stored(institution: Institution, programme: Programme) -> dict[dt.date, int]:
    """The programme's works stored, by day of their last event (a storing)."""
    rows = (
        ObjectState.objects.filter(institution=institution, kind="work", status=Status.STORED)
        .filter(work_id__in=Assignment.objects.filter(programme=programme).values("work_id"))
        .annotate(day=TruncDate("last_event_time"))
        .values("day")
        .annotate(n=Count("id"))
    )
    return {row["day"]: row["n"] for row in rows}


def _first_departure(institution: Institution, programme: Programme) -> dt.date | None:
    first = Convoy.objects.filter(institution=institution, programme=programme).aggregate(
        first=Min("planned_departure")
    )["first"]
    return first.date() if first else None


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def programme_weeks(institution: Institution, *, last: int = 26) -> list[Week]:
    """Works stored per ISO week from the first departure against 4 × 700 a week (the ``last``
    weeks that saw any storing, with the running totals since the start)."""
    programme = _programme(institution)
    if programme is None:
        return []
    assigned = Assignment.objects.filter(programme=programme).count()
    per_week: dict[dt.date, int] = defaultdict(int)
    for day, n in _stored(institution, programme).items():
        per_week[_monday(day)] += n
    start = _first_departure(institution, programme) or (min(per_week) if per_week else None)
    if start is None:
        return []
    weeks, cumulative, planned = [], 0, 0
    monday = _monday(start)
    end = max([*per_week, monday])
    while monday <= end:
        stored = per_week.get(monday, 0)
        cumulative += stored
        plan = min(WEEKLY_PLAN, max(assigned - planned, 0))
        planned += plan
        year, week, _day = monday.isocalendar()
        weeks.append(Week(f"{year}-W{week:02d}", monday, stored, plan, cumulative, planned))
        monday += dt.timedelta(days=7)
    active = [w for w in weeks if w.stored]
    return weeks if len(active) <= last else [w for w in weeks if w.start >= active[-last].start]


def programme_departments(institution: Institution) -> list[Department]:
    """Per department: works assigned and works stored."""
    programme = _programme(institution)
    if programme is None:
        return []
    assigned = dict(
        Assignment.objects.filter(programme=programme)
        .values_list("work__department")
        .annotate(n=Count("id"))
        .values_list("work__department", "n")
    )
    stored = dict(
        ObjectState.objects.filter(institution=institution, kind="work", status=Status.STORED)
        .filter(work_id__in=Assignment.objects.filter(programme=programme).values("work_id"))
        .values_list("work__department")
        .annotate(n=Count("id"))
        .values_list("work__department", "n")
    )
    return [
        Department(d or "—", n, stored.get(d, 0))
        for d, n in sorted(assigned.items(), key=lambda kv: kv[0] or "")
    ]


def acclimatising(institution: Institution, *, limit: int = 200) -> tuple[list[Waiting], int]:
    """Crates and works in acclimatisation (holding), longest waiting first; and how many in all."""
    rows = ObjectState.objects.filter(institution=institution, status=Status.HOLDING).order_by(
        "last_event_time", "uri"
    )
    found = [
        Waiting(uri, kind, since)
        for uri, kind, since in rows.values_list("uri", "kind", "last_event_time")[:limit]
    ]
    return found, rows.count()
