"""The scanner page, its service worker and its API routes (code list and lookups): who may use
them, what they answer, and that another institution's codes stay out of reach. The events the
page's script builds are checked here too, against the capture service."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from cimaise.collection.models import Work
from cimaise.core.models import Place
from cimaise.core.roles import Role
from cimaise.core.tests.personas import Cast, Persona, make_persona
from cimaise.moves.models import Anomaly, Crate, CustodyEvent
from cimaise.moves.tests.factories import Transfer, at
from cimaise.moves.tests.test_scanner_urlconf import URLCONF

pytestmark = pytest.mark.django_db

PAGE = "/custody/scanner/"
MANIFEST = "/api/v1/scanner/manifest"
LOOKUP = "/api/v1/scanner/lookup"


@pytest.fixture(autouse=True)
def scanner_urls(settings: Any) -> None:
    settings.ROOT_URLCONF = URLCONF


@dataclass
class Labels:
    transfer: Transfer
    registrar_b: Persona


@pytest.fixture
def labels(cast: Cast, transfer: Transfer) -> Labels:
    """Barcodes on our works and on one shelf; a work, a crate and a place of the Musée d'Orsay
    with barcodes of their own, and a registrar there."""
    for n, work in enumerate(transfer.works, start=1):
        Work.objects.filter(pk=work.pk).update(barcode=f"W{n:08d}")
    Place.objects.filter(pk=transfer.ccl_shelf.pk).update(barcode="P0100001")
    orsay = cast.institution_b
    Work.objects.create(
        institution=orsay, inventory="RF 1977", title="Orsay", department="PEI", barcode="W90000001"
    )
    Crate.objects.create(institution=orsay, barcode="CR-ORSAY")
    Place.objects.create(
        institution=orsay, site=cast.site_b, code="ORS-R1", name="Réserve", kind="room", path="ORSAY/ORS-R1",
        barcode="P9000001",
    )  # fmt: skip
    return Labels(transfer, make_persona("registrar-b", orsay, [Role.REGISTRAR], cast.site_b))


def persona(cast: Cast, role: Role) -> Persona:
    return make_persona(f"{role.value}-a2", cast.institution_a, [role], cast.site_a)


# --- the page and its service worker ------------------------------------------------------------


def test_the_scanner_asks_an_anonymous_visitor_to_sign_in(anon_client: Client) -> None:
    response = anon_client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/custody/scanner/")


def test_a_gate_agent_may_not_open_the_scanner(cast: Cast) -> None:
    assert cast.gate_agent_a.session_client().get(PAGE).status_code == 403


@pytest.mark.parametrize("role", [Role.REGISTRAR, Role.ESCORT, Role.RECEPTION, Role.ADMIN])
def test_those_who_record_custody_open_the_scanner(cast: Cast, role: Role) -> None:
    assert persona(cast, role).session_client().get(PAGE).status_code == 200


def test_an_analyst_who_only_reads_custody_may_not_scan(cast: Cast) -> None:
    assert persona(cast, Role.ANALYST).session_client().get(PAGE).status_code == 403


def page_config(client: Client) -> dict[str, Any]:
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('<script id="scanner-config" type="application/json">')
    body = html[html.index(">", start) + 1 : html.index("</script>", start)]
    return dict(json.loads(body))


def test_the_page_hands_its_script_the_user_the_institution_and_the_routes(cast: Cast) -> None:
    client = cast.registrar_a.session_client()
    html = client.get(PAGE).content.decode()
    assert '<script type="module" src="/static/moves/scanner.js">' in html
    assert 'id="scan-input"' in html and 'id="scan-pending"' in html
    config = page_config(client)
    assert config["user"] == "registrar-a" and config["institution"] == "louvre"
    assert config["serviceWorker"] == "/custody/scanner/sw.js" and config["page"] == PAGE
    assert config["api"] == {
        "capture": "/api/v1/epcis/capture",
        "manifest": MANIFEST,
        "lookup": LOOKUP,
    }
    assert config["epcisContext"][1] == {"cimaise": "urn:cimaise:epcis:"}
    assert config["csrfToken"] and config["csrfCookie"] == "csrftoken"
    assert "{0}" in config["strings"]["unknownItem"]


def test_the_service_worker_is_served_beside_the_page_for_its_scope(anon_client: Client) -> None:
    response = anon_client.get("/custody/scanner/sw.js")  # no data in it: no sign-in needed
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Service-Worker-Allowed"] == PAGE
    assert response["Cache-Control"] == "no-cache"
    first_line, code = response.content.decode().split("\n", 1)
    head = json.loads(first_line.removeprefix("const SCANNER = ").removesuffix(";"))
    assert head["page"] == PAGE and head["static"] == "/static/"
    assert head["assets"] == ["/static/cimaise/site.css", "/static/moves/scanner.js"]
    assert len(head["version"]) == 16
    assert 'addEventListener("fetch"' in code
    again = anon_client.get("/custody/scanner/sw.js").content.decode()
    assert again.split("\n", 1)[0] == first_line  # same files, same version: no reinstall


# --- the code list ------------------------------------------------------------------------------


def test_the_code_list_head_counts_what_a_handheld_will_fetch(cast: Cast, labels: Labels) -> None:
    client = cast.registrar_a.session_client()
    head = client.get(MANIFEST).json()
    assert head["institution"] == "louvre"
    assert head["kinds"] == ["place", "crate", "work"] and head["pageSize"] == 5000
    assert head["counts"] == {"place": 8, "crate": 2, "work": 4}
    assert head["prefixes"]["work"] == "urn:cimaise:work:louvre:"
    Crate.objects.create(institution=cast.institution_a, barcode="C002")
    after = client.get(MANIFEST).json()
    assert after["versions"]["crate"] != head["versions"]["crate"]  # only the crates are fetched again
    assert after["versions"]["work"] == head["versions"]["work"]
    assert after["versions"]["place"] == head["versions"]["place"]


def test_the_code_list_pages_give_codes_and_encoded_keys(cast: Cast, labels: Labels) -> None:
    client = cast.registrar_a.client()  # a bearer token works as well as the session
    first = client.get(f"{MANIFEST}/work", {"limit": 3}).json()
    assert first["kind"] == "work"
    assert first["items"] == [
        ["W00000001", "INV%207520"],
        ["W00000002", "INV%207521"],
        ["W00000003", "INV%207522"],
    ]
    rest = client.get(f"{MANIFEST}/work", {"after": first["next"], "limit": 3}).json()
    assert rest == {"kind": "work", "items": [["W00000004", "INV%207523"]], "next": None}
    crates = client.get(f"{MANIFEST}/crate").json()
    assert crates["items"] == [["C000", "C000"], ["C001", "C001"]] and crates["next"] is None
    places = dict(client.get(f"{MANIFEST}/place").json()["items"])
    assert places["CCL-Z1-S1"] == places["P0100001"] == "CCL-Z1-S1"


def test_another_institutions_codes_are_not_in_our_list(cast: Cast, labels: Labels) -> None:
    ours = cast.registrar_a.client()
    codes = {
        code
        for kind in ("place", "crate", "work")
        for code, _ in ours.get(f"{MANIFEST}/{kind}").json()["items"]
    }
    assert {"W90000001", "CR-ORSAY", "P9000001", "ORS-R1"}.isdisjoint(codes)
    theirs = labels.registrar_b.client()
    assert theirs.get(MANIFEST).json()["counts"] == {"place": 1, "crate": 1, "work": 1}
    assert theirs.get(f"{MANIFEST}/work").json()["items"] == [["W90000001", "RF%201977"]]


def test_a_page_of_an_unknown_kind_or_size_is_refused(cast: Cast) -> None:
    client = cast.registrar_a.client()
    assert client.get(f"{MANIFEST}/vehicle").status_code == 422
    assert client.get(f"{MANIFEST}/work", {"limit": 5001}).status_code == 422
    assert client.get(f"{MANIFEST}/work", {"after": -1}).status_code == 422


# --- lookups ------------------------------------------------------------------------------------


def lookup(client: Client, *codes: str) -> Any:
    return client.get(LOOKUP, {"code": list(codes)})


def test_a_lookup_names_works_crates_and_places_by_their_labels(cast: Cast, labels: Labels) -> None:
    answer = lookup(
        cast.registrar_a.client(), "W00000002", "C001", "P0100001", "CCL-DOCK", "INV 7523", "NOPE"
    ).json()
    assert answer["found"] == [
        {"code": "W00000002", "kind": "work", "key": "INV 7521", "uri": "urn:cimaise:work:louvre:INV%207521",
         "label": "INV 7521 — Œuvre 1"},
        {"code": "C001", "kind": "crate", "key": "C001", "uri": "urn:cimaise:crate:louvre:C001",
         "label": "C001"},
        {"code": "P0100001", "kind": "place", "key": "CCL-Z1-S1", "uri": "urn:cimaise:place:louvre:CCL-Z1-S1",
         "label": "CCL-Z1-S1 — CCL-Z1-S1"},
        {"code": "CCL-DOCK", "kind": "place", "key": "CCL-DOCK", "uri": "urn:cimaise:place:louvre:CCL-DOCK",
         "label": "CCL-DOCK — CCL-DOCK"},
        {"code": "INV 7523", "kind": "work", "key": "INV 7523", "uri": "urn:cimaise:work:louvre:INV%207523",
         "label": "INV 7523 — Œuvre 3"},
    ]  # fmt: skip
    assert answer["missing"] == ["NOPE"]


def test_another_institutions_labels_do_not_resolve(cast: Cast, labels: Labels) -> None:
    ours = lookup(cast.registrar_a.client(), "W90000001", "CR-ORSAY", "P9000001", "ORS-R1", "RF 1977").json()
    assert ours == {"found": [], "missing": ["W90000001", "CR-ORSAY", "P9000001", "ORS-R1", "RF 1977"]}
    theirs = lookup(labels.registrar_b.client(), "W00000001", "W90000001").json()
    assert [r["uri"] for r in theirs["found"]] == ["urn:cimaise:work:orsay:RF%201977"]
    assert theirs["missing"] == ["W00000001"]


def test_a_lookup_needs_one_to_a_hundred_codes(cast: Cast) -> None:
    client = cast.registrar_a.client()
    assert client.get(LOOKUP).status_code == 422
    assert lookup(client, *[f"C{i}" for i in range(101)]).status_code == 422
    assert lookup(client, *[f"C{i}" for i in range(100)]).status_code == 200
    assert lookup(client, "C" * 301).status_code == 422


ROUTES = [MANIFEST, f"{MANIFEST}/work", f"{LOOKUP}?code=W00000001"]


@pytest.mark.parametrize("route", ROUTES)
def test_a_gate_agent_is_refused_every_scanner_route(cast: Cast, route: str) -> None:
    assert cast.gate_agent_a.client().get(route).status_code == 403
    assert cast.gate_agent_a.session_client().get(route).status_code == 403


@pytest.mark.parametrize("route", ROUTES)
def test_others_are_refused_every_scanner_route(cast: Cast, anon_client: Client, route: str) -> None:
    assert anon_client.get(route).status_code == 401
    assert cast.outsider.client().get(route).status_code == 403
    assert cast.partner_b.client().get(route).status_code == 403


# --- the events the page sends ------------------------------------------------------------------


def scanned(event_id: str, item: str, place: str, minutes: float, barcode: str) -> dict[str, Any]:
    """An event as scanner.js builds it in "place" mode (see toEvent there)."""
    return {
        "type": "ObjectEvent", "action": "OBSERVE", "eventID": event_id, "eventTime": at(minutes),
        "eventTimeZoneOffset": "+00:00", "cimaise:barcode": barcode, "epcList": [item],
        "bizStep": "storing", "bizLocation": {"id": place}, "readPoint": {"id": place},
    }  # fmt: skip


def packed(event_id: str, item: str, crate: str, minutes: float, barcode: str) -> dict[str, Any]:
    """An event as scanner.js builds it in "crate" mode."""
    return {
        "type": "AggregationEvent", "action": "ADD", "eventID": event_id, "eventTime": at(minutes),
        "eventTimeZoneOffset": "+00:00", "cimaise:barcode": barcode, "parentID": crate,
        "childEPCs": [item], "bizStep": "packing",
    }  # fmt: skip


def test_the_pages_documents_are_captured_once_and_flag_an_unknown_label(cast: Cast, labels: Labels) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.registrar_a.person.user)
    config = page_config(client)
    t = labels.transfer
    unknown = "urn:cimaise:work:louvre:NOPE-404"
    events = [
        packed("urn:uuid:00000000-0000-4000-8000-000000000001", t.work(0), t.crate(0), 1, "W00000001"),
        scanned("urn:uuid:00000000-0000-4000-8000-000000000002", t.work(1), t.ccl_shelf.uri, 2, "W00000002"),
        scanned("urn:uuid:00000000-0000-4000-8000-000000000003", unknown, t.ccl_shelf.uri, 3, "NOPE-404"),
    ]
    document = {
        "@context": config["epcisContext"], "type": "EPCISDocument", "schemaVersion": "2.0",
        "creationDate": at(4), "epcisBody": {"eventList": events},
    }  # fmt: skip
    body = json.dumps(document)
    refused = client.post(config["api"]["capture"], body, content_type="application/json")
    assert refused.status_code == 403  # the session needs the CSRF token, as the page sends it
    headers = {"X-CSRFToken": client.cookies["csrftoken"].value}
    first = client.post(config["api"]["capture"], body, content_type="application/json", headers=headers)
    assert first.status_code == 201
    answer = first.json()
    assert answer["recorded"] == 3 and answer["eventIDs"] == [e["eventID"] for e in events]
    assert [(a["kind"], a["uri"]) for a in answer["anomalies"]] == [("unknown_identifier", unknown)]
    again = client.post(
        config["api"]["capture"], body, content_type="application/json", headers=headers
    ).json()
    assert (again["recorded"], again["alreadyRecorded"]) == (0, 3)
    assert again["anomalies"] == answer["anomalies"]
    assert CustodyEvent.objects.filter(institution=cast.institution_a).count() == 3
    assert Anomaly.objects.filter(kind="unknown_identifier", uri=unknown).count() == 1
    stored = CustodyEvent.objects.get(event_id=events[1]["eventID"])
    assert stored.body["cimaise:barcode"] == "W00000002" and stored.who == "user:registrar-a"
