"""The staff pages: each renders for its people, in English and French, and refuses the others;
a bad form is a 4xx with the field's error, nothing written."""

from __future__ import annotations

import pytest
from django.test import Client

from cimaise.missions.models import Badge, MissionOrder
from cimaise.missions.tests.conftest import MONDAY, Crew
from cimaise.missions.tests.helpers import validated

pytestmark = pytest.mark.django_db

FORM = {
    "travellers": [],
    "destination": "CCL",
    "purpose": "inventory",
    "description": "Récolement",
    "starts_at": f"{MONDAY}T07:30",
    "ends_at": f"{MONDAY}T19:00",
    "transport": "train",
    "zones": "réserve 3, quai",
}


def french(client: Client) -> Client:
    client.cookies["django_language"] = "fr"
    return client


def test_an_agent_files_an_order_through_the_form(crew: Crew) -> None:
    client = crew.agent.session_client()
    assert client.get("/missions/new/").status_code == 200
    answer = client.post("/missions/new/", {**FORM, "travellers": [crew.agent.person.pk]})
    order = MissionOrder.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/missions/orders/{order.code}/"
    assert (order.zones, order.status) == (["réserve 3", "quai"], "submitted")
    page = client.get(answer["Location"])
    assert page.status_code == 200 and b"1 meal" in page.content


def test_a_bad_form_is_a_422_naming_the_field(crew: Crew) -> None:
    client = crew.agent.session_client()
    answer = client.post("/missions/new/", {**FORM, "travellers": [crew.agent.person.pk], "transport": "car"})
    assert answer.status_code == 422
    assert b"prior authorisation" in answer.content
    assert MissionOrder.objects.count() == 0


def test_the_line_manager_decides_on_the_order_page(crew: Crew) -> None:
    client = crew.agent.session_client()
    client.post("/missions/new/", {**FORM, "travellers": [crew.agent.person.pk]})
    code = MissionOrder.objects.get().code
    manager = crew.approver.session_client()
    home = manager.get("/missions/")
    assert f'data-order="{code}"'.encode() in home.content
    assert b"Your decision" in manager.get(f"/missions/orders/{code}/").content
    assert b"Your decision" not in client.get(f"/missions/orders/{code}/").content
    decided = manager.post(f"/missions/orders/{code}/decide", {"decision": "approve", "comment": "ok"})
    assert decided.status_code == 302
    assert MissionOrder.objects.get().status == "manager-approved"
    assert client.post(f"/missions/orders/{code}/decide", {"decision": "approve"}).status_code == 403


def test_the_reception_page_shows_the_day_in_french(crew: Crew) -> None:
    validated(crew)
    Badge.objects.create(site=crew.ccl, number="V-01")
    client = french(crew.reception.session_client())
    page = client.get(f"/missions/reception/?site=CCL&date={MONDAY}")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-visitor="registrar-a"' in text and "Visiteurs attendus" in text
    assert '<strong data-figure="lunches">2</strong>' in text  # the visitor and the reception agent
    assert "<svg" in text
    issued = client.post(
        "/missions/reception/badges/issue", {"site": "CCL", "badge": "V-01", "holder": "registrar-a"}
    )
    assert issued.status_code == 302
    assert 'data-badge="V-01"' in client.get(f"/missions/reception/?site=CCL&date={MONDAY}").content.decode()
    again = client.post(
        "/missions/reception/badges/issue", {"site": "CCL", "badge": "V-01", "holder": "escort-a"}
    )
    assert again.status_code == 409


def test_reception_pages_are_for_reception_only(crew: Crew) -> None:
    assert crew.agent.session_client().get("/missions/reception/?site=CCL").status_code == 403
    assert crew.reception.session_client().get("/missions/reception/?date=nonsense").status_code == 400


def test_the_claim_page_adds_an_expense(crew: Crew) -> None:
    order = validated(crew)
    client = crew.agent.session_client()
    page = client.get(f"/missions/orders/{order.code}/claim")
    assert page.status_code == 200 and b"17.50" in page.content
    bad = client.post(
        f"/missions/orders/{order.code}/claim", {"kind": "transport", "label": "Train", "amount": "-1"}
    )
    assert bad.status_code == 422
    ok = client.post(
        f"/missions/orders/{order.code}/claim", {"kind": "transport", "label": "Train", "amount": "58.40"}
    )
    assert ok.status_code == 302
    assert b"1 receipt missing" in client.get(f"/missions/orders/{order.code}/claim").content
