"""Custody writes: capture EPCIS events (all or nothing, idempotent by eventID) and resolve
anomalies. Every event and every anomaly is a ledger fact; projections follow in the same
transaction."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from cimaise.collection.models import Work
from cimaise.core.access import own_institution, require_permission
from cimaise.core.actors import Actor
from cimaise.core.conf import setting
from cimaise.core.errors import Conflict, InvalidInput
from cimaise.core.models import Institution, Place
from cimaise.ledger.services import FactDraft, facts_append, ledger_lock
from cimaise.moves import facts
from cimaise.moves.access import access_anomaly
from cimaise.moves.anomalies import anomalies_for_events, anomalies_record, shelf_checks
from cimaise.moves.epcis import ParsedEvent, parse_payload
from cimaise.moves.models import Anomaly, Convoy, Crate, CustodyEvent, EventObject, Vehicle
from cimaise.moves.projection import chunks, project
from cimaise.moves.projector import Detected
from cimaise.moves.rows import insert_rows
from cimaise.moves.uris import parse_identifier

_REGISTRIES: dict[str, tuple[type[Model], str]] = {
    "work": (Work, "inventory"),
    "crate": (Crate, "barcode"),
    "place": (Place, "code"),
    "vehicle": (Vehicle, "plate"),
    "convoy": (Convoy, "code"),
}


@dataclass
class CaptureResult:
    """What a capture request stored; a resend has the same ``event_ids`` and ``anomalies``."""

    event_ids: list[str]
    recorded: int = 0
    already_recorded: int = 0
    anomalies: list[Anomaly] = field(default_factory=list)


def custody_capture(*, actor: Actor, payload: Any, now: dt.datetime | None = None) -> CaptureResult:
    """Capture an EPCIS document or event list for the actor's institution."""
    institution = own_institution(actor)
    require_permission(actor, "moves.add_custodyevent")
    now = now or timezone.now()
    skew = dt.timedelta(seconds=int(setting("EPCIS_CLOCK_SKEW_SECONDS")))
    events = parse_payload(payload, now=now, skew=skew)
    return custody_capture_unchecked(institution=institution, events=events, who=actor.label, now=now)


def custody_capture_unchecked(
    *, institution: Institution, events: Sequence[ParsedEvent], who: str, now: dt.datetime | None = None
) -> CaptureResult:
    """The capture itself, for callers that have authorized and parsed already (loaders)."""
    with transaction.atomic(durable=True):
        return custody_record(institution=institution, events=events, who=who, now=now)


def custody_record(
    *, institution: Institution, events: Sequence[ParsedEvent], who: str, now: dt.datetime | None = None
) -> CaptureResult:
    """Capture inside the caller's transaction (services whose command also moves custody, such as
    a convoy's departure)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("custody_record must run inside the caller's transaction")
    now = now or timezone.now()
    ids = [event.event_id for event in events]
    ledger_lock()  # a concurrent resend waits here, then finds its events stored
    fresh = _fresh(institution, events)
    if fresh:
        _record(institution, fresh, who, now)
    anomalies = anomalies_for_events(institution, ids)
    return CaptureResult(
        event_ids=ids, recorded=len(fresh), already_recorded=len(events) - len(fresh), anomalies=anomalies
    )


def _key(event: ParsedEvent) -> tuple[str, bool]:
    return (event.event_id, event.declaration is not None)


def _fresh(institution: Institution, events: Sequence[ParsedEvent]) -> list[ParsedEvent]:
    """Events not stored yet, each once (a resend, whole or partial, stores nothing twice)."""
    stored: set[tuple[str, bool]] = set()
    for batch in chunks(sorted({event.event_id for event in events})):
        rows = CustodyEvent.objects.filter(institution=institution, event_id__in=batch).order_by()
        stored.update(rows.values_list("event_id", "is_declaration"))
    fresh = []
    for event in events:
        if _key(event) not in stored:
            stored.add(_key(event))
            fresh.append(event)
    return fresh


def _record(institution: Institution, fresh: list[ParsedEvent], who: str, now: dt.datetime) -> None:
    places, unknown = resolve_identifiers(institution, fresh)
    drafts = [_draft(institution, event, who) for event in fresh]
    stored = facts_append(drafts, now=now)
    rows = store_events(institution, fresh, [(f.id, f.recorded_at, who) for f in stored], places)
    touched = retractions_apply(institution, fresh)
    links = [(e.parent, child) for e in fresh if e.type == "AggregationEvent" for child in e.epcs]
    uris = touched | {uri for e in fresh for uri in ([e.parent] if e.parent else []) + e.epcs}
    detected = _unknown(fresh, unknown)
    since = min(e.event_time for e in fresh)
    new = {r.pk for r in rows}
    detected += project(institution, uris, new=new, since=since, links=links, retracted=bool(touched))
    detected += shelf_checks(institution, rows)
    anomalies_record(institution, detected, actor=who, now=now)


def _draft(institution: Institution, event: ParsedEvent, who: str) -> FactDraft:
    declared = event.declaration is not None
    return FactDraft(
        type=(facts.ERROR_DECLARED if declared else facts.CUSTODY_CAPTURED).name,
        stream=f"moves.custody:{institution.code}",
        body={"event": event.body, "who": who, "context": event.context},
        actor=who,
        institution_id=institution.pk,
        occurred_at=event.event_time,
    )


def resolve_identifiers(
    institution: Institution, events: list[ParsedEvent]
) -> tuple[dict[str, int], set[str]]:
    """Our identifiers named by the events: place ids by URI, and the URIs that match nothing."""
    wanted: dict[str, dict[str, str]] = defaultdict(dict)
    named: set[str] = set()
    for event in events:
        for uri in _named(event):
            if uri.startswith("urn:cimaise:"):
                named.add(uri)
                identifier = parse_identifier(uri)
                if identifier.institution == institution.code:
                    wanted[identifier.kind][identifier.key] = uri
    places: dict[str, int] = {}
    known: set[str] = set()
    for kind, by_key in wanted.items():
        model, key_field = _REGISTRIES[kind]
        for batch in chunks(sorted(by_key)):
            rows = model._default_manager.filter(institution=institution, **{f"{key_field}__in": batch})
            for key, pk in rows.values_list(key_field, "pk"):
                known.add(by_key[key])
                if kind == "place":
                    places[by_key[key]] = pk
    return places, named - known


def _named(event: ParsedEvent) -> list[str]:
    locations = [event.read_point, event.biz_location, event.parent]
    return [uri for uri in locations if uri] + event.epcs + event.biz_transactions


def _unknown(events: list[ParsedEvent], unknown: set[str]) -> list[Detected]:
    return [
        Detected(
            Anomaly.Kind.UNKNOWN_IDENTIFIER, uri, event.event_id, {"eventID": event.event_id, "uri": uri}
        )
        for event in events
        for uri in dict.fromkeys(_named(event))
        if uri in unknown
    ]


def store_events(
    institution: Institution,
    events: Sequence[ParsedEvent],
    recorded: Sequence[tuple[int, dt.datetime, str]],
    places: dict[str, int],
) -> list[CustodyEvent]:
    """Insert the event rows and their object index (also used by ``ledger rebuild``);
    ``recorded`` holds each event's fact id, record time and sender."""
    rows = [_event_row(institution, e, fact, places) for e, fact in zip(events, recorded, strict=True)]
    CustodyEvent.objects.bulk_create(rows, batch_size=500)
    insert_rows(
        EventObject,
        ("event_id", "institution_id", "uri", "role", "event_time"),
        (
            (row.pk, institution.pk, uri, role, e.event_time)
            for row, e in zip(rows, events, strict=True)
            for uri, role in _roles(e)
        ),
    )
    return rows


