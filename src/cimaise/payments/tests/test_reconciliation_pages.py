"""The finance pages (/payments/reconciliation/) and the API (/api/v1/payments/reconciliations):
upload, a run with its differences, the CSV download, and who may see what."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from cimaise.core.roles import Role
from cimaise.core.tests.personas import Cast, Persona, make_persona
from cimaise.payments.models import ReconciliationRun
from cimaise.payments.reconciliation import CSV_COLUMNS
from cimaise.payments.tests.factories_reconciliation import (
    SANDBOX_1,
    SANDBOX_2,
    fixture,
    grants_sync,
    sandbox_csv,
    sandbox_day,
)

pytestmark = pytest.mark.django_db
PAGE = "/payments/reconciliation/"
API = "/api/v1/payments/reconciliations"
P1 = f"2020-01-02T10:15:00+01:00,{SANDBOX_1},sbx_tx_0001,payment,12.50,EUR,paid"


@pytest.fixture(autouse=True)
def _grants(db: object) -> None:
    grants_sync()


@pytest.fixture
def analyst_a(cast: Cast) -> Persona:
    return make_persona("analyst-a", cast.institution_a, [Role.ANALYST], cast.site_a)


@pytest.fixture
def manager_b(cast: Cast) -> Persona:
    return make_persona("ticketing-b", cast.institution_b, [Role.TICKETING_MANAGER], cast.site_b)


def upload(client: Client, data: bytes, *, provider: str = "sandbox", day: str = "2020-01-02") -> object:
    statement = SimpleUploadedFile("sandbox-2020-01-02.csv", data, content_type="text/csv")
    return client.post(PAGE, {"provider": provider, "day": day, "statement": statement})


@pytest.fixture
def reconciled(cast: Cast) -> ReconciliationRun:
    """A run of institution A's sandbox day with one difference (payment 2 not listed)."""
    sandbox_day(cast.institution_a)
    statement = fixture("sandbox_statement.csv").decode().splitlines()
    data = "\n".join(line for line in statement if SANDBOX_2 not in line).encode()
    client = cast.ticketing_manager_a.session_client()
    response = upload(client, data)
    assert response.status_code == 302  # type: ignore[attr-defined]
    return ReconciliationRun.objects.get()


