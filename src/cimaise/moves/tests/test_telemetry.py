"""A truck tracker's readings through the service and ``POST /api/v1/convoys/{code}/telemetry``:
idempotent per device, impossible readings refused one by one, one incident per excursion whatever
the order readings arrive in, arrival in the destination's geofence, registrars told on commit."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from cimaise.core.tests.personas import Cast
from cimaise.ledger.models import Fact
from cimaise.moves.export import EPCIS_CONTEXT, event_out
from cimaise.moves.models import ConvoyState, Crate, CustodyEvent, Incident, TelemetryReading, Vehicle
from cimaise.moves.telemetry import devices, rules, selectors
from cimaise.moves.telemetry.devices import IssuedTracker
from cimaise.moves.telemetry.readings import Reading
from cimaise.moves.telemetry.services import IngestResult, plan_of, telemetry_ingest
from cimaise.moves.tests.factories import Transfer
from cimaise.moves.tests.test_export import assert_valid

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2020, 1, 6, 8, 0, tzinfo=dt.UTC)
NOW = T0 + dt.timedelta(days=1)
PARIS, LIEVIN = (48.860611, 2.337644), (50.4186, 2.7817)
ROUTE = [list(PARIS), [49.3, 2.45], [49.9, 2.6], list(LIEVIN)]
STOP = (49.6, 2.525)


def at(minutes: float) -> str:
    return (T0 + dt.timedelta(minutes=minutes)).isoformat()


def along(fraction: float) -> tuple[float, float]:
    return (PARIS[0] + (LIEVIN[0] - PARIS[0]) * fraction, PARIS[1] + (LIEVIN[1] - PARIS[1]) * fraction)


def pos(minutes: float, point: tuple[float, float], speed: float | None = 80.0) -> dict[str, Any]:
    reading: dict[str, Any] = {"id": f"p{minutes}", "time": at(minutes), "type": "position"}
    reading |= {"lat": point[0], "lon": point[1]}
    return reading | ({"speed": speed} if speed is not None else {})


def measure(kind: str, minutes: float, value: Any) -> dict[str, Any]:
    return {"id": f"{kind[0]}{minutes}", "time": at(minutes), "type": kind, "value": value}


def drive(start: int, end: int, first: float = 0.0, speed_per_minute: float = 0.005) -> list[dict[str, Any]]:
    """Positions every minute along the line Paris–Liévin (within the corridor)."""
    return [pos(m, along(first + (m - start) * speed_per_minute)) for m in range(start, end)]


@dataclass
class Trip:
    transfer: Transfer
    tracker: IssuedTracker
    cast: Cast

    @property
    def code(self) -> str:
        return self.transfer.convoy.code

    def ingest(self, readings: list[dict[str, Any]], now: dt.datetime = NOW) -> IngestResult:
        return telemetry_ingest(
            device=self.tracker.device, convoy=self.transfer.convoy, readings=readings, now=now
        )

    def client(self) -> Client:
        return Client(headers={"Authorization": f"Bearer {self.tracker.raw}"})

    def post(self, readings: Any, *, client: Client | None = None, code: str | None = None) -> Any:
        return (client or self.client()).post(
            f"/api/v1/convoys/{code or self.code}/telemetry",
            data=json.dumps({"readings": readings}),
            content_type="application/json",
        )


@pytest.fixture
def trip(cast: Cast, transfer: Transfer) -> Trip:
    convoy = transfer.convoy
    convoy.route = ROUTE
    convoy.planned_stops = [{"lat": STOP[0], "lon": STOP[1], "from": at(60), "until": at(90)}]
    convoy.state = ConvoyState.IN_TRANSIT
    convoy.save()
    tracker = devices.tracker_register(actor=cast.admin_a.actor, vehicle=transfer.vehicle, label="Tracker T7")
    return Trip(transfer=transfer, tracker=tracker, cast=cast)


def incidents(trip: Trip, kind: str | None = None) -> list[tuple[str, str, str | None]]:
    rows = Incident.objects.filter(convoy=trip.transfer.convoy).order_by("started_at", "kind")
    if kind:
        rows = rows.filter(kind=kind)
    return [(i.kind, i.started_at.isoformat(), i.ended_at.isoformat() if i.ended_at else None) for i in rows]


def facts_of(type_: str) -> list[dict[str, Any]]:
    return [json.loads(f.body) for f in Fact.objects.filter(type=type_).order_by("id")]


# The route: authentication, idempotency, bad input


def test_a_tracker_posts_readings_and_they_are_kept(trip: Trip) -> None:
    readings = drive(0, 3) + [measure("temperature", 1, 19.2), measure("humidity", 1, 52)]
    response = trip.post(readings)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body == {
        "convoy": "CV-001",
        "accepted": [r["id"] for r in readings],
        "rejected": [],
        "recorded": 5,
        "alreadyRecorded": 0,
    }
    assert TelemetryReading.objects.filter(convoy=trip.transfer.convoy, rejection="").count() == 5
    (received,) = facts_of("moves.telemetry.received")
    assert received["convoy"] == trip.transfer.convoy.uri and len(received["readings"]) == 5


def test_a_resend_stores_nothing_twice_and_answers_the_same(trip: Trip) -> None:
    readings = drive(0, 4) + [measure("humidity", 2, 140), measure("temperature", 2, 25)]
    first = trip.post(readings)
    counts = (TelemetryReading.objects.count(), Fact.objects.count(), CustodyEvent.objects.count())
    again = trip.post(readings)
    partial = trip.post(readings[2:] + readings[:1])
    assert first.status_code == 201 and again.status_code == 200 and partial.status_code == 200
    for key in ("accepted", "rejected"):
        assert again.json()[key] == first.json()[key]
    assert (again.json()["recorded"], again.json()["alreadyRecorded"]) == (0, 6)
    assert [r["reason"] for r in partial.json()["rejected"]] == ["humidity_out_of_range"]
    assert partial.json()["rejected"][0]["index"] == 2
    assert (TelemetryReading.objects.count(), Fact.objects.count(), CustodyEvent.objects.count()) == counts
    assert len(incidents(trip)) == 1


def test_a_reading_repeated_in_one_batch_is_kept_once(trip: Trip) -> None:
    reading = measure("temperature", 0, 19)
    result = trip.ingest([reading, reading])
    assert result.accepted == ["t0", "t0"] and result.recorded == 1
    assert TelemetryReading.objects.count() == 1


def test_impossible_readings_are_rejected_one_by_one_and_the_others_kept(trip: Trip) -> None:
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()
    readings = [
        measure("temperature", 0, 19.0),
        measure("humidity", 0, 140),
        pos(0, along(0.1)),
        pos(1, (43.3, 5.4)),  # Marseille, a minute later
        {"id": "late", "time": future, "type": "temperature", "value": 19},
        measure("temperature", 1, 75),
        {"time": at(1), "type": "shock", "value": 0.2},
        pos(2, along(0.11)),
    ]
    body = trip.post(readings).json()
    assert body["accepted"] == ["t0", "p0", "p2"]
    assert [(r["index"], r["id"], r["reason"]) for r in body["rejected"]] == [
        (1, "h0", "humidity_out_of_range"),
        (3, "p1", "impossible_jump"),
        (4, "late", "future_time"),
        (5, "t1", "temperature_out_of_range"),
        (6, None, "bad_id"),
    ]
    assert all(r["message"] and r["field"] for r in body["rejected"])
    kept = TelemetryReading.objects.filter(rejection="").values_list("reading_id", flat=True)
    assert sorted(kept) == ["p0", "p2", "t0"]


def test_a_jump_against_a_position_of_an_earlier_batch_is_rejected(trip: Trip) -> None:
    trip.ingest(drive(0, 2))
    result = trip.ingest([pos(3, (43.3, 5.4))])
    assert [r.reason for r in result.rejected] == ["impossible_jump"]


def test_an_unknown_or_revoked_device_gets_401(trip: Trip, cast: Cast) -> None:
    readings = [measure("temperature", 0, 19)]
    for headers in ({}, {"Authorization": "Bearer cimdev_00000000_nope"}, {"Authorization": "Bearer junk"}):
        assert trip.post(readings, client=Client(headers=headers)).status_code == 401
    person = Client(headers={"Authorization": f"Bearer {cast.registrar_a.token}"})
    assert trip.post(readings, client=person).status_code == 401  # a person's token is not a device's
    devices.tracker_revoke(actor=cast.admin_a.actor, device=trip.tracker.device)
    response = trip.post(readings)
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"
    assert TelemetryReading.objects.count() == 0


def test_a_rotated_token_replaces_the_old_one_and_keeps_the_device(trip: Trip, cast: Cast) -> None:
    trip.post([measure("temperature", 0, 19)])
    old = trip.client()
    trip.tracker = devices.tracker_rotate(actor=cast.admin_a.actor, device=trip.tracker.device)
    assert trip.post([measure("temperature", 1, 19)], client=old).status_code == 401
    again = trip.post([measure("temperature", 0, 19), measure("temperature", 1, 19)])
    assert again.json()["alreadyRecorded"] == 1 and again.json()["recorded"] == 1


def test_a_tracker_of_another_vehicle_sees_no_convoy(trip: Trip, cast: Cast) -> None:
    other = Vehicle.objects.create(institution=cast.institution_a, plate="AB-999-CD")
    stranger = devices.tracker_register(actor=cast.admin_a.actor, vehicle=other, label="Other truck")
    client = Client(headers={"Authorization": f"Bearer {stranger.raw}"})
    response = trip.post([measure("temperature", 0, 19)], client=client)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert trip.post([measure("temperature", 0, 19)], code="NOPE").status_code == 404
    assert TelemetryReading.objects.count() == 0


def test_a_malformed_batch_is_a_422_naming_the_field(trip: Trip, settings: Any) -> None:
    client = trip.client()
    url = f"/api/v1/convoys/{trip.code}/telemetry"
    response = client.post(url, data=json.dumps({"readings": "all"}), content_type="application/json")
    assert response.status_code == 422 and response.json()["error"]["details"][0]["field"] == "readings"
    settings.CIMAISE = {**settings.CIMAISE, "TELEMETRY_MAX_READINGS": 2}
    response = trip.post([measure("temperature", m, 19) for m in range(3)])
    assert response.status_code == 422 and response.json()["error"]["details"] == {"field": "readings"}


# Incidents, one per excursion


def test_a_temperature_excursion_opens_one_incident_ended_when_back_in_bounds(trip: Trip) -> None:
    trip.ingest([measure("temperature", m, 19) for m in range(0, 5)])
    trip.ingest([measure("temperature", m, 23.5 + m / 10) for m in range(5, 15)])
    trip.ingest([measure("temperature", m, 24) for m in range(15, 20)])
    assert incidents(trip) == [("temperature", at(5), None)]
    trip.ingest([measure("temperature", m, 19.5) for m in range(20, 25)])
    assert incidents(trip) == [("temperature", at(5), at(20))]
    trip.ingest([measure("temperature", m, 15) for m in range(25, 27)])
    assert incidents(trip) == [("temperature", at(5), at(20)), ("temperature", at(25), None)]
    assert len(facts_of("moves.incident.opened")) == 2
    (ended,) = facts_of("moves.incident.ended")
    assert ended["ended_at"] == at(20) and ended["evidence"]["max"] == 24.9
    incident = Incident.objects.get(ended_at__isnull=False)
    assert incident.fact_id == Fact.objects.filter(type="moves.incident.opened").order_by("id")[0].id
    assert incident.evidence["readings"] == 15 and incident.institution_id == trip.cast.institution_a.pk


def test_humidity_beyond_the_margin_opens_an_incident(trip: Trip) -> None:
    trip.ingest([measure("humidity", 0, 52), measure("humidity", 1, 61), measure("humidity", 2, 58)])
    assert incidents(trip) == [("humidity", at(1), at(2))]


def test_a_shock_above_the_most_fragile_crate_opens_an_incident(trip: Trip) -> None:
    Crate.objects.filter(pk=trip.transfer.crates[0].pk).update(shock_threshold_g=Decimal("2.50"))
    Crate.objects.filter(pk=trip.transfer.crates[1].pk).update(shock_threshold_g=Decimal("1.50"))
    trip.ingest([measure("shock", 0, 1.2), measure("shock", 1, 1.8), measure("shock", 2, 0.4)])
    assert incidents(trip) == [("shock", at(1), at(2))]
    assert Incident.objects.get().evidence["threshold_g"] == 1.5


def test_without_crate_thresholds_the_default_shock_threshold_applies(trip: Trip) -> None:
    trip.ingest([measure("shock", 0, 2.9), measure("shock", 1, 3.5)])
    assert incidents(trip) == [("shock", at(1), None)]


def test_a_door_opened_away_from_planned_stops_opens_an_incident(trip: Trip) -> None:
    trip.ingest(drive(0, 10) + [measure("door", 5, "open"), measure("door", 7, "closed")])
    assert incidents(trip) == [("door", at(5), at(7))]
    at_stop = [pos(m, STOP, 0) for m in range(70, 80)] + [
        measure("door", 72, "open"),
        measure("door", 75, "closed"),
    ]
    trip.ingest(at_stop)
    assert incidents(trip, "door") == [("door", at(5), at(7))]


def test_an_unplanned_stop_longer_than_the_setting_opens_an_incident(trip: Trip, settings: Any) -> None:
    settings.CIMAISE = {**settings.CIMAISE, "TELEMETRY_STOP_MINUTES": 15}
    spot = along(0.05)
    trip.ingest(drive(0, 10, speed_per_minute=0.005))
    trip.ingest([pos(m, spot, 0) for m in range(10, 20)])
    assert incidents(trip) == []  # ten minutes so far
    trip.ingest([pos(m, spot, 0) for m in range(20, 30)])
    assert incidents(trip) == [("unplanned_stop", at(10), None)]
    trip.ingest(drive(30, 35, first=0.055))
    assert incidents(trip) == [("unplanned_stop", at(10), at(30))]


def test_leaving_the_route_corridor_opens_an_incident(trip: Trip) -> None:
    off = [pos(m, (49.3 + m / 1000, 2.65)) for m in range(10, 15)]  # about 14 km east of the route
    back = [pos(m, (49.3 + m / 1000, 2.46)) for m in range(20, 23)]  # 14 km in 6 minutes
    trip.ingest([pos(0, (49.2, 2.44))] + off + back)
    assert incidents(trip) == [("route_deviation", at(10), at(20))]
    assert Incident.objects.get().evidence["max_km"] > 5


def test_arrival_in_the_destination_geofence_records_arriving_once(trip: Trip) -> None:
    approach = [pos(m, (LIEVIN[0] - 0.01 + m / 1000, LIEVIN[1]), 20) for m in range(0, 9)]
    trip.ingest(approach[:5])
    assert CustodyEvent.objects.filter(biz_step="arriving").count() == 0
    trip.ingest(approach[5:])
    trip.ingest([pos(m, LIEVIN, 0) for m in range(10, 15)])
    (arriving,) = CustodyEvent.objects.filter(biz_step="arriving")
    assert arriving.event_time.isoformat() == at(6)  # 0.004° (450 m) south of the site
    assert arriving.biz_transaction == trip.transfer.convoy.uri and arriving.body["epcList"] == [
        trip.transfer.truck
    ]
    assert arriving.biz_location == "urn:cimaise:place:louvre:CCL-B1"
    trip.transfer.convoy.refresh_from_db()
    assert trip.transfer.convoy.state == ConvoyState.ARRIVED
    (fact,) = facts_of("moves.telemetry.arrived")
    assert (fact["from"], fact["to"], fact["eventID"]) == ("in_transit", "arrived", arriving.event_id)


def test_arrival_of_a_convoy_not_in_transit_is_recorded_without_moving_its_state(trip: Trip) -> None:
    trip.transfer.convoy.state = ConvoyState.SEALED
    trip.transfer.convoy.save()
    trip.ingest([pos(0, LIEVIN, 0)])
    assert CustodyEvent.objects.filter(biz_step="arriving").count() == 1
    trip.transfer.convoy.refresh_from_db()
    assert trip.transfer.convoy.state == ConvoyState.SEALED


def test_each_batch_goes_into_the_custody_record_as_sensor_data(trip: Trip) -> None:
    trip.ingest([pos(0, along(0.1)), measure("temperature", 0, 23), measure("humidity", 1, 52)])
    (event,) = CustodyEvent.objects.filter(biz_step="sensor_reporting")
    assert event.biz_transaction == trip.transfer.convoy.uri and event.body["epcList"] == [
        trip.transfer.truck
    ]
    first, second = event.body["sensorElementList"]
    assert first["sensorMetadata"]["time"] == at(0)
    temperature = next(r for r in first["sensorReport"] if r["type"] == "Temperature")
    assert temperature == {"type": "Temperature", "value": 23.0, "uom": "CEL", "exception": "ALARM_CONDITION"}
    assert second["sensorReport"] == [{"type": "RelativeHumidity", "value": 52.0, "uom": "P1"}]


def test_the_telemetry_events_are_valid_epcis(trip: Trip) -> None:
    readings = [pos(0, along(0.99)), pos(2, LIEVIN, 0), measure("shock", 1, 5.0), measure("door", 3, "open")]
    trip.ingest(readings + [measure("temperature", 1, 30), measure("humidity", 1, 40)])
    events = [event_out(e) for e in CustodyEvent.objects.order_by("event_time", "event_id")]
    assert sorted(e["bizStep"] for e in events) == ["arriving", "sensor_reporting"]
    assert_valid(
        {
            "@context": [EPCIS_CONTEXT],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2020-01-07T08:00:00.000Z",
            "epcisBody": {"eventList": events},
        }
    )


# Readings out of order


def _journey() -> list[dict[str, Any]]:
    spot = along(0.15)
    temperature = [measure("temperature", m, 23 if 10 <= m < 20 or 40 <= m < 45 else 19) for m in range(60)]
    positions = drive(0, 30, speed_per_minute=0.005) + [pos(m, spot, 0) for m in range(30, 55)]
    doors = [measure("door", 31, "open"), measure("door", 33, "closed"), measure("door", 50, "open")]
    shocks = [measure("shock", m, 4.0 if m in (12, 13, 40) else 0.5) for m in range(60)]
    humidity = [measure("humidity", m, 62 if 20 <= m < 25 else 52) for m in range(0, 60, 5)]
    return temperature + positions + doors + shocks + humidity


def _expected(trip: Trip, readings: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    parsed = [
        Reading(
            id=r["id"],
            kind=r["type"],
            time=dt.datetime.fromisoformat(r["time"]),
            value=r["value"] if r["type"] not in ("door", "position") else None,
            lat=r.get("lat"),
            lon=r.get("lon"),
            speed=r.get("speed"),
            door_open=r["value"] == "open" if r["type"] == "door" else None,
        )  # fmt: skip
        for r in readings
    ]
    findings = rules.detect(parsed, plan_of(trip.transfer.convoy), rules.Limits())
    found = [(e.kind, e.start.isoformat(), e.end.isoformat() if e.end else None) for e in findings.excursions]
    return sorted(found, key=lambda f: (f[1], f[0]))


def _live(trip: Trip) -> list[tuple[str, str, str | None]]:
    rows = Incident.objects.filter(convoy=trip.transfer.convoy).order_by("started_at", "kind")
    return [
        (i.kind, i.started_at.isoformat(), i.ended_at.isoformat() if i.ended_at else None)
        for i in rows
        if not i.evidence.get("withdrawn")
    ]


def test_in_order_batches_give_one_incident_per_excursion(trip: Trip) -> None:
    readings = sorted(_journey(), key=lambda r: r["time"])
    for start in range(0, len(readings), 40):
        trip.ingest(readings[start : start + 40])
    expected = _expected(trip, readings)
    assert len(expected) == 8
    assert _live(trip) == expected
    assert Incident.objects.count() == len(expected)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_out_of_order_batches_end_with_the_same_incidents(trip: Trip, seed: int) -> None:
    readings = _journey()
    rng = random.Random(seed)
    rng.shuffle(readings)
    batches = [readings[i : i + rng.randint(5, 60)] for i in range(0, len(readings), 30)]
    rng.shuffle(batches)
    for batch in batches:
        trip.ingest(batch)
    trip.ingest(readings)  # every reading at least once: what any order converges to
    assert _live(trip) == _expected(trip, readings)


def test_a_late_reading_inside_an_excursion_splits_it(trip: Trip) -> None:
    trip.ingest([measure("temperature", m, 24) for m in (0, 1, 2, 4, 5)])
    assert incidents(trip) == [("temperature", at(0), None)]
    trip.ingest([measure("temperature", 3, 19)])
    assert incidents(trip) == [("temperature", at(0), at(3)), ("temperature", at(4), None)]
    (revised,) = facts_of("moves.incident.ended")
    assert revised["ended_at"] == at(3)


def test_a_late_reading_before_an_excursion_moves_its_start(trip: Trip) -> None:
    trip.ingest([measure("temperature", 0, 19), measure("temperature", 5, 24), measure("temperature", 6, 24)])
    trip.ingest([measure("temperature", 3, 24)])
    assert incidents(trip) == [("temperature", at(3), None)]
    assert [f["started_at"] for f in facts_of("moves.incident.revised")] == [at(3)]


def test_a_stop_split_by_a_late_position_is_withdrawn(trip: Trip) -> None:
    spot = along(0.05)
    trip.ingest(drive(0, 10) + [pos(m, spot, 0) for m in range(10, 32)])
    assert incidents(trip) == [("unplanned_stop", at(10), None)]
    trip.ingest([pos(20.5, along(0.052), 30)])
    incident = Incident.objects.get()
    assert incident.evidence["withdrawn"] is True and incident.ended_at == incident.started_at
    assert len(facts_of("moves.incident.withdrawn")) == 1


# Registrars are told, on commit


def test_registrars_get_an_email_once_the_incident_is_committed(
    trip: Trip, cast: Cast, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    user = cast.registrar_a.person.user
    user.email = "registrar@louvre.example"
    user.save()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        trip.ingest([measure("temperature", 0, 25), measure("temperature", 1, 25)])
    assert mail.outbox == [] and len(callbacks) == 1
    callbacks[0]()
    (message,) = mail.outbox
    assert message.to == ["registrar@louvre.example"]
    assert "CV-001" in message.subject and "Temperature" in message.subject
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        trip.ingest([measure("temperature", 2, 26)])  # the same excursion: nobody is told twice
    assert callbacks == [] and len(mail.outbox) == 1


# Staff routes: incidents and trackers


def test_the_open_incidents_are_listed_for_the_convoy(trip: Trip, cast: Cast) -> None:
    trip.ingest([measure("temperature", 0, 25), measure("humidity", 0, 70), measure("humidity", 1, 52)])
    client = cast.registrar_a.client()
    listed = client.get("/api/v1/convoys/CV-001/incidents", {"open": "true"}).json()
    assert [i["kind"] for i in listed] == ["temperature"]
    assert len(client.get("/api/v1/convoys/CV-001/incidents").json()) == 2
    assert [i.kind for i in selectors.open_incidents(institution=cast.institution_a)["CV-001"]] == [
        "temperature"
    ]


def test_the_incident_route_refuses_the_wrong_people(trip: Trip, cast: Cast, anon_client: Client) -> None:
    url = "/api/v1/convoys/CV-001/incidents"
    assert cast.gate_agent_a.client().get(url).status_code == 403
    assert cast.partner_b.client().get(url).status_code == 404
    assert anon_client.get(url).status_code == 401


def test_an_administrator_fits_rotates_and_revokes_a_tracker(trip: Trip, cast: Cast) -> None:
    admin = cast.admin_a.client()
    created = admin.post(
        "/api/v1/vehicles/GT-123-XZ/trackers", data={"label": "Spare"}, content_type="application/json"
    )
    assert created.status_code == 201 and created.json()["token"].startswith("cimdev_")
    tracker_id = created.json()["id"]
    trip.tracker = IssuedTracker(device=trip.tracker.device, raw=created.json()["token"])
    assert trip.post([measure("temperature", 0, 19)]).status_code == 201
    rotated = admin.post(f"/api/v1/trackers/{tracker_id}/rotate").json()
    assert rotated["token"] != created.json()["token"]
    revoked = admin.post(f"/api/v1/trackers/{tracker_id}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] and revoked.json()["token"] is None
    assert admin.post(f"/api/v1/trackers/{tracker_id}/revoke").status_code == 409
    facts = [f.type for f in Fact.objects.filter(type__startswith="moves.tracker.")]
    assert facts == ["moves.tracker.registered"] * 2 + ["moves.tracker.rotated", "moves.tracker.revoked"]


def test_the_tracker_routes_refuse_the_wrong_people(trip: Trip, cast: Cast, anon_client: Client) -> None:
    device = trip.tracker.device.pk
    routes = [
        ("/api/v1/vehicles/GT-123-XZ/trackers", {"label": "x"}),
        (f"/api/v1/trackers/{device}/rotate", {}),
    ]
    for url, data in routes:
        for client, status in (
            (cast.gate_agent_a.client(), 403),
            (cast.partner_b.client(), 404),
            (anon_client, 401),
        ):
            assert client.post(url, data=data, content_type="application/json").status_code == status, url


def test_the_readings_are_rebuilt_from_the_facts(trip: Trip) -> None:
    from cimaise.moves.telemetry.rebuild import rebuild_readings

    trip.ingest(
        drive(0, 5) + [measure("humidity", 1, 140), measure("door", 2, "open"), {"id": "x", "type": "?"}]
    )
    trip.ingest([measure("temperature", 3, 19.5), pos(9, (43.3, 5.4))])
    fields = [f.attname for f in TelemetryReading._meta.concrete_fields if f.attname != "id"]
    before = sorted(TelemetryReading.objects.values_list(*fields), key=repr)
    assert len(before) == 10
    assert rebuild_readings() == 10
    assert sorted(TelemetryReading.objects.values_list(*fields), key=repr) == before
