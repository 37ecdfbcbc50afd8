"""Custody projections in the database: load what the fold needs, run it, write its result.

``project`` runs inside the capture transaction for the objects a batch touches (and everything
ever inside them, and everything they were ever inside); ``rebuild`` empties the custody tables
and replays every custody fact. Both go through the same fold, so they agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import transaction
from django.db.models import Q

from cimaise.collection.models import Work
from cimaise.core.models import Institution, Place
from cimaise.moves.models import Assignment, Containment, CustodyEvent, EventObject, ObjectState, Presence
from cimaise.moves.projector import Detected, EventRow, Fold, Geography, ObjState
from cimaise.moves.rows import insert_rows
from cimaise.moves.uris import parse_identifier

CHUNK = 900  # below SQLite's default limit on query parameters


def chunks(items: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


Links = list[tuple[str, str]]  # (parent, child) pairs named by the batch's aggregation events


def _inside(institution: Institution, uris: set[str], since: dt.datetime | None, links: Links) -> set[str]:
    """Objects inside these at ``since`` or later (all of them when ``since`` is None)."""
    found = {child for parent, child in links if parent in uris}
    for batch in chunks(sorted(uris)):
        rows = Containment.objects.filter(institution=institution, parent__in=batch)
        if since is not None:
            rows = rows.filter(Q(until__isnull=True) | Q(until__gt=since))
        found.update(rows.values_list("child", flat=True))
    return found - uris


def _around(institution: Institution, uris: set[str], links: Links) -> set[str]:
    """Every container these objects were ever in."""
    found = {parent for parent, child in links if child in uris}
    for batch in chunks(sorted(uris)):
        rows = Containment.objects.filter(institution=institution, child__in=batch)
        found.update(rows.values_list("parent", flat=True))
    return found - uris


def closure(institution: Institution, uris: set[str], *, since: dt.datetime | None, links: Links) -> set[str]:
    """The objects whose state events at ``since`` or later on these objects can change (everything
    inside them from then on), plus every container of those, whose events the fold replays."""
    down, frontier = set(uris), set(uris)
    while frontier:
        frontier = _inside(institution, frontier, since, links) - down
        down |= frontier
    everything, frontier = set(down), set(down)
    while frontier:
        frontier = _around(institution, frontier, links) - everything
        everything |= frontier
    return everything


def _event_rows(institution: Institution, uris: set[str], new: set[int]) -> list[EventRow]:
    pks: set[int] = set()
    for batch in chunks(sorted(uris)):
        pks.update(
            EventObject.objects.filter(institution=institution, uri__in=batch).values_list(
                "event_id", flat=True
            )
        )
    return list(event_rows(sorted(pks), new))


def event_rows(pks: list[int], new: set[int]) -> Iterator[EventRow]:
    """The fold's view of these events, retracted ones left out."""
    for batch in chunks(pks):
        named: dict[int, list[tuple[str, str]]] = {}
        for event_pk, uri, role in EventObject.objects.filter(event_id__in=batch).values_list(
            "event_id", "uri", "role"
        ):
            named.setdefault(event_pk, []).append((uri, role))
        fields = ("pk", "event_id", "event_type", "action", "biz_step", "disposition", "event_time")
        fields += ("place_id", "seen_place_id", "biz_location", "biz_transaction", "who")  # type: ignore[assignment]
        events = CustodyEvent.objects.filter(pk__in=batch, retracted=False, is_declaration=False)
        for values in events.values_list(*fields):
            yield _row(values, named.get(values[0], []), new)


_OBJECT_ROLES = (EventObject.Role.EPC, EventObject.Role.CHILD)


def _row(values: tuple[Any, ...], named: list[tuple[str, str]], new: set[int]) -> EventRow:
    pk, event_id, kind, action, step, disposition, when, place, seen, location, transaction, who = values
    return EventRow(
        pk=pk,
        event_id=event_id,
        type=kind,
        action=action,
        biz_step=step,
        disposition=disposition,
        event_time=when,
        place=place,
        seen_at=seen,
        has_location=bool(location),
        parent=next((uri for uri, role in named if role == EventObject.Role.PARENT), ""),
        epcs=tuple(uri for uri, role in named if role in _OBJECT_ROLES),
        convoy=transaction if transaction.startswith("urn:cimaise:convoy:") else "",
        who=who,
        new=pk in new,
    )


