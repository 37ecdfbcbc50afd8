"""Authorization across partners and operators: nobody acts or reads for a site, a partner or a
network not their own."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.test import Client
from django.utils import timezone

from cimaise.core.models import Institution, Site
from cimaise.core.roles import Role
from cimaise.core.tests.personas import make_persona
from cimaise.passnet.settlement import settlement_issue
from cimaise.passnet.tests.conftest import PARIS, Network, nonce

MARCH_10 = dt.datetime(2026, 3, 10, 11, 0, tzinfo=PARIS)


def post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body, default=str), content_type="application/json")


def offline(code: str) -> dict[str, Any]:
    at = (timezone.now() - dt.timedelta(minutes=1)).isoformat()
    return {
        "nonce": nonce(),
        "code": code,
        "lane": "L1",
        "direction": "in",
        "scanned_at": at,
        "decided_at": at,
        "reason": "ok",
    }


def test_anonymous_callers_are_refused_everywhere(network: Network) -> None:
    (p,) = network.issue()
    anonymous = Client()
    for url, body in (
        ("/api/v1/passnet/passes", {"product": "PMP2", "quantity": 1, "channel": "web"}),
        (f"/api/v1/passnet/passes/{p.code_id}/revoke", {"reason": "lost"}),
        ("/api/v1/passnet/sites/ORSAY/keys", {}),
        ("/api/v1/passnet/sites/ORSAY/entries", {"entries": [offline(p.code)]}),
        ("/api/v1/passnet/settlements/2026-03", {}),
    ):
        assert post(anonymous, url, body).status_code == 401, url
    for url in ("/api/v1/passnet/settlements/2026-03", "/api/v1/passnet/sites/ORSAY/feed"):
        assert anonymous.get(url).status_code == 401, url
    for url in ("/passnet/", "/passnet/site/", "/passnet/statements/2026-03/ORSAY.csv"):
        assert anonymous.get(url).status_code == 302, url


def test_a_site_key_feeds_and_uploads_for_its_own_site_only(network: Network) -> None:
    (p,) = network.issue()
    orsay = network.key_client("ORSAY")
    assert orsay.get("/api/v1/passnet/sites/LOUVRE-PYR/feed").status_code == 403
    upload = {"entries": [offline(p.code)]}
    assert post(orsay, "/api/v1/passnet/sites/LOUVRE-PYR/entries", upload).status_code == 403
    # a key is not a person: it neither issues, revokes, rotates keys nor reads settlements
    assert post(orsay, "/api/v1/passnet/sites/ORSAY/keys", {}).status_code == 401
    assert orsay.get("/api/v1/passnet/settlements/2026-03").status_code == 401
    # a partner's staff sync their own institution's sites only
    partner = network.cast.partner_b.client()
    assert partner.get("/api/v1/passnet/sites/ORSAY/feed").status_code == 200
    assert partner.get("/api/v1/passnet/sites/LOUVRE-PYR/feed").status_code == 403


def test_a_partner_reads_its_own_lines_and_statements_only(network: Network) -> None:
    (p,) = network.issue()
    network.scan("ORSAY", p.code, MARCH_10)
    network.scan("VERSAILLES", p.code, MARCH_10 + dt.timedelta(hours=2))
    settlement_issue(actor=network.pass_operator.actor, month="2026-03", now=MARCH_10 + dt.timedelta(days=30))
    partner = network.cast.partner_b.client()
    data = partner.get("/api/v1/passnet/settlements/2026-03").json()
    assert {line["site"] for line in data["lines"]} == {"ORSAY"}
    operator = network.pass_operator.client()
    assert {line["site"] for line in operator.get("/api/v1/passnet/settlements/2026-03").json()["lines"]} == {
        "ORSAY",
        "VERSAILLES",
    }
    pages = network.cast.partner_b.session_client()
    assert pages.get("/passnet/statements/2026-03/VERSAILLES.pdf").status_code == 404
    assert b"VERSAILLES" not in pages.get("/passnet/site/").content
    gate = network.cast.gate_agent_a.client()
    assert gate.get("/api/v1/passnet/settlements/2026-03").status_code == 403
    assert post(partner, "/api/v1/passnet/settlements/2026-04", {}).status_code == 403


def test_another_pass_operator_cannot_touch_this_network(network: Network) -> None:
    (p,) = network.issue()
    network.issue(quantity=1, channel="reseller", batch="RB-1")
    other = Institution.objects.create(code="bmp", name="Other pass", kind=Institution.Kind.PASS_OPERATOR)
    office = Site.objects.create(institution=other, code="BMP-HQ", name="Office")
    rival = make_persona("pass-operator-2", other, [Role.PASS_OPERATOR], office)
    client = rival.client()
    assert post(client, f"/api/v1/passnet/passes/{p.code_id}/revoke", {"reason": "lost"}).status_code == 404
    assert post(client, "/api/v1/passnet/batches/RB-1/withdraw", {"reason": "x"}).status_code == 404
    assert post(client, "/api/v1/passnet/sites/ORSAY/keys", {}).status_code == 404
    assert post(client, "/api/v1/passnet/passes", {"product": "PMP2", "channel": "web"}).status_code == 404
    assert client.get("/api/v1/passnet/settlements/2026-03").json()["lines"] == []
    assert post(client, "/api/v1/passnet/scans", {**offline(p.code), "entrance": "ORSAY"}).status_code in (
        403,
        404,
    )
    assert rival.session_client().get("/passnet/statements/2026-03/ORSAY.csv").status_code == 404


def test_an_offline_acceptance_of_a_forged_code_is_no_visit(network: Network) -> None:
    orsay = network.key_client("ORSAY")
    response = post(orsay, "/api/v1/passnet/sites/ORSAY/entries", {"entries": [offline("CP1:junk")]})
    assert response.status_code == 200, response.content
    (result,) = response.json()["results"]
    assert (result["reason"], result["central_reason"]) == ("forged", "forged")
    month = timezone.now().astimezone(PARIS).strftime("%Y-%m")
    statement = network.pass_operator.client().get(f"/api/v1/passnet/settlements/{month}").json()
    assert statement["visits"] == 0


def test_a_nonce_of_another_site_does_not_replay_its_answer(network: Network) -> None:
    (p,) = network.issue()
    body = {**offline(p.code), "entrance": "ORSAY"}
    del body["decided_at"], body["reason"]
    first = post(network.key_client("ORSAY"), "/api/v1/passnet/scans", body)
    assert first.json()["pass"]["code_id"] == p.code_id
    # the Louvre's key sends Orsay's nonce: no replay of Orsay's answer (the pass id is a secret)
    louvre = network.key_client("LOUVRE-PYR")
    stolen = post(louvre, "/api/v1/passnet/scans", {**body, "entrance": "LOUVRE-PYR", "code": "x"})
    assert stolen.status_code == 409 and stolen.json()["error"]["details"]["field"] == "nonce"
    upload = {"entries": [{**offline("x"), "nonce": body["nonce"]}]}
    stolen = post(louvre, "/api/v1/passnet/sites/LOUVRE-PYR/entries", upload)
    assert stolen.status_code == 409 and p.code_id.encode() not in stolen.content
    again = post(network.key_client("ORSAY"), "/api/v1/passnet/scans", body)
    assert again.json()["replayed"] is True and again.json()["pass"]["code_id"] == p.code_id
