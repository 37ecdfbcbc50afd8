"""The access pages and the supervisors' API: who may see what (a gate agent is refused the
monitor and the fraud signals, a supervisor is not), the CSV export, the JSON, and the handheld
check through plain and htmx posts."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from cimaise.access.models import AgentContact, Entry, Lane
from cimaise.access.pages.handheld import SESSION_LANE
from cimaise.access.tests.conftest import Gate, make_gate
from cimaise.access.tests.test_fraud import at, count, override
from cimaise.access.tests.test_scans import scan
from cimaise.core.roles import Role
from cimaise.core.tests.personas import Cast, Persona, make_persona
from cimaise.ticketing.models import Tariff
from cimaise.ticketing.tests.ticket_factories import T0, make_paid_order, slot_for
from cimaise.ticketing.tickets import tickets_issue

pytestmark = pytest.mark.django_db

SUPERVISED = ("/access/monitor/", "/access/monitor/panel/", "/access/fraud/", "/access/fraud/export.csv")
HX = {"HX-Request": "true"}


@pytest.fixture
def supervisor(cast: Cast) -> Persona:
    return make_persona("gate-supervisor-a", cast.institution_a, [Role.GATE_SUPERVISOR], cast.site_a)


@pytest.fixture
def live_gate(cast: Cast) -> Gate:
    """The gate, with its slot starting five minutes ago (the handheld scans at the real time)."""
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=5)
    return make_gate(cast, starts_at=start)


def a_day_of_signals(cast: Cast, gate: Gate) -> None:
    scan(cast, gate.ticket.code, now=at(5))
    for minutes in (6, 7, 8):
        scan(cast, gate.ticket.code, now=at(minutes))
    for minutes in range(5):
        scan(cast, "FAKE", now=at(10 + minutes))
    override(cast.gate_agent_a.actor, 20, reason="Phone battery dead")
    count(cast, "L1", 0, 15, 3, "=1+1")


# --- who sees what -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SUPERVISED)
def test_a_gate_agent_is_refused_the_supervisors_pages(cast: Cast, gate: Gate, path: str) -> None:
    assert cast.gate_agent_a.session_client().get(path).status_code == 403
    assert cast.outsider.session_client().get(path).status_code == 403


@pytest.mark.parametrize("path", SUPERVISED)
def test_a_supervisor_sees_them_and_a_visitor_is_sent_to_sign_in(
    cast: Cast, gate: Gate, supervisor: Persona, path: str
) -> None:
    assert supervisor.session_client().get(path).status_code == 200
    response = Client().get(path)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_handheld_is_for_whoever_may_scan(cast: Cast, gate: Gate, supervisor: Persona) -> None:
    assert cast.gate_agent_a.session_client().get("/access/scan/").status_code == 200
    assert supervisor.session_client().get("/access/scan/").status_code == 200
    assert cast.registrar_a.session_client().get("/access/scan/").status_code == 403
    registrar = cast.registrar_a.session_client()
    assert registrar.post("/access/scan/check", {"code": "x"}).status_code == 403
    in_place = registrar.post("/access/scan/check", {"code": "x"}, headers=HX)
    assert in_place["HX-Redirect"] == "/access/scan/", "htmx loads the refusal as a whole page"


def test_the_navigation_shows_each_role_its_pages(cast: Cast, gate: Gate, supervisor: Persona) -> None:
    agent_home = cast.gate_agent_a.session_client().get("/").content.decode()
    assert 'href="/access/scan/"' in agent_home and "/access/fraud/" not in agent_home
    supervisor_home = supervisor.session_client().get("/").content.decode()
    assert all(
        f'href="{p}"' in supervisor_home for p in ("/access/scan/", "/access/monitor/", "/access/fraud/")
    )
    assert "/access/" not in cast.registrar_a.session_client().get("/").content.decode()


@pytest.mark.parametrize("path", ["/api/v1/access/fraud-signals", "/api/v1/access/monitor"])
def test_the_supervisors_api_answers_supervisors_only(
    cast: Cast, gate: Gate, supervisor: Persona, path: str
) -> None:
    assert supervisor.client().get(path).status_code == 200
    refused = cast.gate_agent_a.client().get(path)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert cast.partner_b.client().get(path).status_code == 403
    assert Client().get(path).status_code == 401


# --- fraud signals: page, CSV, JSON --------------------------------------------------------------


def test_the_fraud_page_lists_the_days_signals_by_kind_with_evidence(
    cast: Cast, gate: Gate, supervisor: Persona
) -> None:
    a_day_of_signals(cast, gate)
    client = supervisor.session_client()
    page = client.get("/access/fraud/?date=2019-10-24").content.decode()
    kinds = re.findall(r'data-kind="(\w+)"', page)
    assert kinds == [
        "cross_entrance",
        "repeated_rejections",
        "forged_burst",
        "overrides",
        "passages_without_scans",
    ]
    assert "refused 3 times" in page and "5 forged codes at PYR" in page
    assert "«Phone battery dead»" in page and 'href="/access/fraud/export.csv?date=2019-10-24"' in page
    assert 'data-flagged="3"' in page  # the one override is listed, not flagged
    assert "Nothing this day." in client.get("/access/fraud/?date=2019-10-25").content.decode()
    assert client.get("/access/fraud/?date=yesterday").status_code == 400


def test_the_csv_has_one_row_per_signal_with_its_evidence(
    cast: Cast, gate: Gate, supervisor: Persona
) -> None:
    a_day_of_signals(cast, gate)
    response = supervisor.session_client().get("/access/fraud/export.csv?date=2019-10-24")
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="fraud-signals-2019-10-24.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["kind"] for r in rows] == [
        "repeated_rejections",
        "forged_burst",
        "overrides",
        "passages_without_scans",
    ]
    rejected = rows[0]
    assert (rejected["severity"], rejected["flagged"], rejected["count"]) == ("medium", "yes", "3")
    assert rejected["code_id"] == gate.ticket.code_id and rejected["when"] == "2019-10-24T09:06:00+02:00"
    ids = Entry.objects.filter(result="rejected", code_id=gate.ticket.code_id).order_by("id")
    assert rejected["evidence"].split(" | ")[0].startswith(f"#{ids[0].pk} ")
    assert rejected["evidence"].count(" | ") == 2 and "PYR/L1 already_used" in rejected["evidence"]
    assert rows[2]["flagged"] == "no"
    assert rows[3]["operator"] == "'=1+1", "a cell a spreadsheet would run is quoted"


def test_the_json_has_the_signals_of_the_day_asked(cast: Cast, gate: Gate, supervisor: Persona) -> None:
    a_day_of_signals(cast, gate)
    client = supervisor.client()
    data = client.get("/api/v1/access/fraud-signals?date=2019-10-24").json()
    assert data["date"] == "2019-10-24"
    assert [s["kind"] for s in data["signals"]] == [
        "repeated_rejections",
        "forged_burst",
        "overrides",
        "passages_without_scans",
    ]
    burst = data["signals"][1]
    assert (burst["entrance"], burst["count"], burst["severity"]) == ("PYR", 5, "medium")
    assert [e["nonce"] for e in burst["evidence"]] == list(
        Entry.objects.filter(reason="forged").order_by("recorded_at").values_list("nonce", flat=True)
    )
    assert client.get("/api/v1/access/fraud-signals?date=2019-10-25").json()["signals"] == []
    bad = client.get("/api/v1/access/fraud-signals?date=2019-13-45")
    assert bad.status_code == 422 and bad.json()["error"]["message"].startswith("date")


def test_the_monitor_json_and_page(cast: Cast, gate: Gate, supervisor: Persona) -> None:
    AgentContact.objects.create(entrance=gate.pyramide, last_seen_at=timezone.now(), operator="x", queued=2)
    data = supervisor.client().get("/api/v1/access/monitor").json()
    assert [e["code"] for e in data["entrances"]] == ["PYR", "RIC"]
    assert (
        data["entrances"][0]["agent"]["state"] == "online"
        and data["entrances"][1]["agent"]["state"] == "none"
    )
    assert len(data["entrances"][0]["lanes"][0]["per_5_minutes"]) == 24
    page = supervisor.session_client().get("/access/monitor/").content.decode()
    assert 'hx-get="/access/monitor/panel/"' in page and 'hx-trigger="every 30s"' in page
    assert page.count('class="lane-chart"') == 3 and "Agent online" in page and "No agent" in page
    assert "2 entries waiting to upload" in page


# --- the handheld --------------------------------------------------------------------------------


def at_lane(persona: Persona, lane: str = "PYR/L1") -> Client:
    client = persona.session_client()
    response = client.post("/access/scan/lane", {"lane": lane})
    assert response.status_code == 302 and response["Location"] == "/access/scan/"
    return client


def check(client: Client, code: str, nonce: str = "", **headers: str) -> str:
    nonce = nonce or f"t-{Entry.objects.count()}-{len(code)}"
    response = client.post("/access/scan/check", {"code": code, "nonce": nonce}, headers=headers)
    assert response.status_code == 200, response.content.decode()[:1000]
    return response.content.decode()


def reason(html: str) -> tuple[str, str]:
    found = re.search(r'class="answer answer-(\w+)" data-result="\w+" data-reason="(\w+)"', html)
    assert found, html[:2000]
    return found.group(1), found.group(2)


def test_an_agent_chooses_a_lane_then_checks_codes(cast: Cast, live_gate: Gate) -> None:
    client = cast.gate_agent_a.session_client()
    page = client.get("/access/scan/").content.decode()
    assert "Where are you checking tickets?" in page and 'value="PYR/L2"' in page
    assert 'id="scan-code"' not in page
    client = at_lane(cast.gate_agent_a)
    assert client.session[SESSION_LANE] == "PYR/L1"
    page = client.get("/access/scan/").content.decode()
    assert 'id="scan-code"' in page and "autofocus" in page and "Pyramide · L1" in page

    first = check(client, live_gate.ticket.code, **HX)
    assert reason(first) == ("accepted", "ok") and "Welcome" in first
    assert "<html" not in first and "Museum entry · Full" in first, "htmx gets the zone alone"
    assert "Let through anyway" not in first
    again = check(client, live_gate.ticket.code)  # without htmx: the whole page
    assert reason(again) == ("rejected", "already_used") and "Ticket already used" in again
    assert "<html" in again and "Let through anyway" in again
    entry = Entry.objects.latest("id")
    assert (entry.operator, entry.lane.code, entry.direction, entry.source) == (
        "user:gate-agent-a",
        "L1",
        "in",
        "online",
    )


def test_a_resent_check_gets_the_first_answer(cast: Cast, live_gate: Gate) -> None:
    client = at_lane(cast.gate_agent_a)
    check(client, live_gate.ticket.code, nonce="same", **HX)
    resent = check(client, live_gate.ticket.code, nonce="same", **HX)
    assert reason(resent) == ("accepted", "ok") and "answered already" in resent
    assert Entry.objects.count() == 1


def test_a_refusal_can_be_overridden_with_a_reason(cast: Cast, live_gate: Gate) -> None:
    client = at_lane(cast.gate_agent_a, "PYR/L2")
    refused = check(client, "a forged code", **HX)
    assert reason(refused) == ("rejected", "forged") and "Not a valid ticket" in refused
    nonce = re.search(r'name="nonce" value="(h-[^"]+)" id="id_nonce"', refused.split('class="override')[1])
    assert nonce
    short = client.post(
        "/access/scan/override",
        {"reason": "no", "people": "2", "code": "", "nonce": nonce.group(1)},
        headers=HX,
    )
    assert short.status_code == 422 and "Let through anyway" in short.content.decode()
    let = client.post(
        "/access/scan/override",
        {"reason": "Phone battery dead", "people": "2", "code": "a forged code", "nonce": nonce.group(1)},
        headers=HX,
    )
    assert let.status_code == 200 and reason(let.content.decode()) == ("accepted", "override")
    assert "Group of 2" in let.content.decode()
    entry = Entry.objects.get(source="override")
    assert (entry.people, entry.override_reason, entry.lane.code) == (2, "Phone battery dead", "L2")


def test_the_answer_shows_a_group_and_the_proof_a_free_ticket_needs(cast: Cast, live_gate: Gate) -> None:
    catalogue, slot = live_gate.catalogue, slot_for(live_gate.catalogue, live_gate.order.slot.starts_at)
    catalogue.tariffs["group"] = Tariff.objects.create(
        product=catalogue.product, code="GROUP", price=Decimal("90"), party_size=6, names={"en": "Group"}
    )
    order = make_paid_order(catalogue, slot, lines=[("group", 1), ("free", 1)])
    with transaction.atomic():
        tickets = tickets_issue(order=order, actor="system:test", now=T0)
    group, free = sorted(tickets, key=lambda t: t.tariff.code)
    client = at_lane(cast.gate_agent_a)
    answer = check(client, group.code, **HX)
    assert reason(answer) == ("accepted", "ok") and 'data-people="6"' in answer and "Group of 6" in answer
    answer = check(client, free.code, **HX)
    assert "Proof required: An identity card" in answer and "Free, under 26" in answer


def test_a_way_out_checks_people_going_out(cast: Cast, live_gate: Gate) -> None:
    Lane.objects.create(entrance=live_gate.pyramide, code="OUT", direction=Lane.Direction.OUT)
    client = at_lane(cast.gate_agent_a)
    check(client, live_gate.ticket.code, **HX)
    client = at_lane(cast.gate_agent_a, "PYR/OUT")
    assert reason(check(client, live_gate.ticket.code, **HX)) == ("accepted", "exit")
    assert Entry.objects.latest("id").direction == "out"


def test_the_handheld_without_a_lane_or_with_a_closed_one_goes_back_to_the_chooser(
    cast: Cast, live_gate: Gate
) -> None:
    client = cast.gate_agent_a.session_client()
    response = client.post("/access/scan/check", {"code": "x", "nonce": "n1"}, headers=HX)
    assert response.status_code == 200 and response["HX-Redirect"] == "/access/scan/"
    assert client.post("/access/scan/lane", {"lane": "PYR/NOPE"}).status_code == 422
    client = at_lane(cast.gate_agent_a)
    Lane.objects.filter(code="L1").update(active=False)
    response = client.post("/access/scan/check", {"code": "x", "nonce": "n2"})
    assert response.status_code == 302 and SESSION_LANE not in client.session
    assert not Entry.objects.exists()
    signed_out = Client().post("/access/scan/check", {"code": "x", "nonce": "n3"}, headers=HX)
    assert signed_out["HX-Redirect"].startswith("/login/?next=/access/scan/")


def test_an_empty_code_is_asked_again(cast: Cast, live_gate: Gate) -> None:
    client = at_lane(cast.gate_agent_a)
    response = client.post("/access/scan/check", {"code": "  ", "nonce": "n1"}, headers=HX)
    assert response.status_code == 422 and "This field is required." in response.content.decode()
    assert not Entry.objects.exists()
