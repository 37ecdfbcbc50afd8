"""EPCIS capture: projections of a whole journey, idempotency, all or nothing, late events, error
declarations, bad input, authorization."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from cimaise.core.tests.personas import Cast
from cimaise.ledger.models import Fact
from cimaise.moves.models import Containment, CustodyEvent, ObjectState, Presence, Status
from cimaise.moves.services import custody_capture
from cimaise.moves.tests.factories import Transfer, at, document, full_journey, object_event, place
from cimaise.moves.tests.snapshot import custody_snapshot

pytestmark = pytest.mark.django_db

URL = "/api/v1/epcis/capture"


def post(client: Client, payload: Any) -> Any:
    return client.post(URL, data=json.dumps(payload), content_type="application/ld+json")


def state(uri: str) -> ObjectState:
    return ObjectState.objects.select_related("place").get(uri=uri)


def test_a_whole_journey_ends_with_every_work_stored_on_its_shelf(cast: Cast, transfer: Transfer) -> None:
    response = post(cast.registrar_a.client(), document(full_journey(transfer)))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["recorded"] == 11 and body["alreadyRecorded"] == 0 and body["anomalies"] == []
    for work in transfer.works:
        current = state(work.uri)
        assert (current.status, current.place, current.container) == (Status.STORED, transfer.ccl_shelf, "")
        assert current.crate == transfer.crates[0].uri or current.crate == transfer.crates[1].uri
        assert current.convoy == transfer.convoy.uri
        assert current.last_seen_by == "user:registrar-a token:" + cast.registrar_a.token.split("_")[1]
    crate = state(transfer.crate(0))
    assert (crate.status, crate.place, crate.container) == (Status.HOLDING, transfer.ccl_dock, "")
    assert Fact.objects.filter(type="moves.custody.captured").count() == 11


def test_every_event_gets_a_cbv_hash_id_when_it_has_none(cast: Cast, transfer: Transfer) -> None:
    response = post(cast.registrar_a.client(), full_journey(transfer))
    ids = response.json()["eventIDs"]
    assert len(set(ids)) == 11
    assert all(i.startswith("ni:///sha-256;") and i.endswith("?ver=CBV2.0") for i in ids)
    assert set(CustodyEvent.objects.values_list("event_id", flat=True)) == set(ids)


def test_containment_and_presence_follow_the_journey(cast: Cast, transfer: Transfer) -> None:
    custody_capture(actor=cast.registrar_a.actor, payload=full_journey(transfer))
    work = transfer.work(0)
    rows = list(Containment.objects.filter(child=work).order_by("since").values_list("parent", "until"))
    assert [parent for parent, _ in rows] == [transfer.crate(0)]
    assert rows[0][1] is not None
    truck = list(Containment.objects.filter(child=transfer.crate(0)).values_list("parent", flat=True))
    assert truck == [transfer.truck]
    places = list(Presence.objects.filter(uri=work).order_by("since").values_list("place__code", "until"))
    assert [code for code, _ in places] == ["PAL-DEN-R1-S1", "CCL-DOCK", "CCL-Z1-S1"]
    assert places[-1][1] is None


def test_a_resend_answers_the_same_and_records_nothing(cast: Cast, transfer: Transfer) -> None:
    client = cast.registrar_a.client()
    first = post(client, document(full_journey(transfer)))
    facts = Fact.objects.count()
    second = post(client, document(full_journey(transfer)))
    assert second.status_code == 200
    assert second.json()["eventIDs"] == first.json()["eventIDs"]
    assert (second.json()["recorded"], second.json()["alreadyRecorded"]) == (0, 11)
    assert second.json()["anomalies"] == first.json()["anomalies"]
    assert Fact.objects.count() == facts
    assert CustodyEvent.objects.count() == 11


def test_a_partial_resend_records_only_the_new_events(cast: Cast, transfer: Transfer) -> None:
    journey = full_journey(transfer)
    custody_capture(actor=cast.registrar_a.actor, payload=journey[:5])
    result = custody_capture(actor=cast.registrar_a.actor, payload=journey)
    assert (result.recorded, result.already_recorded) == (6, 5)
    assert CustodyEvent.objects.count() == 11


def test_one_bad_event_among_a_thousand_stores_nothing(cast: Cast, transfer: Transfer) -> None:
    events = [object_event([transfer.work(i % 4)], "inspecting", i) for i in range(1000)]
    events[537]["eventTime"] = "2999-01-01T00:00:00Z"
    response = post(cast.registrar_a.client(), document(events))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["details"] == {"index": 537, "field": "eventTime"}
    assert "event 537" in error["message"]
    assert CustodyEvent.objects.count() == 0 and ObjectState.objects.count() == 0
    assert not Fact.objects.filter(type__startswith="moves.").exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"bizStep": "teleporting"}, "bizStep"),
        ({"epcList": ["urn:spaceship:1"]}, "epcList[0]"),
        ({"epcList": ["urn:cimaise:spaceship:louvre:1"]}, "epcList[0]"),
        ({"eventTime": "2020-01-06T08:00:00"}, "eventTime"),
        ({"action": "MOVE"}, "action"),
        ({"bizLocation": {"id": "urn:cimaise:crate:louvre:C000"}}, "bizLocation.id"),
        ({"sensorElementList": [{"sensorMetadata": {}}]}, "sensorElementList[0]"),
        ({"bizstep": "storing"}, "bizstep"),
        ({"type": "TransformationEvent"}, "type"),
    ],
)
def test_bad_events_are_refused_naming_the_index_and_the_field(
    cast: Cast, transfer: Transfer, change: dict[str, Any], field: str
) -> None:
    events = [
        object_event([transfer.work(0)], "inspecting", 0),
        object_event([transfer.work(1)], "inspecting", 1),
    ]
    events[1].update(change)
    response = post(cast.registrar_a.client(), events)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["details"] == {"index": 1, "field": field}
    assert CustodyEvent.objects.count() == 0


def test_malformed_json_and_oversized_batches_are_refused(cast: Cast, transfer: Transfer) -> None:
    client = cast.registrar_a.client()
    broken = client.post(URL, data="{not json", content_type="application/ld+json")
    assert broken.status_code == 400 and broken.json()["error"]["details"]["field"] == "body"
    too_many = [object_event([transfer.work(0)], "inspecting", i) for i in range(10_001)]
    response = post(client, too_many)
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"index": None, "field": "eventList"}
    not_epcis = post(client, {"type": "Nonsense"})
    assert not_epcis.status_code == 400 and not_epcis.json()["error"]["details"]["field"] == "type"


def test_vocabulary_uris_and_gs1_identifiers_are_accepted_as_given(cast: Cast, transfer: Transfer) -> None:
    events = [
        object_event(["https://id.gs1.org/01/09521234543213/21/12345"], "urn:example:bizstep:weighing", 0),
        object_event(
            ["urn:epc:id:sgtin:0614141.107346.2017"], "https://ref.gs1.org/cbv/BizStep-inspecting", 1
        ),
    ]
    result = custody_capture(actor=cast.registrar_a.actor, payload=events)
    assert result.recorded == 2 and result.anomalies == []
    steps = set(CustodyEvent.objects.values_list("biz_step", flat=True))
    assert steps == {"urn:example:bizstep:weighing", "inspecting"}


def test_late_events_are_projected_in_event_time_and_rebuild_agrees(cast: Cast, transfer: Transfer) -> None:
    journey = full_journey(transfer)
    reordered = [journey[i] for i in (10, 4, 0, 7, 3, 1, 9, 2, 8, 6, 5)]
    for event in reordered:
        custody_capture(actor=cast.registrar_a.actor, payload=[event])
    late = custody_snapshot()
    work = state(transfer.work(0))
    assert (work.status, work.place) == (Status.STORED, transfer.ccl_shelf)
    ObjectState.objects.all().delete()
    Containment.objects.all().delete()
    Presence.objects.all().delete()
    call_command("ledger", "rebuild", stdout=io.StringIO())
    assert custody_snapshot() == late


def test_an_error_declaration_retracts_an_event_and_its_effects(cast: Cast, transfer: Transfer) -> None:
    actor = cast.registrar_a.actor
    wrong = object_event([transfer.work(0)], "storing", 5, bizLocation=place(transfer.ccl_shelf))
    stored = custody_capture(actor=actor, payload=[wrong])
    assert state(transfer.work(0)).place == transfer.ccl_shelf
    declaration = dict(wrong, eventID=stored.event_ids[0])
    declaration["errorDeclaration"] = {"declarationTime": at(6), "reason": "incorrect_data"}
    result = custody_capture(actor=actor, payload=[declaration])
    assert result.recorded == 1
    assert CustodyEvent.objects.get(event_id=stored.event_ids[0], is_declaration=False).retracted
    assert not ObjectState.objects.filter(uri=transfer.work(0)).exists()
    again = custody_capture(actor=actor, payload=[declaration])
    assert again.recorded == 0
    assert Fact.objects.filter(type="moves.custody.error_declared").count() == 1


def test_only_custody_roles_may_capture(cast: Cast, transfer: Transfer, anon_client: Client) -> None:
    events = [object_event([transfer.work(0)], "inspecting", 0)]
    assert post(anon_client, events).status_code == 401
    assert post(cast.gate_agent_a.client(), events).status_code == 403
    assert post(cast.outsider.client(), events).status_code == 403
    assert CustodyEvent.objects.count() == 0


def test_a_registrar_of_another_institution_cannot_touch_our_works(cast: Cast, transfer: Transfer) -> None:
    from cimaise.core.roles import Role
    from cimaise.core.tests.personas import make_persona

    ours = custody_capture(actor=cast.registrar_a.actor, payload=full_journey(transfer))
    registrar_b = make_persona("registrar-b", cast.institution_b, [Role.REGISTRAR], cast.site_b)
    before = custody_snapshot(institution=cast.institution_a)
    result = custody_capture(
        actor=registrar_b.actor, payload=[object_event([transfer.work(0)], "storing", 9)]
    )
    assert [a.kind for a in result.anomalies] == ["unknown_identifier"]
    assert custody_snapshot(institution=cast.institution_a) == before
    client = registrar_b.client()
    assert client.get(f"/api/v1/works/{transfer.works[0].inventory}/custody").status_code == 404
    assert client.get("/api/v1/convoys/CV-001/reconciliation").status_code == 404
    theirs = client.get("/api/v1/epcis/events", {"MATCH_epc": transfer.work(0)}).json()
    listed = [e["eventID"] for e in theirs["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]
    assert listed == result.event_ids
    mine = cast.registrar_a.client().get("/api/v1/epcis/events", {"MATCH_epc": transfer.work(0)}).json()
    listed = [e["eventID"] for e in mine["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]
    assert listed and set(listed) <= set(ours.event_ids)


def test_events_arriving_in_order_only_apply_the_new_events(
    cast: Cast, transfer: Transfer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cimaise.moves import projection

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an in-order event should not replay the history")

    monkeypatch.setattr(projection, "_project_fully", refuse)
    for event in full_journey(transfer):
        custody_capture(actor=cast.registrar_a.actor, payload=[event])
    work = state(transfer.work(0))
    assert (work.status, work.place) == (Status.STORED, transfer.ccl_shelf)
    places = list(
        Presence.objects.filter(uri=transfer.work(0)).order_by("since").values_list("place__code", "until")
    )
    assert [code for code, _ in places] == ["PAL-DEN-R1-S1", "CCL-DOCK", "CCL-Z1-S1"]
    assert places[0][1] is not None and places[-1][1] is None
