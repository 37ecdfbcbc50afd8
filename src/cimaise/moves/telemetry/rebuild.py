"""``cimaise ledger rebuild`` for telemetry: the readings table refilled from the
``moves.telemetry.received`` facts. (Incidents are shared with other rules and keep their rows.)"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from cimaise.ledger import projections
from cimaise.ledger.models import Fact
from cimaise.moves import facts_telemetry as facts
from cimaise.moves.models import Convoy, TelemetryReading
from cimaise.moves.rows import insert_rows
from cimaise.moves.telemetry.services import ATTNAMES
from cimaise.moves.uris import parse_identifier


def _convoy_id(institution_id: int, uri: str, known: dict[tuple[int, str], int]) -> int:
    if (institution_id, uri) not in known:
        code = parse_identifier(uri).key
        known[(institution_id, uri)] = Convoy.objects.get(institution_id=institution_id, code=code).pk
    return known[(institution_id, uri)]


def _rows(fact: Fact, convoy_id: int, body: dict[str, Any]) -> list[tuple[Any, ...]]:
    head = (fact.institution_id, body["device"], convoy_id)
    rows: list[tuple[Any, ...]] = []
    for rid, kind, time, value, lat, lon, speed, door in body["readings"]:
        door_open = None if door is None else door == "open"
        moment = dt.datetime.fromisoformat(time)
        rows.append((*head, rid, kind, moment, value, lat, lon, speed, door_open, "", "", "", fact.id))
    for _index, rid, reason, field, message in body["rejected"]:
        rows.append(
            (*head, rid, "", None, None, None, None, None, None, reason, field, message[:300], fact.id)
        )
    return rows


def rebuild_readings() -> int:
    """Empty the readings table and store every reading of every batch again."""
    TelemetryReading.objects.all().delete()
    known: dict[tuple[int, str], int] = {}
    written = 0
    for fact in (
        Fact.objects.filter(type=facts.TELEMETRY_RECEIVED.name).order_by("id").iterator(chunk_size=500)
    ):
        body: dict[str, Any] = json.loads(fact.body)
        convoy_id = _convoy_id(fact.institution_id or 0, body["convoy"], known)
        written += insert_rows(TelemetryReading, ATTNAMES, _rows(fact, convoy_id, body))
    return written


projections.register("moves.telemetry", rebuild_readings, "Tracker readings, accepted and rejected.")
