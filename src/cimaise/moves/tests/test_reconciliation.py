"""Reconciliation: a convoy's manifest, a crate, a programme against what was scanned; a work's
chain of custody through its containers; what was on a place at a moment."""

from __future__ import annotations

from typing import Any

import pytest

from cimaise.collection.models import Work
from cimaise.core.tests.personas import Cast
from cimaise.moves.models import Status
from cimaise.moves.reconciliation import crate_reconciliation, programme_reconciliation
from cimaise.moves.services import custody_capture
from cimaise.moves.tests.factories import T0, Transfer, at, full_journey, object_event, place

pytestmark = pytest.mark.django_db


def troubled_journey(t: Transfer) -> tuple[list[dict[str, Any]], str]:
    """Work 3 stays behind, work 1 goes in the wrong crate, a stray work rides along, work 2 is
    shelved on the wrong shelf."""
    stray = Work.objects.create(
        institution=t.institution, inventory="OA 10528", title="Stray", department="OA"
    )
    events = full_journey(t)
    events[1]["childEPCs"] = [t.work(0), t.work(2), t.work(1), stray.uri]
    events[2]["childEPCs"] = [t.work(3)]
    events[8]["childEPCs"] = [t.work(0), t.work(2), t.work(1), stray.uri]
    events[9]["childEPCs"] = [t.work(3)]
    events[10]["epcList"] = [t.work(0), t.work(1)]
    events.append(object_event([t.work(2)], "storing", 1701, bizLocation=place(t.ccl_small_shelf)))
    # work 3 is unloaded from the truck before departure: its crate never travels
    events[3]["childEPCs"] = [t.crate(0)]
    events[6]["childEPCs"] = [t.crate(0)]
    events[7]["epcList"] = [t.crate(0)]
    del events[9]
    return events, stray.uri


def discrepancies(report: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(d["kind"], d["step"], d["uri"]) for d in report["discrepancies"]}


def test_a_clean_convoy_reconciles_without_discrepancy(cast: Cast, transfer: Transfer) -> None:
    custody_capture(actor=cast.registrar_a.actor, payload=full_journey(transfer))
    report = cast.registrar_a.client().get("/api/v1/convoys/CV-001/reconciliation").json()
    assert report["discrepancies"] == []
    assert report["steps"]["departed"] == {"expected": 4, "observed": 4}
    assert report["steps"]["stored"] == {"expected": 4, "observed": 4}


def test_every_discrepancy_of_a_convoy_is_listed_with_its_events(cast: Cast, transfer: Transfer) -> None:
    events, stray = troubled_journey(transfer)
    custody_capture(actor=cast.registrar_a.actor, payload=events)
    report = cast.registrar_a.client().get("/api/v1/convoys/CV-001/reconciliation").json()
    w = transfer.work
    assert discrepancies(report) == {
        ("wrong_crate", "packed", w(1)),
        ("missing", "departed", w(3)),
        ("missing", "arrived", w(3)),
        ("missing", "received", w(3)),
        ("unexpected", "departed", stray),
        ("unexpected", "arrived", stray),
        ("unexpected", "received", stray),
        ("wrong_place", "stored", w(2)),
    }
    wrong_place = next(d for d in report["discrepancies"] if d["kind"] == "wrong_place")
    assert (wrong_place["expected"], wrong_place["observed"]) == ("CCL-Z1-S1", "CCL-Z1-S2")
    assert wrong_place["events"][0]["eventID"].startswith("ni:///") and wrong_place["events"][0]["fact"] > 0
    missing = next(d for d in report["discrepancies"] if d["kind"] == "missing")
    assert missing["events"][0]["bizStep"] in {"departing", "arriving", "unloading"}


def test_a_crate_reconciles_its_planned_works_against_its_packing(cast: Cast, transfer: Transfer) -> None:
    events, stray = troubled_journey(transfer)
    custody_capture(actor=cast.registrar_a.actor, payload=events)
    report = crate_reconciliation(transfer.institution, transfer.crate(0)).as_dict()
    assert discrepancies(report) == {
        ("unexpected", "packed", transfer.work(1)),
        ("unexpected", "packed", stray),
    }
    report = crate_reconciliation(transfer.institution, transfer.crate(1)).as_dict()
    assert discrepancies(report) == {("missing", "packed", transfer.work(1))}


