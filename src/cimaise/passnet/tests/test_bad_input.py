"""Bad input at every route and page of the pass network: a 4xx naming the field, or a refusal
(HTTP 200) for a code; never a 500."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from cimaise.passnet.tests.conftest import Network, nonce


def post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body, default=str), content_type="application/json")


def scan_body(code: str, site: str = "ORSAY", **extra: Any) -> dict[str, Any]:
    return {
        "code": code,
        "entrance": site,
        "lane": "L1",
        "direction": "in",
        "nonce": nonce(),
        "scanned_at": timezone.now().isoformat(),
        **extra,
    }


def field_of(response: Any) -> str:
    error = response.json()["error"]
    details = error.get("details")
    return str(details.get("field") if isinstance(details, dict) and details.get("field") else error)


def now_iso(**delta: float) -> str:
    return (timezone.now() + dt.timedelta(**delta)).isoformat()


SCAN_CASES = [
    ({"scanned_at": "2026-03-10T10:00:00"}, "scanned_at"),
    ({"scanned_at": "not a date"}, "scanned_at"),
    ({"scanned_at": 12}, "scanned_at"),  # 1970, as a Unix time
    ({"scanned_at": now_iso(days=-400)}, "scanned_at"),
    ({"scanned_at": "9999-12-31T23:59:59+00:00"}, "scanned_at"),
    ({"scanned_at": "0001-01-01T00:00:00+00:00"}, "scanned_at"),
    ({"scanned_at": "0001-01-01T00:00:00+14:00"}, "scanned_at"),
    ({"scanned_at": "9999-12-31T23:59:59-14:00"}, "scanned_at"),
    ({"scanned_at": None}, "scanned_at"),
    ({"nonce": ""}, "nonce"),
    ({"nonce": "n" * 65}, "nonce"),
    ({"nonce": 5}, "nonce"),
    ({"nonce": "a\x00b"}, "nonce"),
    ({"lane": "L\x00"}, "lane"),
    ({"area": "EX\x00PO"}, "area"),
    ({"entrance": "OR\x00SAY"}, "entrance"),
    ({"entrance": "X" * 5000}, "entrance"),
    ({"direction": "sideways"}, "direction"),
    ({"code": 7}, "code"),
    ({"code": None}, "code"),
    ({"code": ["CP1:"]}, "code"),
]


@pytest.mark.parametrize(("extra", "field"), SCAN_CASES)
def test_a_bad_scan_is_a_422_naming_the_field(network: Network, extra: dict[str, Any], field: str) -> None:
    (p,) = network.issue()
    body = {**scan_body(p.code), **extra}
    response = post(network.key_client("ORSAY"), "/api/v1/passnet/scans", body)
    assert 400 <= response.status_code < 500, response.content
    assert field in field_of(response), response.content


def test_a_scan_missing_a_field_or_not_json_is_a_4xx(network: Network) -> None:
    orsay = network.key_client("ORSAY")
    body = scan_body("CP1:")
    for missing in ("code", "entrance", "lane", "nonce", "scanned_at"):
        partial = {k: v for k, v in body.items() if k != missing}
        response = post(orsay, "/api/v1/passnet/scans", partial)
        assert response.status_code == 422, (missing, response.content)
        assert missing in field_of(response)
    for raw in ("", "[]", "nul\x00", "{", '"text"', "null"):
        response = orsay.post("/api/v1/passnet/scans", raw, content_type="application/json")
        assert 400 <= response.status_code < 500, (raw, response.content)


@pytest.mark.parametrize(
    "code",
    ["", "\x00", "CP1:\x00" * 40, "CP1:" + "\x00" * 206, "x" * 100_000, "CP1:" + "é" * 206, "\ud800"],
)
def test_junk_codes_are_refused_as_forged(network: Network, code: str) -> None:
    response = post(network.key_client("ORSAY"), "/api/v1/passnet/scans", scan_body(code))
    assert response.status_code == 200, response.content
    assert response.json()["reason"] == "forged"


ISSUE_CASES = [
    ({"quantity": 0}, "quantity"),
    ({"quantity": -1}, "quantity"),
    ({"quantity": 10**9}, "quantity"),
    ({"quantity": 10**30}, "quantity"),
    ({"quantity": "many"}, "quantity"),
    ({"quantity": None}, "quantity"),
    ({"product": "NOPE"}, "product"),
    ({"product": ""}, "product"),
    ({"product": "P\x00"}, "product"),
    ({"product": 12}, "product"),
    ({"channel": "pigeon"}, "channel"),
    ({"channel": ""}, "channel"),
    ({"channel": None}, "channel"),
    ({"holder_name": "A\x00B"}, "holder_name"),
    ({"holder_name": "x" * 201}, "holder_name"),
    ({"channel": "reseller", "batch": "B\x00"}, "batch"),
    ({"channel": "reseller", "batch": "B1", "reseller": "R\x00"}, "reseller"),
    ({"channel": "web", "batch": "B1"}, "batch"),
]


@pytest.mark.parametrize(("extra", "field"), ISSUE_CASES)
def test_a_bad_issue_is_a_4xx_naming_the_field(network: Network, extra: dict[str, Any], field: str) -> None:
    body = {"product": "PMP2", "quantity": 1, "channel": "web", **extra}
    response = post(network.pass_operator.client(), "/api/v1/passnet/passes", body)
    assert 400 <= response.status_code < 500, response.content
    assert field in field_of(response), response.content


@pytest.mark.parametrize(
    "month",
    ["2019-13", "0000-01", "0001-01", "9999-12", "abc", "99999-01", "2026-00", "2026-1", "２０２６-01"],
)
def test_a_bad_month_is_a_4xx(network: Network, month: str) -> None:
    for client in (network.pass_operator.client(), network.cast.partner_b.client()):
        response = client.get(f"/api/v1/passnet/settlements/{month}")
        assert response.status_code in (404, 422), (month, response.content)
    response = network.pass_operator.client().post(f"/api/v1/passnet/settlements/{month}")
    assert response.status_code in (404, 409, 422), (month, response.content)


def test_bad_feed_cursors_and_uploads_are_4xx(network: Network) -> None:
    orsay = network.key_client("ORSAY")
    for since in ("x", "1", "1.2.3", "-1.-1", "9" * 40 + ".1", "1.\x00"):
        response = orsay.get("/api/v1/passnet/sites/ORSAY/feed", {"since": since})
        assert response.status_code in (200, 422), (since, response.content)
    entry = {
        "nonce": "off-1",
        "code": "CP1:",
        "lane": "L1",
        "direction": "in",
        "scanned_at": now_iso(minutes=-2),
        "decided_at": now_iso(minutes=-2),
        "reason": "ok",
    }
    for bad, field in (
        ({"reason": "maybe"}, "reason"),
        ({"decided_at": "2026-03-10T10:00:00"}, "decided_at"),
        ({"decided_at": now_iso(days=2)}, "decided_at"),
        ({"decided_at": "0001-01-01T00:00:00+00:00"}, "decided_at"),
        ({"scanned_at": "9999-12-31T23:59:59+00:00"}, "scanned_at"),
        ({"nonce": "a\x00"}, "nonce"),
        ({"area": "\x00"}, "area"),
    ):
        response = post(orsay, "/api/v1/passnet/sites/ORSAY/entries", {"entries": [{**entry, **bad}]})
        assert 400 <= response.status_code < 500, (bad, response.content)
        assert field in field_of(response), (bad, response.content)


def test_bad_ids_in_operator_commands_are_4xx(network: Network) -> None:
    operator = network.pass_operator.client()
    for code_id in ("nope", "x" * 3000, "%00"):
        response = post(operator, f"/api/v1/passnet/passes/{code_id}/revoke", {"reason": "lost"})
        assert response.status_code in (404, 422), response.content
    assert post(operator, "/api/v1/passnet/passes/x/revoke", {"reason": "stolen"}).status_code == 422
    response = post(operator, "/api/v1/passnet/batches/%00/withdraw", {"reason": "x"})
    assert response.status_code in (404, 422), response.content
    response = post(operator, "/api/v1/passnet/sites/%00/keys", {"label": "x"})
    assert response.status_code in (404, 422), response.content
    response = post(operator, "/api/v1/passnet/sites/ORSAY/keys", {"label": "a\x00"})
    assert 400 <= response.status_code < 500, response.content


@pytest.mark.parametrize(
    "url",
    [
        "/passnet/p/nope/",
        "/passnet/p/nope/pass.pdf",
        "/passnet/p/%00/",
        "/passnet/statements/2019-13/ORSAY.csv",
        "/passnet/statements/0000-01/ORSAY.pdf",
        "/passnet/statements/9999-12/ORSAY.csv",
        "/passnet/statements/abc/ORSAY.csv",
        "/passnet/statements/2026-03/NOWHERE.csv",
        "/passnet/statements/2026-03/%00.csv",
    ],
)
def test_bad_page_urls_are_4xx(network: Network, url: str) -> None:
    for client in (network.pass_operator.client(), network.cast.partner_b.client(), Client()):
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        assert response.status_code != 200 or "/p/" not in url, url


def test_an_offline_exit_before_the_activation_leaves_the_activation_alone(network: Network) -> None:
    from cimaise.passnet.models import Pass

    (p,) = network.issue()
    network.scan("ORSAY", p.code, timezone.now() - dt.timedelta(minutes=10))
    activated = Pass.objects.get(pk=p.pk).activated_at
    at = now_iso(minutes=-30)
    exit_ = {
        "nonce": nonce(),
        "code": p.code,
        "lane": "L1",
        "direction": "out",
        "scanned_at": at,
        "decided_at": at,
        "reason": "exit",
    }
    response = post(
        network.key_client("LOUVRE-PYR"), "/api/v1/passnet/sites/LOUVRE-PYR/entries", {"entries": [exit_]}
    )
    assert response.status_code == 200, response.content
    found = Pass.objects.get(pk=p.pk)
    assert found.activated_at == activated and found.expires_at is not None
