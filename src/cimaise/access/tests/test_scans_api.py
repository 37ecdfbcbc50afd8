"""``POST /api/v1/access/scans``: answers are HTTP 200 whatever the code, errors name the field,
and only the institution's gate staff scan."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cimaise.access.models import Entry
from cimaise.access.tests.conftest import Gate, make_gate, nonce
from cimaise.core.roles import Role
from cimaise.core.tests.personas import Cast, make_persona

URL = "/api/v1/access/scans"


def body(code: str, **changes: Any) -> dict[str, Any]:
    return {
        "code": code,
        "entrance": "PYR",
        "lane": "L1",
        "direction": "in",
        "nonce": nonce(),
        "scanned_at": timezone.now().isoformat(),
        **changes,
    }


def post(client: Client, data: dict[str, Any], **headers: str) -> Any:
    return client.post(URL, data, content_type="application/json", headers=headers)


def current_gate(cast: Cast) -> Gate:
    """A gate whose tickets are for a slot that started a minute ago."""
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=1)
    return make_gate(cast, start)


def test_a_gate_agent_scans_and_gets_an_answer(cast: Cast) -> None:
    gate = current_gate(cast)
    client = cast.gate_agent_a.client()
    response = post(client, body(gate.ticket.code))
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["result"], data["reason"], data["replayed"]) == ("accepted", "ok", False)
    assert data["ticket"]["code_id"] == gate.ticket.code_id and data["ticket"]["tariff"] == "FULL"
    again = post(client, body(gate.ticket.code, lane="L2")).json()
    assert (again["result"], again["reason"]) == ("rejected", "already_used")


def test_a_rejection_is_an_answer_in_the_requests_language(cast: Cast, gate: Gate) -> None:
    response = post(cast.gate_agent_a.client(), body("garbage"), **{"Accept-Language": "fr"})
    assert response.status_code == 200
    assert response.json()["reason"] == "forged" and response.json()["text"] == "Billet non valide"
    huge = post(cast.gate_agent_a.client(), body("CM1:" + "A" * 200_000))
    assert huge.status_code == 200 and huge.json()["reason"] == "forged"


def test_a_resent_nonce_gets_the_first_answer(cast: Cast) -> None:
    gate = current_gate(cast)
    client = cast.gate_agent_a.client()
    data = body(gate.ticket.code)
    first = post(client, data).json()
    second = post(client, data).json()
    assert second == {**first, "replayed": True}
    assert Entry.objects.count() == 1


def test_bad_fields_are_4xx_naming_the_field(cast: Cast, gate: Gate) -> None:
    client = cast.gate_agent_a.client()
    cases = {
        "entrance": (body(gate.ticket.code, entrance="NOPE"), 404),
        "lane": (body(gate.ticket.code, lane="NOPE"), 404),
        "direction": (body(gate.ticket.code, direction="sideways"), 422),
        "nonce": (body(gate.ticket.code, nonce=""), 422),
        "scanned_at": (body(gate.ticket.code, scanned_at="yesterday"), 422),
    }
    for field, (data, status) in cases.items():
        response = post(client, data)
        assert response.status_code == status, (field, response.content)
        assert field in str(response.json()["error"]), (field, response.json())
    assert not Entry.objects.exists()


def test_only_the_institutions_gate_staff_scan(cast: Cast, gate: Gate, anon_client: Client) -> None:
    assert post(anon_client, body(gate.ticket.code)).status_code == 401
    for persona in (cast.outsider, cast.partner_b, cast.registrar_a):
        assert post(persona.client(), body(gate.ticket.code)).status_code == 403, persona.username
    supervisor = make_persona("gate-supervisor-a", cast.institution_a, [Role.GATE_SUPERVISOR], cast.site_a)
    assert post(supervisor.client(), body(gate.ticket.code)).status_code == 200
    other_agent = make_persona("gate-agent-b", cast.institution_b, [Role.GATE_AGENT], cast.site_b)
    response = post(other_agent.client(), body(gate.ticket.code))
    assert response.status_code == 404 and "entrance" in str(response.json()["error"])
    assert Entry.objects.count() == 1


_texts = st.text(max_size=80)


@given(
    data=st.fixed_dictionaries(
        {
            "code": st.text(max_size=300),
            "entrance": st.sampled_from(["PYR", "RIC"]) | _texts,
            "lane": st.sampled_from(["L1", "R1"]) | _texts,
            "direction": st.sampled_from(["in", "out"]) | _texts,
            "nonce": _texts,
            "scanned_at": st.datetimes(timezones=st.just(dt.UTC)).map(dt.datetime.isoformat) | _texts,
        }
    )
)
@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_scan_request_makes_a_server_error(cast: Cast, gate: Gate, data: dict[str, Any]) -> None:
    response = post(cast.gate_agent_a.client(), data)
    assert response.status_code < 500, response.content
    if response.status_code == 200:
        assert response.json()["result"] in ("accepted", "rejected")