def test_the_manager_uploads_a_statement_and_lands_on_its_run(
    cast: Cast, reconciled: ReconciliationRun
) -> None:
    page = cast.ticketing_manager_a.session_client().get(f"{PAGE}{reconciled.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-kind="missing_there"' in html and SANDBOX_2 in html
    assert 'class="scroll"' in html  # the tables scroll inside their wrapper at 360 px
    assert reverse("payments:reconciliation-csv", args=[reconciled.pk]) in html
    listing = cast.ticketing_manager_a.session_client().get(PAGE).content.decode()
    assert f'data-run="{reconciled.pk}"' in listing and 'enctype="multipart/form-data"' in listing


def test_a_bad_file_comes_back_on_the_form_naming_the_line(cast: Cast) -> None:
    response = upload(cast.ticketing_manager_a.session_client(), sandbox_csv(P1.replace("12.50", "12,5")))
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "Line 2" in response.content.decode()  # type: ignore[attr-defined]
    assert not ReconciliationRun.objects.exists()


def test_the_page_speaks_french(cast: Cast, reconciled: ReconciliationRun) -> None:
    client = cast.ticketing_manager_a.session_client()
    client.cookies["django_language"] = "fr"
    html = client.get(f"{PAGE}{reconciled.pk}/").content.decode()
    assert "Rapprochement" in html and "Payé ici, absent du relevé du prestataire" in html


def test_the_csv_download_lists_each_difference(cast: Cast, reconciled: ReconciliationRun) -> None:
    response = cast.ticketing_manager_a.session_client().get(f"{PAGE}{reconciled.pk}.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert [(r["kind"], r["out_trade_no"], r["our_amount"], r["our_currency"]) for r in rows] == [
        ("missing_there", SANDBOX_2, "30.00", "EUR")
    ]
    assert rows[0]["occurred_at"] == "2020-01-02T14:00:00+01:00"


def test_the_analyst_reads_runs_but_may_not_upload(analyst_a: Persona, reconciled: ReconciliationRun) -> None:
    client = analyst_a.session_client()
    assert client.get(f"{PAGE}{reconciled.pk}/").status_code == 200
    listing = client.get(PAGE).content.decode()
    assert f'data-run="{reconciled.pk}"' in listing and "multipart/form-data" not in listing
    assert upload(client, sandbox_csv()).status_code == 403  # type: ignore[attr-defined]


def test_a_gate_agent_gets_403_everywhere(cast: Cast, reconciled: ReconciliationRun) -> None:
    client = cast.gate_agent_a.session_client()
    for path in (PAGE, f"{PAGE}{reconciled.pk}/", f"{PAGE}{reconciled.pk}.csv"):
        assert client.get(path).status_code == 403
    assert upload(client, sandbox_csv()).status_code == 403  # type: ignore[attr-defined]
    assert cast.gate_agent_a.client().get(f"{API}/{reconciled.pk}").status_code == 403


def test_another_institution_sees_none_of_the_runs(manager_b: Persona, reconciled: ReconciliationRun) -> None:
    client = manager_b.session_client()
    assert f'data-run="{reconciled.pk}"' not in client.get(PAGE).content.decode()
    assert client.get(f"{PAGE}{reconciled.pk}/").status_code == 404
    assert client.get(f"{PAGE}{reconciled.pk}.csv").status_code == 404
    assert manager_b.client().get(f"{API}/{reconciled.pk}").status_code == 404


def test_the_nav_shows_reconciliation_to_those_who_may_read_it(cast: Cast, analyst_a: Persona) -> None:
    from cimaise.payments import panels

    panels.register()
    assert PAGE in analyst_a.session_client().get("/").content.decode()
    assert PAGE not in cast.gate_agent_a.session_client().get("/").content.decode()


def test_the_api_reconciles_a_multipart_upload_and_answers_201(cast: Cast) -> None:
    sandbox_day(cast.institution_a)
    statement = SimpleUploadedFile("s.csv", fixture("sandbox_statement.csv"), content_type="text/csv")
    response = cast.ticketing_manager_a.client().post(
        API, {"provider": "sandbox", "day": "2020-01-02", "statement": statement}
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["differences"], body["matched"], body["lines"]) == (0, 3, [])
    assert body["totals"] == [
        {
            "currency": "EUR",
            "provider_payments": "42.50",
            "provider_refunds": "12.50",
            "our_payments": "42.50",
            "our_refunds": "12.50",
        }
    ]
    again = cast.ticketing_manager_a.client().get(f"{API}/{body['id']}")
    assert again.status_code == 200 and again.json()["sha256"] == body["sha256"]


def test_the_api_refuses_a_bad_file_with_a_422_naming_statement_and_line(cast: Cast) -> None:
    statement = SimpleUploadedFile("s.csv", sandbox_csv("nonsense"), content_type="text/csv")
    response = cast.ticketing_manager_a.client().post(
        API, {"provider": "sandbox", "day": "2020-01-02", "statement": statement}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["details"] == {"field": "statement", "line": 2}
    assert not ReconciliationRun.objects.exists()


def test_the_api_refuses_the_wrong_personas(cast: Cast, analyst_a: Persona, anon_client: Client) -> None:
    def post(client: Client) -> int:
        statement = SimpleUploadedFile("s.csv", sandbox_csv(), content_type="text/csv")
        return client.post(
            API, {"provider": "sandbox", "day": "2020-01-02", "statement": statement}
        ).status_code

    assert post(cast.gate_agent_a.client()) == 403
    assert post(analyst_a.client()) == 403
    assert post(cast.partner_b.client()) == 403
    assert post(anon_client) == 401
    assert cast.ticketing_manager_a.client().get(f"{API}/999999").status_code == 404
