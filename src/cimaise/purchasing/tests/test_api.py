"""The API under /api/v1/purchasing/: purchasing officers and administrators only; bad input is
a 422 naming the field and writes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from cimaise.core.roles import Role
from cimaise.core.tests.personas import make_persona
from cimaise.purchasing.csv_io import COLUMNS
from cimaise.purchasing.models import Contract, Need
from cimaise.purchasing.tests.conftest import BUYER_SIRET, HOLDER_SIRET, Register

API = "/api/v1/purchasing"


def contract_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reference": "C-1", "title": "Transport of works", "vehicle": "AC-T", "nature": "framework",
        "needs": ["N-TRANSPORT"], "holders": [{"name": "Art Convoi SAS", "siret": HOLDER_SIRET}],
        "min_amount": "100000", "max_amount": "2000000.00", "start_on": "2025-01-01",
        "end_on": "2028-12-31", "launched_on": "2024-06-03", "notified_on": "2024-12-02",
        "buyer_siret": BUYER_SIRET, "procedure": "open", "cpv_code": "60100000-9",
        "place_type": "postcode", "place_code": "75001", "place_name": "Paris", "price_form": "revisable",
    }  # fmt: skip
    body.update(changes)
    return body


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(f"{API}{path}", json.dumps(body), content_type="application/json")


def test_an_officer_records_a_contract_and_reads_it_back(register: Register) -> None:
    client = register.officer.client()
    response = post(client, "/contracts", contract_body())
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["reference"], data["max_amount"], data["duration_months"]) == ("C-1", "2000000.00", 48)
    assert (data["essential_data_required"], data["renewal_date"]) == (True, "2028-12-31")
    assert post(client, "/contracts", contract_body(title="Transport (amended)")).status_code == 200
    got = client.get(f"{API}/contracts/C-1").json()
    assert got["title"] == "Transport (amended)"
    assert got["holders"] == [{"name": "Art Convoi SAS", "siret": HOLDER_SIRET}]
    coverage = {row["need"]["code"]: row for row in client.get(f"{API}/coverage?on=2026-01-01").json()}
    assert coverage["N-TRANSPORT"]["status"] == "covered"
    assert coverage["N-TRANSPORT"]["vehicle"]["code"] == "AC-T"
    assert coverage["N-TRANSPORT"]["contract"] == "C-1"
    assert coverage["N-CLEAN"]["status"] == "gap"
    renewals = client.get(f"{API}/renewals?on=2028-07-01").json()
    assert renewals == [
        {"contract": "C-1", "title": "Transport (amended)", "renewal_on": "2028-12-31",
         "alerts_due": {"6": "2028-06-30", "3": "2028-09-30"}, "alerts_sent": []},
    ]  # fmt: skip
    assert client.get(f"{API}/indicators").json() == [
        {"year": 2024, "launched": 1, "notified": 1, "joined": 0},
    ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"end_on": "2029-01-01"}, "end_on"),  # framework agreement beyond four years
        ({"cpv_code": ""}, "cpv_code"),  # essential data at 40,000 EUR or more
        ({"holders": [{"name": "Art Convoi SAS", "siret": "44011223300010"}]}, "holders"),  # Luhn
        ({"vehicle": "NOPE"}, "vehicle"),
        ({"max_amount": "abc"}, "max_amount"),
        ({"procedure": "lottery"}, "procedure"),
        ({"max_amount": "NaN"}, "max_amount"),
        ({"min_amount": "-5"}, "min_amount"),
        ({"reference": "R" * 40}, "reference"),
        ({"needs": ["N" * 500]}, "needs"),
        ({"start_on": "2025-02-30"}, "start_on"),
    ],
)
def test_a_bad_contract_is_a_422_naming_the_field(
    register: Register, changes: dict[str, Any], field: str
) -> None:
    response = post(register.officer.client(), "/contracts", contract_body(**changes))
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["message"].startswith(f"{field}:") or error["details"][0]["field"] == field
    assert Contract.objects.count() == 0


def test_needs_and_vehicles_are_recorded_and_checked(register: Register) -> None:
    client = register.officer.client()
    response = post(
        client, "/needs", {"code": "N-3", "title": "Shuttle", "category": "travel", "site": "CCL"}
    )
    assert response.status_code == 201
    assert response.json() == {"code": "N-3", "title": "Shuttle", "category": "travel", "site": "CCL",
                               "recurring": True}  # fmt: skip
    assert post(client, "/needs", {"code": "N-4", "title": "X", "category": "travel", "site": "LYON"}).json()[
        "error"
    ]["details"] == {"field": "site"}
    assert (
        post(client, "/needs", {"code": "N-3", "title": "X", "category": "travel", "site": "CCL"}).status_code
        == 409
    )
    joint = {"code": "CG-1", "name": "Joint order", "kind": "joint-order"}
    response = post(client, "/vehicles", joint)
    assert (response.status_code, response.json()["error"]["details"]) == (422, {"field": "partner"})
    assert (
        post(client, "/vehicles", {**joint, "partner": "orsay", "joined_on": "2019-05-20"}).status_code == 201
    )
    assert [v["code"] for v in client.get(f"{API}/vehicles").json()] == ["AC-T", "CG-1"]
    assert Need.objects.count() == 3


def test_the_csv_round_trip_through_the_api(register: Register) -> None:
    client = register.officer.client()
    assert post(client, "/contracts", contract_body()).status_code == 201
    exported = client.get(f"{API}/export/contracts.csv")
    assert exported["Content-Type"] == "text/csv; charset=utf-8"
    text = exported.content.decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(COLUMNS)
    response = client.post(f"{API}/import/contracts", exported.content, content_type="text/csv")
    assert response.json() == {"rows": 1, "created": [], "changed": [], "unchanged": ["C-1"]}
    garbage = client.post(f"{API}/import/contracts", b"\xff\xfe\x00garbage", content_type="text/csv")
    assert (garbage.status_code, garbage.json()["error"]["details"]) == (422, {"field": "file"})
    bad = text.replace("2000000.00", "2,000,000")
    response = client.post(f"{API}/import/contracts", bad.encode(), content_type="text/csv")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_rows"
    assert response.json()["error"]["details"]["errors"][0]["row"] == 2


def test_only_purchasing_officers_and_administrators_may_use_the_register(
    register: Register, anon_client: Client
) -> None:
    cast = register.cast
    routes = [
        "/needs",
        "/vehicles",
        "/contracts",
        "/coverage",
        "/renewals",
        "/indicators",
        "/export/contracts.csv",
    ]
    for route in routes:
        assert anon_client.get(f"{API}{route}").status_code == 401
        assert cast.registrar_a.client().get(f"{API}{route}").status_code == 403, route
        assert cast.outsider.client().get(f"{API}{route}").status_code == 403, route
        assert cast.admin_a.client().get(f"{API}{route}").status_code == 200, route
    assert post(cast.ticketing_manager_a.client(), "/contracts", contract_body()).status_code == 403
    assert post(cast.registrar_a.client(), "/needs", {"code": "X", "title": "X", "category": "it",
                                                      "site": "PAL"}).status_code == 403  # fmt: skip
    response = cast.gate_agent_a.client().post(f"{API}/import/contracts", b"x", content_type="text/csv")
    assert response.status_code == 403
    vehicle = {"code": "V", "name": "V", "kind": "ugap"}
    assert post(cast.partner_b.client(), "/vehicles", vehicle).status_code == 403
    assert anon_client.post(f"{API}/vehicles", vehicle, content_type="application/json").status_code == 401
    assert cast.registrar_a.client().get(f"{API}/contracts/C-1").status_code == 403
    assert cast.admin_a.client().get(f"{API}/contracts/C-1").status_code == 404
    assert Contract.objects.count() == 0


def test_another_institution_sees_nothing_of_the_register(register: Register) -> None:
    post(register.officer.client(), "/contracts", contract_body())
    other = make_persona("purchasing-b", register.cast.institution_b, [Role.PURCHASING], register.cast.site_b)
    assert other.client().get(f"{API}/contracts").json() == []
    assert other.client().get(f"{API}/contracts/C-1").status_code == 404
    assert other.client().get(f"{API}/coverage").json() == []


def test_the_routes_are_documented_in_the_openapi_schema(anon_client: Client) -> None:
    paths = anon_client.get("/api/v1/openapi.json").json()["paths"]
    ours = sorted(path for path in paths if path.startswith("/api/v1/purchasing/"))
    assert ours == [
        "/api/v1/purchasing/contracts", "/api/v1/purchasing/contracts/{reference}",
        "/api/v1/purchasing/coverage", "/api/v1/purchasing/export/contracts.csv",
        "/api/v1/purchasing/import/contracts", "/api/v1/purchasing/indicators",
        "/api/v1/purchasing/needs", "/api/v1/purchasing/renewals", "/api/v1/purchasing/vehicles",
    ]  # fmt: skip
    body = paths["/api/v1/purchasing/import/contracts"]["post"]["requestBody"]["content"]
    assert "text/csv" in body


def test_an_unreadable_multipart_import_names_the_file(cast: Any) -> None:
    from cimaise.core.roles import Role
    from cimaise.core.tests.personas import make_persona

    officer = make_persona("buyer-x", cast.institution_a, [Role.PURCHASING], cast.site_a)
    response = officer.client().post(
        "/api/v1/purchasing/import/contracts", b"", content_type="multipart/form-data"
    )
    assert response.status_code == 422, response.content
    assert response.json()["error"]["details"]["field"] == "file"
