"""The condition report form: a registrar records a report with alterations and a photo; bad
input is shown on the form; other roles and institutions are refused."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cimaise.core.tests.personas import Cast
from cimaise.moves.models import ConditionReport
from cimaise.moves.tests.factories import Transfer

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"pixels" * 20


def form_data(**extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "phase": "before", "overall": "2", "convoy": "CV-001", "notes": "Checked under raking light",
        "alt-TOTAL_FORMS": "6", "alt-INITIAL_FORMS": "0", "alt-MIN_NUM_FORMS": "0", "alt-MAX_NUM_FORMS": "6",
        "alt-0-zone": "frame", "alt-0-kind": "scratch", "alt-0-description": "lower left",
        "alt-1-zone": "canvas", "alt-1-kind": "craquelure",
    }  # fmt: skip
    return data | extra


def test_a_registrar_records_a_condition_report_from_the_form(cast: Cast, transfer: Transfer) -> None:
    work = transfer.works[0]
    url = f"/custody/works/{work.inventory}/condition/new"
    client = cast.registrar_a.session_client()
    page = client.get(url)
    assert page.status_code == 200 and "alt-5-zone" in page.content.decode()
    photo = SimpleUploadedFile("front.png", PNG, content_type="image/png")
    response = client.post(url, form_data(photos=photo))
    assert response.status_code == 302 and response["Location"] == "/custody/works/INV%207520/"
    report = ConditionReport.objects.get()
    assert (report.phase, report.overall, report.convoy) == ("before", 2, transfer.convoy)
    assert [a["zone"] for a in report.alterations] == ["frame", "canvas"]
    assert report.photos.count() == 1
    work_page = client.get(f"/custody/works/{work.inventory}/").content.decode()
    assert "condition/new" in work_page and "condition.pdf" in work_page


def test_a_bad_photo_is_shown_on_the_form_and_nothing_is_stored(cast: Cast, transfer: Transfer) -> None:
    url = f"/custody/works/{transfer.works[0].inventory}/condition/new"
    text = SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain")
    response = cast.registrar_a.session_client().post(url, form_data(photos=text))
    assert response.status_code == 400 and "photo 0 must be one of" in response.content.decode()
    assert not ConditionReport.objects.exists()


def test_only_roles_that_examine_works_get_the_form(cast: Cast, transfer: Transfer) -> None:
    url = f"/custody/works/{transfer.works[0].inventory}/condition/new"
    assert cast.gate_agent_a.session_client().get(url).status_code == 403
    assert cast.partner_b.session_client().get(url).status_code == 404
