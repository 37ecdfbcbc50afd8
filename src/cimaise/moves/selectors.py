"""Custody reads: states of works, a work's chain of custody, what is on a place (now or at a
moment), the EPCIS event query, anomalies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from cimaise.core.models import Institution, Place
from cimaise.moves.models import Anomaly, Containment, CustodyEvent, EventObject, ObjectState, Presence
from cimaise.moves.projection import chunks


def work_states(institution: Institution, work_ids: Sequence[int]) -> dict[int, ObjectState]:
    """The custody state of each of these works that has one, by work id."""
    found: dict[int, ObjectState] = {}
    for batch in chunks(list(work_ids)):
        rows = ObjectState.objects.filter(institution=institution, work_id__in=batch).select_related(
            "place__institution"
        )
        found.update({row.work_id: row for row in rows if row.work_id is not None})
    return found


def work_ids_with_status(institution: Institution, status: str) -> QuerySet[ObjectState, int | None]:
    """A subquery: the ids of works whose custody status is this one."""
    rows = ObjectState.objects.filter(institution=institution, status=status, work__isnull=False)
    return rows.values_list("work_id", flat=True)


def object_state(institution: Institution, uri: str) -> ObjectState | None:
    return (
        ObjectState.objects.filter(institution=institution, uri=uri)
        .select_related("place__institution", "last_seen_place", "last_event")
        .first()
    )


@dataclass(frozen=True)
class CustodyEntry:
    """An event in an object's chain of custody; ``via`` is the container it happened to, if any."""

    event: CustodyEvent
    via: str


Interval = tuple[str, dt.datetime, dt.datetime | None]


def _intersect(a: Interval, since: dt.datetime, until: dt.datetime | None) -> Interval | None:
    start = max(a[1], since)
    ends = [t for t in (a[2], until) if t is not None]
    end = min(ends) if ends else None
    return None if end is not None and end <= start else (a[0], start, end)


def containers(institution: Institution, uri: str) -> list[Interval]:
    """Every container the object was in, directly or not, with the time it was inside."""
    found: list[Interval] = []
    frontier: list[Interval] = [(uri, dt.datetime.min.replace(tzinfo=dt.UTC), None)]
    for _depth in range(4):  # work in crate on vehicle: deeper nesting is a data error
        following: list[Interval] = []
        for inner, since, until in frontier:
            for row in Containment.objects.filter(institution=institution, child=inner):
                clipped = _intersect((row.parent, row.since, row.until), since, until)
                if clipped is not None:
                    following.append(clipped)
        found += following
        frontier = following
        if not frontier:
            break
    return found


def custody_chain(institution: Institution, uri: str) -> list[CustodyEntry]:
    """The object's events and those of its containers while it was inside, in event time."""
    live = CustodyEvent.objects.filter(retracted=False, is_declaration=False).select_related(
        "place", "seen_place"
    )
    direct = live.filter(
        pk__in=EventObject.objects.filter(institution=institution, uri=uri).values("event_id")
    )
    entries = {event.pk: CustodyEntry(event, "") for event in direct}
    for parent, since, until in containers(institution, uri):
        window = Q(event_time__gte=since) & (Q(event_time__lt=until) if until else Q())
        named = EventObject.objects.filter(institution=institution, uri=parent).values("event_id")
        for event in live.filter(window, pk__in=named):
            entries.setdefault(event.pk, CustodyEntry(event, parent))
    return sorted(entries.values(), key=lambda e: (e.event.event_time, e.event.event_id))


def place_subtree(place: Place) -> QuerySet[Place]:
    return Place.objects.filter(Q(pk=place.pk) | Q(path__startswith=f"{place.path}/"))


def place_contents_now(institution: Institution, place: Place) -> QuerySet[ObjectState]:
    """The objects on this place or below it now."""
    return (
        ObjectState.objects.filter(institution=institution, place__in=place_subtree(place))
        .select_related("place", "work")
        .order_by("place__path", "uri")
    )


def place_contents_at(institution: Institution, place: Place, at: dt.datetime) -> QuerySet[Presence]:
    """The objects that were on this place or below it at ``at``."""
    return (
        Presence.objects.filter(institution=institution, place__in=place_subtree(place), since__lte=at)
        .filter(Q(until__isnull=True) | Q(until__gt=at))
        .select_related("place")
        .order_by("place__path", "uri")
    )


@dataclass(frozen=True)
class EventQuery:
    """The EPCIS SimpleEventQuery subset; lists are ORed, fields ANDed."""

    match_epc: Sequence[str] = ()
    match_any_epc: Sequence[str] = ()
    biz_steps: Sequence[str] = ()
    biz_locations: Sequence[str] = ()
    biz_transactions: Sequence[str] = ()
    ge_event_time: dt.datetime | None = None
    lt_event_time: dt.datetime | None = None


def events_query(institution: Institution, query: EventQuery) -> QuerySet[CustodyEvent]:
    events = CustodyEvent.objects.filter(institution=institution)
    objects = (EventObject.Role.EPC, EventObject.Role.CHILD)
    if query.match_epc:
        named = EventObject.objects.filter(institution=institution, uri__in=query.match_epc, role__in=objects)
        events = events.filter(pk__in=named.values("event_id"))
    if query.match_any_epc:
        named = EventObject.objects.filter(institution=institution, uri__in=query.match_any_epc).exclude(
            role=EventObject.Role.TRANSACTION
        )
        events = events.filter(pk__in=named.values("event_id"))
    if query.biz_steps:
        events = events.filter(biz_step__in=query.biz_steps)
    if query.biz_locations:
        events = events.filter(biz_location__in=query.biz_locations)
    if query.biz_transactions:
        named = EventObject.objects.filter(
            institution=institution, uri__in=query.biz_transactions, role=EventObject.Role.TRANSACTION
        )
        events = events.filter(pk__in=named.values("event_id"))
    if query.ge_event_time:
        events = events.filter(event_time__gte=query.ge_event_time)
    if query.lt_event_time:
        events = events.filter(event_time__lt=query.lt_event_time)
    return events.order_by("event_time", "pk")


def anomalies_list(institution: Institution, *, open_only: bool = False, kind: str = "") -> QuerySet[Anomaly]:
    anomalies = Anomaly.objects.filter(institution=institution)
    if open_only:
        anomalies = anomalies.filter(resolved_at__isnull=True)
    if kind:
        anomalies = anomalies.filter(kind=kind)
    return anomalies.order_by("-detected_at", "-pk")
