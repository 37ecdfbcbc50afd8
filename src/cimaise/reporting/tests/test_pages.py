"""The reporting pages and exports: who may read them, bad filters named, CSV and XLSX of any
table, the build button, and the monthly PDF with the month's totals."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from openpyxl import load_workbook  # type: ignore[import-untyped]

from cimaise.core.tests.requirements import unmet
from cimaise.reporting import store
from cimaise.reporting.build import facts_build
from cimaise.reporting.dashboards import DASHBOARDS
from cimaise.reporting.tests.conftest import World
from cimaise.ticketing.models import Order

pytestmark = pytest.mark.django_db
PERIOD = "start=2019-10-01&end=2019-10-31"


@pytest.fixture
def built(world: World) -> World:
    facts_build()
    return world


def test_each_dashboard_shows_its_charts_and_tables(built: World) -> None:
    client = built.analyst.session_client()
    for key, dashboard in DASHBOARDS.items():
        response = client.get(f"/reporting/{key}/?{PERIOD}")
        assert response.status_code == 200, key
        html = response.content.decode()
        assert html.count('data-table="') == len(dashboard.tables)
        assert '<svg class="chart"' in html and '<rect class="bar"' in html, key


def test_only_analysts_and_administrators_read_the_reports(built: World) -> None:
    assert built.cast.gate_agent_a.session_client().get("/reporting/attendance/").status_code == 403
    assert built.cast.admin_a.session_client().get("/reporting/").status_code == 200
    assert built.cast.gate_agent_a.session_client().get("/reporting/sales/by-day.csv").status_code == 403
    assert built.cast.gate_agent_a.session_client().post("/reporting/build/").status_code == 403


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=2019-13-01", "start"),
        ("end=yesterday", "end"),
        ("start=2019-10-31&end=2019-10-01", "end"),
        ("start=2017-01-01&end=2019-10-01", "start"),
        ("entrance=NOPE", "entrance"),
        ("channel=fax", "channel"),
        ("product=%3Cscript%3E", "product"),
    ],
)
def test_a_bad_filter_is_a_4xx_naming_the_field(built: World, query: str, field: str) -> None:
    client = built.analyst.session_client()
    response = client.get(f"/reporting/attendance/?{query}")
    assert response.status_code == 422
    assert field in response.content.decode()
    assert client.get(f"/reporting/attendance/by-day.csv?{query}").status_code == 422


def test_unknown_dashboards_and_tables_are_404(built: World) -> None:
    client = built.analyst.session_client()
    assert client.get("/reporting/nope/").status_code == 404
    assert client.get("/reporting/sales/nope.csv").status_code == 404


def test_any_table_exports_as_csv_and_xlsx(built: World) -> None:
    client = built.analyst.session_client()
    csv_text = client.get(f"/reporting/sales/by-channel.csv?{PERIOD}").content.decode()
    lines = csv_text.splitlines()
    assert lines[0] == "channel,orders,tickets,revenue,refunds"
    assert "desk,1,2,22.00,0.00" in lines
    response = client.get(f"/reporting/attendance/by-entrance.xlsx?{PERIOD}&entrance=PYR")
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("entrance", "visitors", "year_before")
    assert rows[1][0] == "PYR" and len(rows) == 2


def test_the_build_button_builds(world: World) -> None:
    client = world.analyst.session_client()
    assert not store.has_files("entries")
    response = client.post("/reporting/build/")
    assert response.status_code == 302
    assert store.has_files("entries")
    assert "Last built" in client.get("/reporting/").content.decode()


def test_the_pages_speak_french(built: World) -> None:
    client = built.analyst.session_client()
    client.cookies["django_language"] = "fr"
    html = client.get(f"/reporting/attendance/?{PERIOD}", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Fréquentation" in html and "Visiteurs par jour" in html


def test_the_monthly_pdf_holds_the_month_totals(built: World, tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        unmet("needs pdftotext (Debian poppler-utils; .ci/run installs it)")
    out = tmp_path / "2019-10.pdf"
    call_command("report", "pdf", "--month", "2019-10", "-o", str(out), "--institution", "louvre")
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Monthly report" in text and "October 2019" in text
    assert "Visitors" in text and " 15" in text  # the month's visitors
    revenue = Order.objects.filter(state__in=["paid", "refunded"]).aggregate(t=Sum("total"))["t"]
    assert f"{revenue:.2f}" in text  # every order of the world was sold in October 2019
    assert "17.00" in text  # the refund


def test_a_bad_month_is_refused_naming_it(built: World, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="month"):
        call_command("report", "pdf", "--month", "2019-13", "-o", str(tmp_path / "x.pdf"))
