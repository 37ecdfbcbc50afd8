"""Telemetry on PostgreSQL: concurrent resends of one batch store it once, and a geofence arrival
racing a crew's transition of the convoy records one arrival without a deadlock (both take the
convoy's row, then the ledger)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from django.db import transaction

from cimaise.core.tests.concurrency import at_once
from cimaise.core.tests.personas import make_cast
from cimaise.ledger.verify import ledger_verify
from cimaise.moves.epcis import parse_payload
from cimaise.moves.models import Convoy, ConvoyState, CustodyEvent, Incident, TelemetryReading
from cimaise.moves.services import custody_record
from cimaise.moves.telemetry import devices
from cimaise.moves.telemetry.services import telemetry_ingest
from cimaise.moves.tests.factories import make_transfer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

T0 = dt.datetime(2020, 1, 6, 8, 0, tzinfo=dt.UTC)
LIEVIN = (50.4186, 2.7817)


def _setup() -> tuple[Any, Any, Any]:
    cast = make_cast()
    transfer = make_transfer(cast)
    transfer.convoy.state = ConvoyState.IN_TRANSIT
    transfer.convoy.save()
    tracker = devices.tracker_register(actor=cast.admin_a.actor, vehicle=transfer.vehicle, label="T7")
    return cast, transfer, tracker.device


def _temperatures(values: list[float]) -> list[dict[str, Any]]:
    return [
        {"id": f"t{m}", "time": (T0 + dt.timedelta(minutes=m)).isoformat(), "type": "temperature", "value": v}
        for m, v in enumerate(values)
    ]


def test_concurrent_resends_of_one_batch_store_it_once() -> None:
    _cast, transfer, device = _setup()
    batch = _temperatures([19, 24, 25, 19, 19])

    def send() -> Any:
        return telemetry_ingest(device=device, convoy=transfer.convoy, readings=batch)

    results, errors = at_once([send for _ in range(4)])
    assert not errors, errors
    assert sorted(r.recorded for r in results) == [0, 0, 0, 5]
    assert len({tuple(r.accepted) for r in results}) == 1
    assert TelemetryReading.objects.count() == 5 and Incident.objects.count() == 1
    assert CustodyEvent.objects.filter(biz_step="sensor_reporting").count() == 1
    assert ledger_verify().ok


def test_a_geofence_arrival_racing_the_crew_records_one_arrival() -> None:
    cast, transfer, device = _setup()
    inside = [{"id": "p0", "time": T0.isoformat(), "type": "position", "lat": LIEVIN[0], "lon": LIEVIN[1]}]
    actor = cast.registrar_a.actor

    def tracker() -> Any:
        return telemetry_ingest(device=device, convoy=transfer.convoy, readings=inside)

    def crew() -> None:
        """What ``convoys.convoy_move`` does to arrive, in its lock order: the convoy's row, then
        the ledger (through the capture)."""
        with transaction.atomic(durable=True):
            convoy = (
                Convoy.objects.select_for_update(of=("self",))
                .select_related("institution")
                .get(pk=transfer.convoy.pk)
            )
            if convoy.state != ConvoyState.IN_TRANSIT:
                return
            time.sleep(0.05)
            link = [{"type": "bol", "bizTransaction": convoy.uri}]
            event = {"type": "ObjectEvent", "action": "OBSERVE", "epcList": [transfer.truck]}
            event |= {"bizStep": "arriving", "eventTime": T0.isoformat(), "bizTransactionList": link}
            parsed = parse_payload([event], now=T0, skew=dt.timedelta(0))
            custody_record(institution=convoy.institution, events=parsed, who=actor.label)
            convoy.state = ConvoyState.ARRIVED
            convoy.save(update_fields=["state"])

    _results, errors = at_once([tracker, crew])
    assert not errors, errors
    assert CustodyEvent.objects.filter(biz_step="arriving").count() == 1
    transfer.convoy.refresh_from_db()
    assert transfer.convoy.state == ConvoyState.ARRIVED
    assert ledger_verify().ok