def _roles(event: ParsedEvent) -> list[tuple[str, str]]:
    role = str(EventObject.Role.CHILD if event.type == "AggregationEvent" else EventObject.Role.EPC)
    found = [(event.parent, str(EventObject.Role.PARENT))] if event.parent else []
    found += [(uri, role) for uri in dict.fromkeys(event.epcs) if uri != event.parent]
    return found + [(uri, str(EventObject.Role.TRANSACTION)) for uri in dict.fromkeys(event.biz_transactions)]


def _event_row(
    institution: Institution,
    event: ParsedEvent,
    recorded: tuple[int, dt.datetime, str],
    places: dict[str, int],
) -> CustodyEvent:
    convoys = [uri for uri in event.biz_transactions if uri.startswith("urn:cimaise:convoy:")]
    return CustodyEvent(
        institution=institution,
        event_id=event.event_id,
        is_declaration=event.declaration is not None,
        event_type=event.type,
        action=event.action,
        biz_step=event.biz_step,
        disposition=event.disposition,
        event_time=event.event_time,
        record_time=recorded[1],
        read_point=event.read_point,
        biz_location=event.biz_location,
        biz_transaction=(convoys or event.biz_transactions or [""])[0],
        who=recorded[2],
        body=event.body,
        context=event.context,
        fact_id=recorded[0],
        place_id=places.get(event.biz_location),
        seen_place_id=places.get(event.read_point) or places.get(event.biz_location),
    )


def retractions_apply(institution: Institution, events: list[ParsedEvent]) -> set[str]:
    """Apply error declarations (either order of arrival); the objects whose history changed."""
    declared = [e.event_id for e in events if e.declaration is not None]
    plain = [e.event_id for e in events if e.declaration is None]
    earlier = CustodyEvent.objects.filter(
        institution=institution, is_declaration=True, event_id__in=plain
    ).order_by()
    retract = set(declared) | set(earlier.values_list("event_id", flat=True))
    if not retract:
        return set()
    targets = CustodyEvent.objects.filter(institution=institution, is_declaration=False, event_id__in=retract)
    targets.update(retracted=True)
    return set(EventObject.objects.filter(event__in=targets).values_list("uri", flat=True))


def anomaly_resolve(
    *, actor: Actor, anomaly_id: int, comment: str, now: dt.datetime | None = None
) -> Anomaly:
    """Close an anomaly with the registrar's explanation."""
    anomaly = access_anomaly(actor, anomaly_id)
    require_permission(actor, "moves.change_anomaly")
    comment = comment.strip()
    if not comment:
        raise InvalidInput("say how the anomaly was resolved", field="comment")
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        anomaly = Anomaly.objects.select_for_update().get(pk=anomaly.pk)
        if anomaly.resolved_at is not None:
            raise Conflict("this anomaly is already resolved", code="already_resolved")
        facts_append(
            [
                FactDraft(
                    type=facts.ANOMALY_RESOLVED.name,
                    stream=f"moves.anomaly:{anomaly.institution.code}",
                    body={"anomaly": anomaly_key(anomaly), "comment": comment},
                    actor=actor.label,
                    institution_id=anomaly.institution_id,
                )
            ],
            now=now,
        )
        anomaly.resolved_at, anomaly.resolved_by, anomaly.comment = now, actor.label, comment
        anomaly.save(update_fields=["resolved_at", "resolved_by", "comment"])
    return anomaly


def anomaly_key(anomaly: Anomaly) -> dict[str, str]:
    return {"kind": anomaly.kind, "uri": anomaly.uri, "eventID": anomaly.event_id}
