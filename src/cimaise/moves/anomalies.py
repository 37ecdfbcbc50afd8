"""Anomalies: recorded once each as a fact, never dropped; the checks that need the database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from cimaise.core.models import Institution, Place
from cimaise.ledger.services import FactDraft, facts_append
from cimaise.moves import facts
from cimaise.moves.models import Anomaly, CustodyEvent, ObjectState
from cimaise.moves.projection import chunks
from cimaise.moves.projector import Detected

_PLACE_KEYS = ("from_place", "to_place")


def anomalies_record(
    institution: Institution, detected: Sequence[Detected], *, actor: str, now: dt.datetime
) -> list[Anomaly]:
    """Record the anomalies not recorded before (one per kind, object and event)."""
    unique = {(d.kind, d.uri, d.event_id): d for d in detected}
    for batch in chunks(sorted({d.event_id for d in detected})):
        for key in Anomaly.objects.filter(institution=institution, event_id__in=batch).values_list(
            "kind", "uri", "event_id"
        ):
            unique.pop(key, None)
    if not unique:
        return []
    items = [_readable(d) for d in unique.values()]
    drafts = [
        FactDraft(
            type=facts.ANOMALY_DETECTED.name,
            stream=f"moves.anomaly:{institution.code}",
            body={"kind": d.kind, "uri": d.uri, "eventID": d.event_id, "evidence": d.evidence},
            actor=actor,
            institution_id=institution.pk,
        )
        for d in items
    ]
    stored = facts_append(drafts, now=now)
    rows = [
        Anomaly(
            institution=institution,
            kind=d.kind,
            uri=d.uri,
            event_id=d.event_id,
            evidence=d.evidence,
            detected_at=fact.recorded_at,
            fact_id=fact.id,
        )
        for d, fact in zip(items, stored, strict=True)
    ]
    return Anomaly.objects.bulk_create(rows, batch_size=500)


def _readable(detected: Detected) -> Detected:
    """Place ids in the evidence become place codes."""
    ids = [detected.evidence[k] for k in _PLACE_KEYS if isinstance(detected.evidence.get(k), int)]
    if not ids:
        return detected
    codes = dict(Place.objects.filter(pk__in=ids).values_list("pk", "code"))
    evidence = {k: codes.get(v, v) if k in _PLACE_KEYS else v for k, v in detected.evidence.items()}
    return Detected(detected.kind, detected.uri, detected.event_id, evidence)


def anomalies_for_events(institution: Institution, event_ids: Sequence[str]) -> list[Anomaly]:
    found: list[Anomaly] = []
    for batch in chunks(sorted(set(event_ids))):
        found += Anomaly.objects.filter(institution=institution, event_id__in=batch)
    return sorted(found, key=lambda a: a.pk)


_STORING = ("storing", "stocking")


def shelf_checks(institution: Institution, rows: Sequence[CustodyEvent]) -> list[Detected]:
    """A shelf that received works in these events and is now over its load or its volume."""
    last: dict[int, CustodyEvent] = {}
    for row in rows:
        if row.biz_step in _STORING and row.place_id is not None and not row.is_declaration:
            last[row.place_id] = row
    if not last:
        return []
    totals = _totals(institution, list(last))
    detected = []
    for place in Place.objects.filter(pk__in=list(last)).select_related("institution"):
        excess = _excess(place, *totals.get(place.pk, (Decimal(0), Decimal(0))))
        if excess:
            event = last[place.pk]
            body = {"eventID": event.event_id, "bizStep": event.biz_step, "place": place.code, **excess}
            detected.append(Detected(Anomaly.Kind.SHELF_OVERLOAD, place.uri, event.event_id, body))
    return detected


def _totals(institution: Institution, place_ids: list[int]) -> dict[int, tuple[Decimal, Decimal]]:
    """Per place: the weight (kg) and volume (litres) of the works on it now, in one query."""
    totals: dict[int, tuple[Decimal, Decimal]] = {}
    works = ObjectState.objects.filter(
        institution=institution, place_id__in=place_ids, kind="work", work__isnull=False
    ).values_list("place_id", "work__weight_kg", "work__height_cm", "work__width_cm", "work__depth_cm")
    zero = Decimal(0)
    for place_id, weight, h, w, d in works:
        load, volume = totals.get(place_id, (zero, zero))
        totals[place_id] = (load + (weight or zero), volume + (h or zero) * (w or zero) * (d or zero) / 1000)
    return totals


def _excess(place: Place, load: Decimal, volume: Decimal) -> dict[str, Any]:
    """The load and volume on the shelf, when one of them is over the shelf's limit."""
    volume_limit = place.volume_litres
    if place.load_limit_kg is None and volume_limit is None:
        return {}
    over_load = place.load_limit_kg is not None and load > place.load_limit_kg
    over_volume = volume_limit is not None and volume > volume_limit
    if not (over_load or over_volume):
        return {}
    return {
        "load_kg": str(load),
        "load_limit_kg": None if place.load_limit_kg is None else str(place.load_limit_kg),
        "volume_litres": str(volume.quantize(Decimal("0.1"))),
        "volume_limit_litres": None if volume_limit is None else str(volume_limit),
    }
