"""Telemetry reads: a convoy's accepted readings (for the rules), its incidents and its track (for
the pages and the live board)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import QuerySet

from cimaise.core.models import Institution
from cimaise.moves.models import Convoy, Incident
from cimaise.moves.models import TelemetryReading as Row
from cimaise.moves.telemetry import rules
from cimaise.moves.telemetry.geo import distance_km
from cimaise.moves.telemetry.readings import Reading

_FIELDS = ("reading_id", "kind", "time", "value", "lat", "lon", "speed", "door_open")
Values = tuple[str, str, dt.datetime, float | None, float | None, float | None, float | None, bool | None]


def _accepted(convoy: Convoy) -> QuerySet[Row]:
    return Row.objects.filter(convoy=convoy, rejection="")


def _readings(rows: Iterable[Values]) -> list[Reading]:
    return [
        Reading(id=rid, kind=kind, time=time, value=value, lat=lat, lon=lon, speed=speed, door_open=door)
        for rid, kind, time, value, lat, lon, speed, door in rows
    ]


def _values(rows: QuerySet[Row]) -> list[Values]:
    return list(rows.values_list(*_FIELDS))


def readings_since(convoy: Convoy, since: dt.datetime) -> list[Reading]:
    """Accepted readings from ``since`` on, plus the last position before (for speeds and doors)."""
    rows = _values(_accepted(convoy).filter(time__gte=since))
    before = _accepted(convoy).filter(kind=Row.Kind.POSITION, time__lt=since).order_by("-time", "-reading_id")
    return _readings(_values(before[:1]) + rows)


def positions_around(convoy: Convoy, start: dt.datetime, end: dt.datetime) -> list[Reading]:
    """Accepted positions from ``start`` to ``end``, and the nearest one on either side."""
    positions = _accepted(convoy).filter(kind=Row.Kind.POSITION)
    inside = _values(positions.filter(time__gte=start, time__lte=end))
    before = _values(positions.filter(time__lt=start).order_by("-time", "-reading_id")[:1])
    after = _values(positions.filter(time__gt=end).order_by("time", "reading_id")[:1])
    return _readings(before + inside + after)


def _stopped(position: Values, older: Values | None, limits: rules.Limits) -> bool:
    """As ``rules`` decides it: the reported speed, else the speed from the previous position."""
    speed = position[6]
    if speed is None and older is not None and older[2] < position[2]:
        hours = (position[2] - older[2]).total_seconds() / 3600
        speed = (
            distance_km((older[4] or 0.0, older[5] or 0.0), (position[4] or 0.0, position[5] or 0.0)) / hours
        )
    return speed is not None and speed < limits.stopped_below_kmh


def stop_run_start(convoy: Convoy, before: dt.datetime, limits: rules.Limits) -> dt.datetime:
    """When the truck stopped, if it was stopped just before ``before`` (else ``before``)."""
    positions = _accepted(convoy).filter(kind=Row.Kind.POSITION, time__lt=before)
    rows = positions.order_by("-time", "-reading_id").values_list(*_FIELDS)
    start, newer = before, None
    for row in rows.iterator(chunk_size=100):
        if newer is not None:
            if not _stopped(newer, row, limits):
                return start
            start = newer[2]
        newer = row
    if newer is not None and _stopped(newer, None, limits):
        start = newer[2]
    return start


def convoy_incidents(*, convoy: Convoy, open_only: bool = False) -> list[Incident]:
    """The convoy's incidents, latest first; ``open_only``: those not ended yet."""
    rows = Incident.objects.filter(convoy=convoy)
    if open_only:
        rows = rows.filter(ended_at__isnull=True)
    return list(rows.order_by("-started_at", "-id"))


def open_incidents(*, institution: Institution) -> dict[str, list[Incident]]:
    """Open incidents of the institution's convoys, by convoy code (for the live board)."""
    found: dict[str, list[Incident]] = {}
    rows = Incident.objects.filter(institution=institution, convoy__isnull=False, ended_at__isnull=True)
    for incident in rows.select_related("convoy").order_by("convoy__code", "-started_at", "-id"):
        assert incident.convoy is not None  # noqa: S101  (filtered)
        found.setdefault(incident.convoy.code, []).append(incident)
    return found


def convoy_track(*, convoy: Convoy, since: dt.datetime | None = None, limit: int = 5000) -> list[Reading]:
    """The convoy's accepted positions in reading time (the last ``limit`` of them)."""
    positions = _accepted(convoy).filter(kind=Row.Kind.POSITION)
    if since is not None:
        positions = positions.filter(time__gte=since)
    latest = _values(positions.order_by("-time", "-reading_id")[:limit])
    return _readings(reversed(latest))
