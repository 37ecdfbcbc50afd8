"""The order routes under /api/v1/missions/: the chain over HTTP, 4xx naming the field, and the
wrong persona getting 401/403/404."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from cimaise.missions.models import MissionOrder
from cimaise.missions.tests.conftest import MONDAY, Crew, at

pytestmark = pytest.mark.django_db


def body(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "travellers": ["registrar-a"],
        "destination": "CCL",
        "purpose": "loan",
        "description": "Préparation du prêt à Lens",
        "starts_at": at(MONDAY, 7, 30).isoformat(),
        "ends_at": at(MONDAY, 19).isoformat(),
        "transport": "train",
        "zones": ["réserve 1"],
    }
    values.update(changes)
    return values


def post(client: Client, path: str, data: dict[str, Any] | None = None) -> Any:
    return client.post(f"/api/v1/missions/{path}", data or {}, content_type="application/json")


def test_the_chain_over_http(crew: Crew) -> None:
    filed = post(crew.agent.client(), "orders", body())
    assert filed.status_code == 201, filed.content
    code = filed.json()["code"]
    assert (filed.json()["status"], filed.json()["warnings"]) == ("submitted", [])
    assert [o["code"] for o in crew.approver.client().get("/api/v1/missions/approvals").json()] == [code]
    assert post(crew.budget.client(), f"orders/{code}/approve").status_code == 403
    assert (
        post(crew.approver.client(), f"orders/{code}/approve", {"comment": "ok"}).json()["status"]
        == "manager-approved"
    )
    done = post(crew.budget.client(), f"orders/{code}/approve", {"comment": "budget ok"}).json()
    assert done["status"] == "approved"
    assert [(s["kind"], s["by"], s["comment"]) for s in done["steps"]] == [
        ("submitted", "registrar-a", ""),
        ("manager-approved", "approver-a", "ok"),
        ("budget-approved", "budget-a", "budget ok"),
    ]
    mine = crew.agent.client().get("/api/v1/missions/orders").json()
    assert [(o["code"], o["status"]) for o in mine] == [(code, "approved")]


def test_the_agent_cannot_approve_their_own_order_over_http(crew: Crew) -> None:
    from cimaise.core.roles import Role
    from cimaise.core.tests.personas import make_persona

    boss = make_persona("boss-a", crew.cast.institution_a, [Role.APPROVER], crew.cast.site_a)
    code = post(boss.client(), "orders", body(travellers=["boss-a"])).json()["code"]
    refused = post(boss.client(), f"orders/{code}/approve")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "own_order"


def test_bad_input_is_a_422_naming_the_field(crew: Crew) -> None:
    cases = [
        (body(ends_at=at(MONDAY, 6).isoformat()), "ends_at"),
        (body(transport="car"), "car_authorisation"),
        (body(destination="MARS"), "destination"),
        (body(travellers=["ghost"]), "travellers"),
        (body(starts_at="not a date"), "starts_at"),
        (body(transport="plane"), "transport"),
    ]
    for data, field in cases:
        answer = post(crew.agent.client(), "orders", data)
        assert answer.status_code == 422, (field, answer.content)
        assert field in str(answer.json()["error"]["details"]), (field, answer.json())
    assert MissionOrder.objects.count() == 0


def test_other_institutions_and_anonymous_see_nothing(crew: Crew, anon_client: Client) -> None:
    code = post(crew.agent.client(), "orders", body()).json()["code"]
    assert anon_client.get(f"/api/v1/missions/orders/{code}").status_code == 401
    assert crew.cast.outsider.client().get(f"/api/v1/missions/orders/{code}").status_code == 404
    assert post(crew.cast.partner_b.client(), f"orders/{code}/approve").status_code == 404
    assert crew.colleague.client().get(f"/api/v1/missions/orders/{code}").status_code == 404
    assert crew.approver.client().get(f"/api/v1/missions/orders/{code}").status_code == 200
    assert (
        crew.cast.outsider.client().get(f"/api/v1/missions/reception/CCL/expected?date={MONDAY}").status_code
        == 403
    )


def test_a_refused_order_is_changed_and_resubmitted_over_http(crew: Crew) -> None:
    client = crew.agent.client()
    code = post(client, "orders", body()).json()["code"]
    refused = post(crew.approver.client(), f"orders/{code}/refuse", {"comment": ""})
    assert refused.status_code == 422 and refused.json()["error"]["details"]["field"] == "comment"
    assert (
        post(crew.approver.client(), f"orders/{code}/refuse", {"comment": "Dates ?"}).json()["status"]
        == "returned"
    )
    later = body(
        starts_at=at(MONDAY + dt.timedelta(days=1), 8).isoformat(),
        ends_at=at(MONDAY + dt.timedelta(days=1), 18).isoformat(),
    )
    again = client.put(f"/api/v1/missions/orders/{code}", later, content_type="application/json")
    assert again.status_code == 200 and again.json()["status"] == "submitted"


def test_badges_and_register_over_http(crew: Crew) -> None:
    from cimaise.missions.models import Badge

    Badge.objects.create(site=crew.ccl, number="V-07")
    desk = crew.reception.client()
    issued = post(desk, "reception/CCL/badges", {"badge": "V-07", "holder": "registrar-a"})
    assert (
        issued.status_code == 201
        and issued.json()["slip"] == f"/missions/badges/{issued.json()['id']}/slip.pdf"
    )
    twice = post(desk, "reception/CCL/badges", {"badge": "V-07", "holder": "escort-a"})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "badge_out"
    line = post(
        desk,
        "reception/CCL/register",
        {"person": "registrar-a", "direction": "in", "at": at(MONDAY, 9).isoformat()},
    )
    assert line.status_code == 201 and line.json()["badge"] == "V-07"
    day = desk.get(f"/api/v1/missions/reception/CCL/register?date={MONDAY}").json()
    assert [(r["person"], r["direction"]) for r in day] == [("registrar-a", "in")]
    assert post(desk, "reception/CCL/badges/V-07/return").json()["returned_at"] is not None
    assert (
        post(crew.agent.client(), "reception/CCL/badges", {"badge": "V-07", "holder": "x"}).status_code == 403
    )


def test_extreme_values_are_4xx_not_5xx(crew: Crew) -> None:
    far = post(
        crew.agent.client(),
        "orders",
        body(starts_at="9999-12-31T08:00:00+01:00", ends_at="9999-12-31T20:00:00+01:00"),
    )
    assert far.status_code == 422 and far.json()["error"]["details"]["field"] == "starts_at"
    desk = crew.reception.client()
    for path in ("expected", "register"):
        answer = desk.get(f"/api/v1/missions/reception/CCL/{path}?date=9999-12-31")
        assert answer.status_code == 422 and answer.json()["error"]["details"]["field"] == "date"
    page = crew.reception.session_client().get("/missions/reception/?site=CCL&date=9999-12-31")
    assert page.status_code == 422
    long = post(
        crew.agent.client(), "orders", body(ends_at=at(MONDAY + dt.timedelta(days=120), 19).isoformat())
    )
    assert long.status_code == 422 and long.json()["error"]["details"]["field"] == "ends_at"