def test_a_programme_counts_done_pending_and_wrong_place(cast: Cast, transfer: Transfer) -> None:
    events, _stray = troubled_journey(transfer)
    custody_capture(actor=cast.registrar_a.actor, payload=events)
    report = programme_reconciliation(transfer.programme).as_dict()
    assert report["expected"] == 4
    assert report["summary"] == {"done": 2, "wrong_place": 1, "in_progress": 1}
    assert discrepancies(report) == {("wrong_place", "stored", transfer.work(2))}
    by_source = programme_reconciliation(transfer.programme, source=transfer.pal_shelf).as_dict()
    assert by_source["expected"] == 4


def test_a_work_left_on_an_arrived_convoy_is_missing_from_the_programme(
    cast: Cast, transfer: Transfer
) -> None:
    events = full_journey(transfer)[:6]  # arrived, never unloaded
    custody_capture(actor=cast.registrar_a.actor, payload=events)
    report = programme_reconciliation(transfer.programme).as_dict()
    assert report["summary"] == {"missing": 4}


def test_the_custody_chain_of_a_work_includes_what_happened_to_its_crate_and_truck(
    cast: Cast, transfer: Transfer
) -> None:
    custody_capture(actor=cast.registrar_a.actor, payload=full_journey(transfer))
    inventory = transfer.works[0].inventory
    body = cast.registrar_a.client().get(f"/api/v1/works/{inventory}/custody").json()
    steps = [(e["bizStep"], e["via"]) for e in body["events"]]
    crate, truck = transfer.crate(0), transfer.truck
    assert steps == [
        ("inspecting", None),
        ("packing", None),
        ("loading", crate),
        ("departing", truck),
        ("arriving", truck),
        ("unloading", crate),
        ("urn:cimaise:bizstep:acclimatising", crate),
        ("unpacking", None),
        ("storing", None),
    ]
    assert body["status"] == Status.STORED and body["place"]["code"] == "CCL-Z1-S1"
    first = body["events"][0]
    assert set(first) >= {
        "eventID",
        "type",
        "bizStep",
        "eventTime",
        "recordTime",
        "readPoint",
        "bizLocation",
        "who",
    }
    assert body["last_seen"]["place"]["code"] == "CCL-Z1-S1"
    work = cast.registrar_a.client().get(f"/api/v1/works/{inventory}").json()
    assert (work["status"], work["place"]["code"]) == ("stored", "CCL-Z1-S1")
    listed = cast.registrar_a.client().get("/api/v1/works", {"status": "stored"}).json()
    assert listed["count"] == 4 and listed["items"][0]["place"]["code"] == "CCL-Z1-S1"


def test_what_was_on_a_place_at_a_moment(cast: Cast, transfer: Transfer) -> None:
    custody_capture(actor=cast.registrar_a.actor, payload=full_journey(transfer))
    client = cast.registrar_a.client()
    now = client.get("/api/v1/places/CCL-B1/contents").json()
    assert {item["uri"] for item in now["items"]} >= {w.uri for w in transfer.works}
    during = client.get("/api/v1/places/CCL-DOCK/contents", {"at": at(300)}).json()
    uris = {item["uri"] for item in during["items"]}
    assert {transfer.crate(0), transfer.crate(1), transfer.truck} <= uris
    assert {w.uri for w in transfer.works} <= uris
    before = client.get("/api/v1/places/PAL-DEN-R1-S1/contents", {"at": at(5)}).json()
    assert {item["uri"] for item in before["items"]} == set()
    packed = client.get("/api/v1/places/PAL-DEN-R1-S1/contents", {"at": at(15)}).json()
    assert {item["uri"] for item in packed["items"]} == {transfer.crate(0), transfer.crate(1)} | {
        w.uri for w in transfer.works
    }
    assert client.get("/api/v1/places/PAL-DEN-R1-S1/contents", {"at": (T0).isoformat()}).status_code == 200
    assert cast.partner_b.client().get("/api/v1/places/CCL-DOCK/contents").status_code == 404
