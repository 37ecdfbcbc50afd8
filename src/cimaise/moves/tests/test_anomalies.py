"""Each kind of anomaly is recorded once, as a fact, with its evidence; a registrar resolves it."""

from __future__ import annotations

import pytest

from cimaise.core.errors import Conflict, InvalidInput, PermissionDenied
from cimaise.core.tests.personas import Cast
from cimaise.ledger.models import Fact
from cimaise.moves.models import Anomaly, Assignment
from cimaise.moves.services import anomaly_resolve, custody_capture
from cimaise.moves.tests.factories import Transfer, aggregation, full_journey, object_event, place

pytestmark = pytest.mark.django_db


def kinds(result: object) -> list[tuple[str, str]]:
    return sorted((a.kind, a.uri) for a in getattr(result, "anomalies"))  # noqa: B009


def test_unpacking_a_work_from_a_crate_it_is_not_in(cast: Cast, transfer: Transfer) -> None:
    actor = cast.registrar_a.actor
    custody_capture(actor=actor, payload=[aggregation(transfer.crate(0), [transfer.work(0)], "packing", 0)])
    result = custody_capture(
        actor=actor,
        payload=[aggregation(transfer.crate(1), [transfer.work(0)], "unpacking", 5, action="DELETE")],
    )
    assert kinds(result) == [("not_in_container", transfer.work(0))]
    evidence = result.anomalies[0].evidence
    assert evidence["container"] == transfer.crate(0) and evidence["bizStep"] == "unpacking"


def test_receiving_a_crate_that_never_departed(cast: Cast, transfer: Transfer) -> None:
    event = object_event([transfer.crate(0)], "receiving", 0, bizLocation=place(transfer.ccl_dock))
    result = custody_capture(actor=cast.registrar_a.actor, payload=[event])
    assert kinds(result) == [("never_departed", transfer.crate(0))]


def test_a_work_seen_in_paris_and_lievin_ten_minutes_apart(cast: Cast, transfer: Transfer) -> None:
    events = [
        object_event([transfer.work(0)], "inspecting", 0, readPoint=place(transfer.pal_shelf)),
        object_event([transfer.work(0)], "inspecting", 10, readPoint=place(transfer.ccl_shelf)),
    ]
    result = custody_capture(actor=cast.registrar_a.actor, payload=events)
    assert kinds(result) == [("impossible_travel", transfer.work(0))]
    evidence = result.anomalies[0].evidence
    assert evidence["from_place"] == "PAL-DEN-R1-S1" and evidence["to_place"] == "CCL-Z1-S1"
    assert 150 < evidence["km"] < 250


def test_the_same_trip_by_road_is_not_an_anomaly(cast: Cast, transfer: Transfer) -> None:
    events = [
        object_event([transfer.work(0)], "inspecting", 0, readPoint=place(transfer.pal_shelf)),
        object_event([transfer.work(0)], "inspecting", 180, readPoint=place(transfer.ccl_shelf)),
    ]
    assert custody_capture(actor=cast.registrar_a.actor, payload=events).anomalies == []


def test_storing_over_a_shelf_load(cast: Cast, transfer: Transfer) -> None:
    event = object_event(
        [transfer.work(0), transfer.work(1)], "storing", 0, bizLocation=place(transfer.ccl_small_shelf)
    )
    result = custody_capture(actor=cast.registrar_a.actor, payload=[event])
    assert kinds(result) == [("shelf_overload", transfer.ccl_small_shelf.uri)]
    evidence = result.anomalies[0].evidence
    assert (evidence["load_kg"], evidence["load_limit_kg"]) == ("16.00", "10.0")


def test_a_work_leaving_without_a_target_shelf_or_a_condition_check(cast: Cast, transfer: Transfer) -> None:
    Assignment.objects.filter(work=transfer.works[0]).delete()
    journey = full_journey(transfer)
    journey[0]["epcList"] = [transfer.work(0), transfer.work(2), transfer.work(3)]  # work 1 not inspected
    result = custody_capture(actor=cast.registrar_a.actor, payload=journey[:5])
    assert kinds(result) == [("no_condition_check", transfer.work(1)), ("no_target", transfer.work(0))]
    assert all(a.evidence["bizStep"] == "departing" for a in result.anomalies)