def geography(institution: Institution, place_ids: Iterable[int | None] | None = None) -> Geography:
    """Sites and coordinates of these places (all of the institution's when ``None``)."""
    places = Place.objects.filter(institution=institution)
    if place_ids is not None:
        places = places.filter(pk__in=sorted({pk for pk in place_ids if pk is not None}))
    rows = places.values_list("pk", "site_id", "site__latitude", "site__longitude")
    return Geography(
        sites={
            pk: (site, float(lat), float(lon)) if lat is not None and lon is not None else None
            for pk, site, lat, lon in rows
        }
    )


def work_ids_of(institution: Institution, uris: Iterable[str]) -> dict[str, int]:
    by_inventory = {}
    for uri in uris:
        identifier = parse_identifier(uri)
        if identifier.kind == "work" and identifier.institution == institution.code:
            by_inventory[identifier.key] = uri
    found: dict[str, int] = {}
    for batch in chunks(sorted(by_inventory)):
        for pk, inventory in Work.objects.filter(institution=institution, inventory__in=batch).values_list(
            "pk", "inventory"
        ):
            found[by_inventory[inventory]] = pk
    return found


def targeted_of(work_ids: dict[str, int]) -> set[str]:
    uri_of = {pk: uri for uri, pk in work_ids.items()}
    targeted: set[str] = set()
    for batch in chunks(sorted(uri_of)):
        assigned = Assignment.objects.filter(programme__active=True, work_id__in=batch)
        targeted.update(uri_of[pk] for pk in assigned.values_list("work_id", flat=True))
    return targeted


def project(
    institution: Institution,
    uris: set[str],
    *,
    new: set[int],
    since: dt.datetime,
    links: Links,
    retracted: bool = False,
) -> list[Detected]:
    """Bring the custody state of these objects (and what they hold) up to date with the ``new``
    events, the earliest at ``since``; anomalies are reported for the new events only.

    When every object's last event is older than ``since`` (events arriving in order), the fold
    resumes from the stored states and applies only the new events; otherwise (late events,
    retractions) it replays every event of the objects and of their containers.
    """
    inside = _down(institution, uris, since, links)
    resumed = None if retracted else _resumable(institution, inside, since)
    if resumed is not None:
        return _project_incrementally(institution, inside, resumed, new)
    return _project_fully(institution, uris, new=new, since=since, links=links)


def _down(institution: Institution, uris: set[str], since: dt.datetime, links: Links) -> set[str]:
    down, frontier = set(uris), set(uris)
    while frontier:
        frontier = _inside(institution, frontier, since, links) - down
        down |= frontier
    return down


_RESUMED = (
    "uri", "status", "place_id", "container", "crate", "convoy", "inspected_at", "departed",
    "last_event_time", "last_event_id", "last_seen_at", "last_seen_place_id", "last_seen_by",
)  # fmt: skip


_FIELDS = [name.removesuffix("_id") for name in _RESUMED]


def _resumable(institution: Institution, uris: set[str], since: dt.datetime) -> list[ObjState] | None:
    """The stored states of these objects, if none has an event at or after ``since``."""
    rows: list[tuple[Any, ...]] = []
    for batch in chunks(sorted(uris)):
        rows += ObjectState.objects.filter(institution=institution, uri__in=batch).values_list(*_RESUMED)
    if any(row[8] >= since for row in rows):
        return None
    return [_resume(row) for row in rows]


def _resume(row: tuple[Any, ...]) -> ObjState:
    state = ObjState(**dict(zip(_FIELDS, row, strict=True)))
    state.kept = 1
    state.containment = [[state.container, None, None]] if state.container else [[None, None, "closed"]]
    state.presence = [[state.place, None, None]] if state.place is not None else [[None, None, "closed"]]
    return state


