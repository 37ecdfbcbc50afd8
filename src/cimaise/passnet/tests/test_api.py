"""The pass network's HTTP API: issuing passes, scanning with a partner key, and who may do what."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.test import Client
from django.utils import timezone

from cimaise.passnet.models import PassEntry
from cimaise.passnet.network import partner_key_issue
from cimaise.passnet.tests.conftest import Network, nonce


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body, default=str), content_type="application/json")


def scan_body(code: str, site: str, **extra: Any) -> dict[str, Any]:
    return {
        "code": code,
        "entrance": site,
        "lane": "L1",
        "direction": "in",
        "nonce": nonce(),
        "scanned_at": timezone.now().isoformat(),
        **extra,
    }


def test_the_operator_issues_passes_with_signed_codes(network: Network) -> None:
    body = {"product": "PMP4", "quantity": 3, "channel": "web"}
    response = post(network.pass_operator.client(), "/api/v1/passnet/passes", body)
    assert response.status_code == 201, response.content
    passes = response.json()["passes"]
    assert len(passes) == 3 and {p["product"] for p in passes} == {"PMP4"}
    assert all(p["code"].startswith("CP1:") and len(p["code"]) <= 200 for p in passes)
    reseller = {
        "product": "PMP2",
        "quantity": 2,
        "channel": "reseller",
        "batch": "B-7",
        "reseller": "Voyages",
    }
    assert (
        post(network.pass_operator.client(), "/api/v1/passnet/passes", reseller).json()["passes"][0]["batch"]
        == "B-7"
    )


def test_issuing_names_the_bad_field_and_is_for_the_operator_only(network: Network) -> None:
    client = network.pass_operator.client()
    cases = [
        ({"product": "NOPE", "quantity": 1, "channel": "web"}, 404, "product"),
        ({"product": "PMP2", "quantity": 0, "channel": "web"}, 422, "quantity"),
        ({"product": "PMP2", "quantity": 1, "channel": "pigeon"}, 422, "channel"),
        ({"product": "PMP2", "quantity": 1, "channel": "reseller"}, 422, "batch"),
    ]
    for body, status, field in cases:
        response = post(client, "/api/v1/passnet/passes", body)
        assert response.status_code == status, response.content
        assert response.json()["error"]["details"]["field"] == field
    ok = {"product": "PMP2", "quantity": 1, "channel": "web"}
    assert post(network.cast.partner_b.client(), "/api/v1/passnet/passes", ok).status_code == 403
    assert post(network.cast.gate_agent_a.client(), "/api/v1/passnet/passes", ok).status_code == 403
    assert post(Client(), "/api/v1/passnet/passes", ok).status_code == 401


def test_a_partner_key_scans_at_its_own_site_only(network: Network) -> None:
    (p,) = network.issue()
    orsay = network.key_client("ORSAY")
    response = post(orsay, "/api/v1/passnet/scans", scan_body(p.code, "ORSAY"))
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["result"], data["reason"], data["pass"]["product"]) == ("accepted", "ok", "PMP2")
    assert data["pass"]["activated_at"] is not None
    denied = post(orsay, "/api/v1/passnet/scans", scan_body(p.code, "LOUVRE-PYR"))
    assert denied.status_code == 403
    assert post(Client(), "/api/v1/passnet/scans", scan_body(p.code, "ORSAY")).status_code == 401
    bad_key = Client(headers={"Authorization": "Bearer pnk_00_nothing"})
    assert post(bad_key, "/api/v1/passnet/scans", scan_body(p.code, "ORSAY")).status_code == 401
    assert PassEntry.objects.count() == 1


def test_people_scan_only_at_their_institutions_sites(network: Network) -> None:
    (p,) = network.issue()
    gate_a = network.cast.gate_agent_a.client()  # the Louvre's own entrance validates passes too
    assert post(gate_a, "/api/v1/passnet/scans", scan_body(p.code, "LOUVRE-PYR")).json()["reason"] == "ok"
    assert post(gate_a, "/api/v1/passnet/scans", scan_body(p.code, "ORSAY")).status_code == 403
    assert (
        post(network.cast.outsider.client(), "/api/v1/passnet/scans", scan_body(p.code, "ORSAY")).status_code
        == 403
    )
    partner = network.cast.partner_b.client()
    assert post(partner, "/api/v1/passnet/scans", scan_body(p.code, "ORSAY")).json()["reason"] == "ok"


def test_a_rotated_key_stops_working_at_once(network: Network) -> None:
    (p,) = network.issue()
    old = network.key_client("ORSAY")
    issued = partner_key_issue(actor=network.pass_operator.actor, site="ORSAY", label="rotation")
    assert post(old, "/api/v1/passnet/scans", scan_body(p.code, "ORSAY")).status_code == 401
    new = Client(headers={"Authorization": f"Bearer {issued.raw}"})
    assert post(new, "/api/v1/passnet/scans", scan_body(p.code, "ORSAY")).json()["reason"] == "ok"


def test_bad_input_is_a_clear_error_or_a_refusal_never_a_500(network: Network) -> None:
    (p,) = network.issue()
    orsay = network.key_client("ORSAY")
    future = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    response = post(orsay, "/api/v1/passnet/scans", scan_body(p.code, "ORSAY", scanned_at=future))
    assert response.status_code == 422 and response.json()["error"]["details"]["field"] == "scanned_at"
    naive = post(orsay, "/api/v1/passnet/scans", scan_body(p.code, "ORSAY", scanned_at="2026-03-10T10:00:00"))
    assert naive.status_code == 422
    for junk in ("", "CP1:", "CP1:" + "Z" * 158, "\x00\u00e9", "CM1:ABC"):
        answer = post(orsay, "/api/v1/passnet/scans", scan_body(junk, "ORSAY"))
        assert (answer.status_code, answer.json()["reason"]) == (200, "forged")
    other = p.code[:4] + _other_network(p.code[4:])
    assert post(orsay, "/api/v1/passnet/scans", scan_body(other, "ORSAY")).json()["reason"] == "unknown"
    assert post(orsay, "/api/v1/passnet/scans", scan_body(p.code, "NOWHERE")).status_code == 404


def _other_network(text: str) -> str:
    """The same code with another network id (bytes 5–8): a code of another network."""
    from cimaise.ticketing.codes import b45decode, b45encode

    raw = bytearray(b45decode(text))
    raw[5:9] = (999_999).to_bytes(4, "big")
    return b45encode(bytes(raw))


def test_the_routes_are_in_the_openapi_document(network: Network) -> None:
    paths = network.pass_operator.client().get("/api/v1/openapi.json").json()["paths"]
    for route in (
        "/api/v1/passnet/passes",
        "/api/v1/passnet/scans",
        "/api/v1/passnet/settlements/{month}",
        "/api/v1/passnet/sites/{code}/feed",
        "/api/v1/passnet/sites/{code}/entries",
    ):
        assert route in paths, route


def test_the_operator_revokes_withdraws_and_rotates_keys_through_the_api(network: Network) -> None:
    operator = network.pass_operator.client()
    (p,) = network.issue()
    network.issue(quantity=2, channel="reseller", batch="RB-1", reseller="Agence")
    revoked = post(operator, f"/api/v1/passnet/passes/{p.code_id}/revoke", {"reason": "lost"})
    assert revoked.status_code == 200 and revoked.json()["revoked_reason"] == "lost"
    again = post(operator, f"/api/v1/passnet/passes/{p.code_id}/revoke", {"reason": "lost"})
    assert again.status_code == 409
    assert (
        post(operator, "/api/v1/passnet/batches/RB-1/withdraw", {"reason": "unpaid"}).json()["revoked"] == 2
    )
    rotated = post(operator, "/api/v1/passnet/sites/ORSAY/keys", {"label": "new gates"})
    assert rotated.status_code == 201
    new = Client(headers={"Authorization": f"Bearer {rotated.json()['key']}"})
    assert post(new, "/api/v1/passnet/scans", scan_body(p.code, "ORSAY")).json()["reason"] == "revoked"
    assert (
        post(network.key_client("ORSAY"), "/api/v1/passnet/scans", scan_body(p.code, "ORSAY")).status_code
        == 401
    )
    partner = network.cast.partner_b.client()
    assert post(partner, "/api/v1/passnet/sites/ORSAY/keys", {}).status_code == 403
    assert post(partner, f"/api/v1/passnet/passes/{p.code_id}/revoke", {"reason": "lost"}).status_code == 403
