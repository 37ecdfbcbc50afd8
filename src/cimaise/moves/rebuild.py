"""``cimaise ledger rebuild`` for custody: every custody table refilled from the facts."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from cimaise.core.models import Institution
from cimaise.ledger import projections
from cimaise.ledger.models import Fact
from cimaise.moves import facts
from cimaise.moves.epcis import ParsedEvent, parse_payload
from cimaise.moves.models import Anomaly, Containment, CustodyEvent, EventObject, ObjectState, Presence
from cimaise.moves.projection import chunks, event_rows, geography, targeted_of, work_ids_of, write_states
from cimaise.moves.projector import Fold
from cimaise.moves.services import resolve_identifiers, retractions_apply, store_events

_EVENT_TYPES = (facts.CUSTODY_CAPTURED.name, facts.ERROR_DECLARED.name)
_FOREVER = dt.timedelta(days=365 * 100)


def _event_facts() -> Iterator[list[Fact]]:
    facts_ = Fact.objects.filter(type__in=_EVENT_TYPES).order_by("id")
    yield from chunks(facts_.iterator(chunk_size=2000), 2000)


def _body(fact: Fact) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(fact.body)
    return body


def _replay_events() -> set[int]:
    institutions: set[int] = set()
    for batch in _event_facts():
        by_institution: dict[int, list[Fact]] = defaultdict(list)
        for fact in batch:
            by_institution[fact.institution_id or 0].append(fact)
        for institution_id, group in by_institution.items():
            institution = Institution.objects.get(pk=institution_id)
            _store(institution, group)
            institutions.add(institution_id)
    return institutions


def _store(institution: Institution, group: list[Fact]) -> None:
    parsed = [_parsed(fact) for fact in group]
    places, _unknown = resolve_identifiers(institution, parsed)
    recorded = [(fact.id, fact.recorded_at, str(_body(fact)["who"])) for fact in group]
    store_events(institution, parsed, recorded, places)
    retractions_apply(institution, parsed)


def _parsed(fact: Fact) -> ParsedEvent:
    body = _body(fact)
    payload = {
        "@context": [body.get("context", {})],
        "type": "EPCISDocument",
        "epcisBody": {"eventList": [body["event"]]},
    }
    event: ParsedEvent = parse_payload(payload, now=fact.recorded_at, skew=_FOREVER)[0]
    return event


def _fold(institution: Institution) -> int:
    rows = EventObject.objects.filter(institution=institution).exclude(role=EventObject.Role.TRANSACTION)
    objects = set(rows.values_list("uri", flat=True))
    work_ids = work_ids_of(institution, objects)
    fold = Fold(objects, geography=geography(institution), targeted=targeted_of(work_ids))
    pks = list(
        CustodyEvent.objects.filter(institution=institution).order_by("pk").values_list("pk", flat=True)
    )
    fold.run(event_rows(pks, set()))
    return write_states(institution, fold.states.values(), work_ids)


def _replay_anomalies() -> int:
    rows = []
    for fact in (
        Fact.objects.filter(type=facts.ANOMALY_DETECTED.name).order_by("id").iterator(chunk_size=2000)
    ):
        body = _body(fact)
        rows.append(
            Anomaly(
                institution_id=fact.institution_id or 0,
                kind=body["kind"],
                uri=body["uri"],
                event_id=body["eventID"],
                evidence=body["evidence"],
                detected_at=fact.recorded_at,
                fact_id=fact.id,
            )
        )
    Anomaly.objects.bulk_create(rows, batch_size=1000)
    for fact in (
        Fact.objects.filter(type=facts.ANOMALY_RESOLVED.name).order_by("id").iterator(chunk_size=2000)
    ):
        body = _body(fact)
        key = body["anomaly"]
        Anomaly.objects.filter(
            institution_id=fact.institution_id or 0, kind=key["kind"], uri=key["uri"], event_id=key["eventID"]
        ).update(resolved_at=fact.recorded_at, resolved_by=fact.actor, comment=body["comment"])
    return len(rows)


def rebuild_custody() -> int:
    """Empty the custody tables, store every captured event again, fold, restore anomalies."""
    for model in (Anomaly, Presence, Containment, ObjectState, CustodyEvent):
        model.objects.all().delete()
    written = 0
    for institution_id in sorted(_replay_events()):
        written += _fold(Institution.objects.get(pk=institution_id))
    return written + _replay_anomalies()


projections.register(
    "moves.custody", rebuild_custody, "Custody events, object states, containment, presence, anomalies."
)
