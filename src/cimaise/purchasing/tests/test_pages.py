"""The register's pages: for purchasing officers and administrators only, in English and French;
the import page reports every problem and writes nothing; the home page shows the renewals."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cimaise.purchasing import csv_io, services
from cimaise.purchasing.models import Contract, Need
from cimaise.purchasing.rules import add_months
from cimaise.purchasing.tests.conftest import Register, make_spec


def test_the_register_shows_coverage_gaps_and_contracts(register: Register) -> None:
    services.contract_save(actor=register.officer.actor, spec=make_spec())
    client = register.officer.session_client()
    response = client.get("/purchasing/?on=2025-06-01")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-need="N-CLEAN" data-status="gap"' in html
    assert 'data-need="N-TRANSPORT" data-status="covered"' in html
    assert 'data-gaps="1"' in html
    assert "1 need is not covered." in html
    assert '<svg class="indicators-chart"' in html
    assert 'data-contract="C-1"' in html
    detail = client.get("/purchasing/contracts/C-1/")
    assert detail.status_code == 200
    assert 'data-renewal-on="2026-12-31"' in detail.content.decode()
    assert client.get("/purchasing/contracts/NOPE/").status_code == 404
    assert client.get("/purchasing/?on=yesterday").status_code == 400


def test_the_register_speaks_french(register: Register) -> None:
    client = register.officer.session_client()
    client.cookies["django_language"] = "fr"
    html = client.get("/purchasing/", headers={"accept-language": "fr"}).content.decode()
    assert "Registre des achats" in html
    assert "Besoins et leur couverture" in html


def test_only_officers_and_administrators_see_the_pages(register: Register) -> None:
    cast = register.cast
    for path in ("/purchasing/", "/purchasing/import/", "/purchasing/export/contracts.csv"):
        assert cast.registrar_a.session_client().get(path).status_code == 403, path
        assert cast.outsider.session_client().get(path).status_code == 403, path
        assert cast.admin_a.session_client().get(path).status_code == 200, path
    nav = cast.registrar_a.session_client().get("/").content.decode()
    assert "/purchasing/" not in nav
    assert 'href="/purchasing/"' in register.officer.session_client().get("/").content.decode()


def test_the_import_page_lists_every_problem_and_writes_nothing(register: Register) -> None:
    exported = csv_io.contracts_csv([])
    good = csv_io.spec_row(make_spec())
    bad = csv_io.spec_row(make_spec(reference="C-2", cpv_code="", max_amount="x"))
    text = exported + ",".join(good) + "\r\n" + ",".join(bad).replace("60100000-9", "") + "\r\n"
    upload = SimpleUploadedFile("contracts.csv", text.encode(), content_type="text/csv")
    response = register.officer.session_client().post("/purchasing/import/", {"file": upload})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-row="3" data-field="max_amount"' in html
    assert "nothing was imported" in html
    assert Contract.objects.count() == 0
    upload = SimpleUploadedFile("contracts.csv", (exported + ",".join(good) + "\r\n").encode())
    response = register.officer.session_client().post("/purchasing/import/", {"file": upload}, follow=True)
    assert "1 rows read: 1 contracts created, 0 changed, 0 unchanged." in response.content.decode()
    assert Contract.objects.count() == 1


def test_the_home_page_shows_renewals_ahead(register: Register) -> None:
    today = timezone.localdate()
    renewal = add_months(today, 2)
    services.contract_save(
        actor=register.officer.actor,
        spec=make_spec(start_on=today - dt.timedelta(days=300), end_on=renewal),
    )
    html = register.officer.session_client().get("/").content.decode()
    assert 'data-panel="purchasing.renewals"' in html
    assert 'data-renewal="C-1"' in html
    assert 'data-gaps="1"' in html
    assert (
        'data-panel="purchasing.renewals"'
        not in register.cast.registrar_a.session_client().get("/").content.decode()
    )


def test_an_officer_records_a_need_on_the_page(register: Register) -> None:
    client = register.officer.session_client()
    assert client.get("/purchasing/needs/new/").status_code == 200
    form = {"code": "N-SHUTTLE", "title": "Shuttle", "category": "travel", "site": "CCL", "recurring": "on"}
    response = client.post("/purchasing/needs/new/", form, follow=True)
    assert "Need N-SHUTTLE recorded." in response.content.decode()
    need = Need.objects.get(code="N-SHUTTLE")
    assert (need.site.code, need.recurring, need.category) == ("CCL", True, "travel")
    again = client.post("/purchasing/needs/new/", form)
    assert again.status_code == 422
    assert "need &#x27;N-SHUTTLE&#x27; exists already" in again.content.decode()
    assert client.post("/purchasing/needs/new/", {**form, "code": "N-2", "site": "LYON"}).status_code == 422
    assert register.cast.registrar_a.session_client().post("/purchasing/needs/new/", form).status_code == 403
    assert Need.objects.count() == 3