def _project_incrementally(
    institution: Institution, objects: set[str], resumed: list[ObjState], new: set[int]
) -> list[Detected]:
    work_ids = work_ids_of(institution, objects)
    events = list(event_rows(sorted(new), new))
    seen = [e.seen_at for e in events] + [s.last_seen_place for s in resumed]
    where = geography(institution, seen)
    fold = Fold(objects, geography=where, targeted=targeted_of(work_ids), resume=resumed)
    fold.run(events)
    touched = [s for s in fold.states.values() if s.last_event is not None]
    for batch in chunks([s.uri for s in touched]):
        ObjectState.objects.filter(institution=institution, uri__in=batch).delete()
    insert_rows(ObjectState, STATE_COLUMNS, (_state_row(institution, s, work_ids) for s in touched))
    _close_kept(institution, touched)
    _insert_intervals(institution, touched)
    return fold.detected


_CLOSE = {
    name: f"UPDATE {table} SET until = %s WHERE institution_id = %s AND {key} = %s AND until IS NULL"  # noqa: S608
    for name, table, key in (
        ("containment", "moves_containment", "child"),
        ("presence", "moves_presence", "uri"),
    )
}


def _close_kept(institution: Institution, states: list[ObjState]) -> None:
    """Close the stored open intervals the new events ended."""
    adapt = transaction.get_connection().ops.adapt_datetimefield_value
    ended: dict[str, list[tuple[Any, int, str]]] = {"containment": [], "presence": []}
    for state in states:
        for name, rows in (("containment", state.containment), ("presence", state.presence)):
            if state.kept and rows[0][0] is not None and rows[0][2] is not None:
                ended[name].append((adapt(rows[0][2]), institution.pk, state.uri))
    with transaction.get_connection().cursor() as cursor:
        for name, params in ended.items():
            if params:
                cursor.executemany(_CLOSE[name], params)


def _project_fully(
    institution: Institution, uris: set[str], *, new: set[int], since: dt.datetime, links: Links
) -> list[Detected]:
    objects = closure(institution, uris, since=since, links=links)
    work_ids = work_ids_of(institution, objects)
    events = _event_rows(institution, objects, new)
    fold = Fold(
        objects, geography=geography(institution, [e.seen_at for e in events]), targeted=targeted_of(work_ids)
    )
    fold.run(events)
    write_states(institution, fold.states.values(), work_ids)
    return fold.detected


def write_states(institution: Institution, states: Iterable[ObjState], work_ids: dict[str, int]) -> int:
    """Replace the rows of these objects; returns how many objects were written."""
    states = list(states)
    for batch in chunks([s.uri for s in states]):
        ObjectState.objects.filter(institution=institution, uri__in=batch).delete()
        Containment.objects.filter(institution=institution, child__in=batch).delete()
        Presence.objects.filter(institution=institution, uri__in=batch).delete()
    states = [s for s in states if s.last_event is not None]  # every event retracted: no state
    insert_rows(ObjectState, STATE_COLUMNS, (_state_row(institution, s, work_ids) for s in states))
    _insert_intervals(institution, states)
    return len(states)


def _insert_intervals(institution: Institution, states: list[ObjState]) -> None:
    """The intervals not stored yet (all of them, unless the state was resumed)."""
    insert_rows(
        Containment,
        ("institution_id", "child", "parent", "since", "until"),
        (
            (institution.pk, s.uri, parent, since, until)
            for s in states
            for parent, since, until in s.containment[s.kept :]
        ),
    )
    insert_rows(
        Presence,
        ("institution_id", "uri", "place_id", "since", "until"),
        (
            (institution.pk, s.uri, place, since, until)
            for s in states
            for place, since, until in s.presence[s.kept :]
        ),
    )


STATE_COLUMNS = (
    "institution_id", "uri", "kind", "work_id", "status", "place_id", "container", "crate", "convoy",
    "inspected_at", "departed", "last_event_time", "last_event_id", "last_seen_at", "last_seen_place_id",
    "last_seen_by",
)  # fmt: skip


def _state_row(institution: Institution, state: ObjState, work_ids: dict[str, int]) -> tuple[Any, ...]:
    """The values of an object-state row, in :data:`STATE_COLUMNS` order."""
    kind = state.uri.split(":")[2] if state.uri.startswith("urn:cimaise:") else "external"
    where = (state.place, state.container, state.crate, state.convoy)
    when = (state.inspected_at, state.departed, state.last_event_time, state.last_event)
    seen = (state.last_seen_at, state.last_seen_place, state.last_seen_by)
    return (institution.pk, state.uri, kind, work_ids.get(state.uri), state.status, *where, *when, *seen)
