"""A convoy's states: each transition a custody event; every refusal with its reasons; seals
checked at opening; closing only with a clean or explained reconciliation. Condition reports."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cimaise.collection.models import Work
from cimaise.core.errors import InvalidInput, PermissionDenied
from cimaise.core.tests.personas import Cast
from cimaise.ledger.models import Fact
from cimaise.moves.condition import Photo, condition_report_record
from cimaise.moves.convoys import ConvoyRefused, convoy_move, discrepancy_resolve
from cimaise.moves.models import ConditionReport, Convoy, CustodyEvent, Incident, ObjectState, Status, Vehicle
from cimaise.moves.services import custody_capture
from cimaise.moves.tests.factories import T0, Transfer, aggregation, full_journey

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"pretend pixels" * 10


def loaded(cast: Cast, transfer: Transfer, *, insured: bool = True) -> Convoy:
    """Inspected, packed and loaded; the convoy planned."""
    if insured:
        Work.objects.filter(institution=transfer.institution).update(insurance_value=Decimal("250000"))
    custody_capture(actor=cast.registrar_a.actor, payload=full_journey(transfer)[:4])
    Vehicle.objects.filter(pk=transfer.vehicle.pk).update(
        max_load_kg=Decimal("20000"), volume_m3=Decimal("90")
    )
    return Convoy.objects.get(pk=transfer.convoy.pk)


def move(cast: Cast, convoy: Convoy, to: str, seals: list[str] | None = None, minutes: int = 60) -> Convoy:
    return convoy_move(
        actor=cast.registrar_a.actor,
        convoy=convoy,
        to=to,
        seals=seals,
        now=T0 + dt.timedelta(minutes=minutes),
    )


def listed(excinfo: pytest.ExceptionInfo[ConvoyRefused]) -> list[dict[str, Any]]:
    details = excinfo.value.details
    assert isinstance(details, dict)
    found: list[dict[str, Any]] = details["reasons"]
    return found


def reasons(excinfo: pytest.ExceptionInfo[ConvoyRefused]) -> list[str]:
    return [r["reason"] for r in listed(excinfo)]


def test_a_convoy_goes_through_every_state_each_a_custody_event(cast: Cast, transfer: Transfer) -> None:
    convoy = loaded(cast, transfer)
    for i, (to, seals) in enumerate(
        [("loading", None), ("sealed", ["S-1", "S-2"]), ("in_transit", None), ("arrived", None)]
    ):
        convoy = move(cast, convoy, to, seals, minutes=30 + 60 * i)
    assert ObjectState.objects.get(uri=transfer.work(0)).status == Status.ARRIVED
    convoy = move(cast, convoy, "unloaded", ["S-2", "S-1"], minutes=400)
    assert not Incident.objects.exists()
    assert ObjectState.objects.get(uri=transfer.crate(0)).container == ""
    convoy = move(cast, convoy, "closed", minutes=500)
    assert convoy.state == "closed" and convoy.seals == ["S-1", "S-2"]
    steps = list(
        CustodyEvent.objects.filter(biz_transaction=convoy.uri)
        .order_by("event_time")
        .values_list("biz_step", flat=True)
    )
    assert steps == [
        "loading", "staging_outbound", "urn:cimaise:bizstep:sealing", "departing", "arriving",
        "urn:cimaise:bizstep:unsealing", "unloading", "urn:cimaise:bizstep:convoy_closing",
    ]  # fmt: skip
    moved = [json.loads(f.body)["to"] for f in Fact.objects.filter(type="moves.convoy.moved").order_by("id")]
    assert moved == ["loading", "sealed", "in_transit", "arrived", "unloaded", "closed"]


@pytest.mark.parametrize("to", ["sealed", "in_transit", "arrived", "unloaded", "closed"])
def test_a_planned_convoy_cannot_skip_a_state(cast: Cast, transfer: Transfer, to: str) -> None:
    convoy = loaded(cast, transfer)
    with pytest.raises(ConvoyRefused) as excinfo:
        move(cast, convoy, to, ["S-1"])
    assert "it is planned" in reasons(excinfo)[0]
    assert Convoy.objects.get(pk=convoy.pk).state == "planned"


def test_a_convoy_cannot_depart_unsealed(cast: Cast, transfer: Transfer) -> None:
    convoy = move(cast, loaded(cast, transfer), "loading")
    with pytest.raises(ConvoyRefused) as excinfo:
        move(cast, convoy, "in_transit")
    assert reasons(excinfo) == ["it is loading, not sealed"]
    assert not CustodyEvent.objects.filter(biz_step="departing").exists()


def test_sealing_needs_the_seal_numbers(cast: Cast, transfer: Transfer) -> None:
    convoy = move(cast, loaded(cast, transfer), "loading")
    with pytest.raises(InvalidInput) as excinfo:
        move(cast, convoy, "sealed", [])
    assert excinfo.value.field == "seals"


def sealed(cast: Cast, transfer: Transfer, **kwargs: Any) -> Convoy:
    convoy = move(cast, loaded(cast, transfer, **kwargs), "loading", minutes=30)
    return move(cast, convoy, "sealed", ["S-1"], minutes=40)


def test_a_convoy_cannot_depart_with_an_uninsured_work(cast: Cast, transfer: Transfer) -> None:
    convoy = sealed(cast, transfer, insured=False)
    with pytest.raises(ConvoyRefused) as excinfo:
        move(cast, convoy, "in_transit", minutes=50)
    assert reasons(excinfo).count("a work has no insurance value") == 4
    assert ObjectState.objects.get(uri=transfer.work(0)).status == Status.LOADED


def test_a_convoy_cannot_depart_with_an_unchecked_work(cast: Cast, transfer: Transfer) -> None:
    Work.objects.filter(institution=transfer.institution).update(insurance_value=Decimal("1000"))
    events = full_journey(transfer)[1:4]  # never inspected
    custody_capture(actor=cast.registrar_a.actor, payload=events)
    convoy = move(cast, transfer.convoy, "loading", minutes=30)
    convoy = move(cast, convoy, "sealed", ["S-1"], minutes=40)
    with pytest.raises(ConvoyRefused) as excinfo:
        move(cast, convoy, "in_transit", minutes=50)
    assert reasons(excinfo).count("a work has no condition check") == 4


def test_a_convoy_cannot_depart_over_its_vehicles_capacity(cast: Cast, transfer: Transfer) -> None:
    convoy = sealed(cast, transfer)
    Vehicle.objects.filter(pk=transfer.vehicle.pk).update(
        max_load_kg=Decimal("10"), volume_m3=Decimal("0.001")
    )
    from cimaise.moves.models import Crate

    Crate.objects.update(inner_length_cm=100, inner_width_cm=80, inner_height_cm=60, tare_kg=20)
    with pytest.raises(ConvoyRefused) as excinfo:
        move(cast, Convoy.objects.get(pk=convoy.pk), "in_transit", minutes=50)
    assert reasons(excinfo) == ["over the vehicle's load", "over the vehicle's volume"]


def test_a_convoy_cannot_depart_empty(cast: Cast, transfer: Transfer) -> None:
    convoy = move(cast, transfer.convoy, "loading", minutes=30)
    convoy = move(cast, convoy, "sealed", ["S-1"], minutes=40)
    with pytest.raises(ConvoyRefused) as excinfo:
        move(cast, convoy, "in_transit", minutes=50)
    assert reasons(excinfo) == ["no crate is loaded"]


def arrived(cast: Cast, transfer: Transfer) -> Convoy:
    convoy = move(cast, sealed(cast, transfer), "in_transit", minutes=50)
    return move(cast, convoy, "arrived", minutes=250)


def test_a_seal_mismatch_at_opening_opens_an_incident(cast: Cast, transfer: Transfer) -> None:
    convoy = move(cast, arrived(cast, transfer), "unloaded", ["S-9"], minutes=300)
    incident = Incident.objects.get()
    assert incident.kind == "seal_mismatch" and incident.convoy == convoy
    assert incident.evidence == {"closed_with": ["S-1"], "opened_with": ["S-9"]}
    assert Fact.objects.filter(type="moves.incident.opened").count() == 1
    assert convoy.seals_checked == ["S-9"]


def test_closing_needs_every_discrepancy_explained(cast: Cast, transfer: Transfer) -> None:
    stray = Work.objects.create(
        institution=transfer.institution, inventory="OA 1", title="Stray", department="OA",
        insurance_value=Decimal(1),
    )  # fmt: skip
    loaded(cast, transfer)
    custody_capture(
        actor=cast.registrar_a.actor, payload=[aggregation(transfer.crate(0), [stray.uri], "packing", 12)]
    )
    convoy = move(cast, transfer.convoy, "loading", minutes=30)
    convoy = move(cast, convoy, "sealed", ["S-1"], minutes=40)
    from cimaise.moves.tests.factories import object_event

    custody_capture(actor=cast.registrar_a.actor, payload=[object_event([stray.uri], "inspecting", 41)])
    convoy = move(cast, convoy, "in_transit", minutes=50)
    convoy = move(cast, convoy, "arrived", minutes=250)
    convoy = move(cast, convoy, "unloaded", ["S-1"], minutes=300)
    with pytest.raises(ConvoyRefused) as excinfo:
        move(cast, convoy, "closed", minutes=400)
    unexplained = listed(excinfo)
    assert {(r["kind"], r["step"], r["uri"]) for r in unexplained} == {
        ("unexpected", "departed", stray.uri), ("unexpected", "arrived", stray.uri),
        ("unexpected", "received", stray.uri),
    }  # fmt: skip
    with pytest.raises(PermissionDenied):
        discrepancy_resolve(
            actor=cast.gate_agent_a.actor,
            convoy=convoy,
            kind="unexpected",
            step="departed",
            uri=stray.uri,
            comment="x",
        )
    for r in unexplained:
        discrepancy_resolve(
            actor=cast.registrar_a.actor, convoy=convoy, kind=r["kind"], step=r["step"], uri=r["uri"],
            comment="Travelled by mistake; returns with the next convoy",
        )  # fmt: skip
    assert move(cast, convoy, "closed", minutes=400).state == "closed"
    with pytest.raises(InvalidInput):
        discrepancy_resolve(
            actor=cast.registrar_a.actor, convoy=convoy, kind="missing", step="x", uri="y", comment="z"
        )


def test_the_state_route_authorizes_and_answers_refusals_as_409(cast: Cast, transfer: Transfer) -> None:
    loaded(cast, transfer)
    url = "/api/v1/convoys/CV-001/state"
    body = json.dumps({"to": "sealed", "seals": ["S-1"]})
    assert cast.gate_agent_a.client().post(url, body, content_type="application/json").status_code == 403
    assert cast.partner_b.client().post(url, body, content_type="application/json").status_code in (403, 404)
    refused = cast.registrar_a.client().post(url, body, content_type="application/json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "convoy_refused"
    ok = cast.registrar_a.client().post(url, json.dumps({"to": "loading"}), content_type="application/json")
    assert ok.status_code == 200 and ok.json()["state"] == "loading"
    detail = cast.registrar_a.client().get("/api/v1/convoys/CV-001").json()
    assert detail["cargo"] == {"crates": 2, "works": 4}
    bad = cast.registrar_a.client().post(url, json.dumps({"to": "flying"}), content_type="application/json")
    assert bad.status_code == 422


def test_a_condition_report_stores_its_photos_by_hash_and_counts_as_a_check(
    cast: Cast, transfer: Transfer
) -> None:
    work = transfer.works[0]
    report = condition_report_record(
        actor=cast.registrar_a.actor, work=work, phase="before", overall=1,
        alterations=[{"zone": "frame", "kind": "scratch", "description": "old"}],
        photos=[Photo("front.png", "image/png", PNG)],
    )  # fmt: skip
    digest = hashlib.sha256(PNG).hexdigest()
    assert [p.sha256 for p in report.photos.all()] == [digest]
    with default_storage.open(f"condition/{digest[:2]}/{digest}") as stored:
        assert stored.read() == PNG
    assert ObjectState.objects.get(uri=work.uri).inspected_at is not None
    assert Fact.objects.filter(type="moves.condition.reported").count() == 1


def test_new_damage_after_arrival_opens_an_incident(cast: Cast, transfer: Transfer) -> None:
    work, actor = transfer.works[0], cast.registrar_a.actor
    frame = {"zone": "frame", "kind": "scratch"}
    condition_report_record(actor=actor, work=work, phase="before", overall=1, alterations=[frame])
    condition_report_record(actor=actor, work=work, phase="after", overall=1, alterations=[frame])
    assert not Incident.objects.exists()
    condition_report_record(
        actor=actor,
        work=work,
        phase="after",
        overall=2,
        alterations=[frame, {"zone": "canvas", "kind": "tear"}],
    )
    incident = Incident.objects.get()
    assert incident.kind == "damage" and incident.work == work
    assert incident.evidence["new_alterations"] == [{"zone": "canvas", "kind": "tear", "description": ""}]
    assert (incident.evidence["overall_before"], incident.evidence["overall_after"]) == (1, 2)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phase": "during"}, "phase"),
        ({"overall": "7"}, "overall"),
        ({"alterations": "not json"}, "alterations"),
        ({"alterations": json.dumps([{"zone": "frame"}])}, "alterations[0]"),
    ],
)
def test_a_bad_condition_report_names_the_field(
    cast: Cast, transfer: Transfer, change: dict[str, str], field: str
) -> None:
    data = {"phase": "before", "overall": "1", "alterations": "[]"} | change
    response = cast.registrar_a.client().post(
        f"/api/v1/works/{transfer.works[0].inventory}/condition-reports", data
    )
    assert response.status_code == 422, response.content
    assert response.json()["error"]["details"] == {"field": field}
    assert not ConditionReport.objects.exists()


def test_condition_reports_through_the_api(cast: Cast, transfer: Transfer, anon_client: Client) -> None:
    url = f"/api/v1/works/{transfer.works[0].inventory}/condition-reports"
    photo = SimpleUploadedFile("front.png", PNG, content_type="image/png")
    data = {
        "phase": "before",
        "overall": "2",
        "alterations": json.dumps([{"zone": "frame", "kind": "dent"}]),
        "photos": photo,
    }
    created = cast.registrar_a.client().post(url, data)
    assert created.status_code == 201, created.content
    assert created.json()["photos"][0]["sha256"] == hashlib.sha256(PNG).hexdigest()
    listed = cast.registrar_a.client().get(url).json()
    assert [r["overall"] for r in listed] == [2]
    text = SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain")
    refused = cast.registrar_a.client().post(url, {"phase": "before", "overall": "1", "photos": text})
    assert refused.status_code == 422 and refused.json()["error"]["details"] == {"field": "photos[0]"}
    assert cast.gate_agent_a.client().post(url, {"phase": "before", "overall": "1"}).status_code == 403
    assert cast.partner_b.client().get(url).status_code == 404
    assert anon_client.get(url).status_code == 401


def test_an_arrival_already_recorded_by_the_geofence_is_not_recorded_twice(
    cast: Cast, transfer: Transfer
) -> None:
    from cimaise.moves.tests.factories import object_event

    convoy = move(cast, sealed(cast, transfer), "in_transit", minutes=50)
    link = [{"type": "bol", "bizTransaction": convoy.uri}]
    custody_capture(
        actor=cast.registrar_a.actor,
        payload=[object_event([transfer.truck], "arriving", 240, bizTransactionList=link)],
    )
    assert move(cast, convoy, "arrived", minutes=250).state == "arrived"
    assert CustodyEvent.objects.filter(biz_transaction=convoy.uri, biz_step="arriving").count() == 1