def test_an_unknown_identifier_is_kept_and_flagged(cast: Cast, transfer: Transfer) -> None:
    unknown = "urn:cimaise:work:louvre:INV%2099999"
    event = object_event([unknown], "storing", 0, bizLocation={"id": "urn:cimaise:place:louvre:NOWHERE"})
    result = custody_capture(actor=cast.registrar_a.actor, payload=[event])
    assert kinds(result) == [
        ("unknown_identifier", "urn:cimaise:place:louvre:NOWHERE"),
        ("unknown_identifier", unknown),
    ]
    assert result.recorded == 1


def test_an_anomaly_is_recorded_once_even_when_its_event_is_resent(cast: Cast, transfer: Transfer) -> None:
    event = object_event([transfer.crate(0)], "receiving", 0)
    custody_capture(actor=cast.registrar_a.actor, payload=[event])
    again = custody_capture(actor=cast.registrar_a.actor, payload=[event])
    assert kinds(again) == [("never_departed", transfer.crate(0))]
    assert Fact.objects.filter(type="moves.anomaly.detected").count() == 1


def test_late_events_do_not_duplicate_anomalies_of_earlier_events(cast: Cast, transfer: Transfer) -> None:
    actor = cast.registrar_a.actor
    custody_capture(actor=actor, payload=[object_event([transfer.crate(0)], "receiving", 50)])
    custody_capture(actor=actor, payload=[object_event([transfer.crate(0)], "inspecting", 10)])
    assert Anomaly.objects.count() == 1


def test_a_registrar_resolves_an_anomaly_with_a_comment(cast: Cast, transfer: Transfer) -> None:
    result = custody_capture(
        actor=cast.registrar_a.actor, payload=[object_event([transfer.crate(0)], "receiving", 0)]
    )
    anomaly = result.anomalies[0]
    with pytest.raises(InvalidInput):
        anomaly_resolve(actor=cast.registrar_a.actor, anomaly_id=anomaly.pk, comment="  ")
    resolved = anomaly_resolve(
        actor=cast.registrar_a.actor, anomaly_id=anomaly.pk, comment="Departure scan lost"
    )
    assert resolved.resolved_by.startswith("user:registrar-a") and resolved.comment == "Departure scan lost"
    fact = Fact.objects.get(type="moves.anomaly.resolved")
    assert "Departure scan lost" in fact.body
    with pytest.raises(Conflict):
        anomaly_resolve(actor=cast.registrar_a.actor, anomaly_id=anomaly.pk, comment="again")


def test_only_a_registrar_resolves_and_only_their_institutions_anomalies(
    cast: Cast, transfer: Transfer
) -> None:
    result = custody_capture(
        actor=cast.registrar_a.actor, payload=[object_event([transfer.crate(0)], "receiving", 0)]
    )
    anomaly = result.anomalies[0]
    with pytest.raises(PermissionDenied):
        anomaly_resolve(actor=cast.gate_agent_a.actor, anomaly_id=anomaly.pk, comment="x")
    client = cast.partner_b.client()
    response = client.post(
        f"/api/v1/anomalies/{anomaly.pk}/resolve", data={"comment": "x"}, content_type="application/json"
    )
    assert response.status_code == 404
    listed = cast.registrar_a.client().get("/api/v1/anomalies", {"open": "true"}).json()
    assert [item["id"] for item in listed["items"]] == [anomaly.pk]
    response = cast.registrar_a.client().post(
        f"/api/v1/anomalies/{anomaly.pk}/resolve", data={"comment": "ok"}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["resolved_at"]
    assert cast.registrar_a.client().get("/api/v1/anomalies", {"open": "true"}).json()["count"] == 0
