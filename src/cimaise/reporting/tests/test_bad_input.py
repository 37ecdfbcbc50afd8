"""Bad input never makes a reporting page, export or the monthly PDF answer 5xx: every bad filter
is a 4xx naming its field, an empty store is an empty but valid page, and a second "build now"
while one runs is refused politely."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from cimaise.core.tests.personas import Cast
from cimaise.reporting import build, store
from cimaise.reporting.build import facts_build
from cimaise.reporting.dashboards import DASHBOARDS
from cimaise.reporting.tests.conftest import World

pytestmark = pytest.mark.django_db

BAD = [
    ("start=2019-13-01", "start"),
    ("start=0000-01-01", "start"),
    ("end=2019-02-30", "end"),
    ("start=0001-01-01&end=9999-12-31", "start"),
    ("start=0001-01-01&end=0001-01-31", "start"),  # the year before does not exist
    ("end=0001-01-10", "end"),  # the default 31 days would start before year 1
    ("start=1899-12-31&end=1900-01-10", "start"),
    ("start=2019-10-31&end=2019-10-01", "end"),
    ("start=2019-10-01%00&end=2019-10-31", "start"),
    ("entrance=NOPE", "entrance"),
    ("entrance=PYR%00", "entrance"),
    ("product=%27%3B%20DROP%20TABLE%20entries%3B%20--", "product"),
    ("channel=web%27%20OR%20%271%27%3D%271", "channel"),
    ("channel=web&channel=fax", "channel"),  # the last value counts
]


@pytest.fixture
def built(world: World) -> World:
    facts_build()
    return world


def test_bad_filters_are_4xx_naming_the_field_on_pages_and_exports(built: World) -> None:
    """One world for every case (each case on every dashboard, page and exports)."""
    client = built.analyst.session_client()
    for query, field in BAD:
        for key, dashboard in DASHBOARDS.items():
            if field in ("entrance", "product", "channel") and field not in dashboard.filters:
                continue  # a dashboard without that filter ignores it
            response = client.get(f"/reporting/{key}/?{query}")
            assert response.status_code == 422, (key, query, response.status_code)
            assert field in response.content.decode(), (key, query)
            table = dashboard.tables[0].key
            for fmt in ("csv", "xlsx") if key == "attendance" else ("csv",):  # same view
                response = client.get(f"/reporting/{key}/{table}.{fmt}?{query}")
                assert response.status_code == 422, (key, fmt, query, response.status_code)


def test_repeated_good_parameters_and_extreme_valid_periods_answer_200(built: World) -> None:
    client = built.analyst.session_client()
    for query in (
        "start=2019-10-01&start=2019-10-02&end=2019-10-31&end=2019-10-30",
        "start=1900-01-01&end=1900-12-31",
        "start=9999-01-01&end=9999-12-31",
        "start=2019-10-01&end=2019-10-31&entrance=PYR&entrance=PYR",
        "end=1900-01-05",
        "start=9999-12-01&end=9999-12-31",
    ):
        for key, dashboard in DASHBOARDS.items():
            assert client.get(f"/reporting/{key}/?{query}").status_code == 200, (key, query)
            assert client.get(f"/reporting/{key}/{dashboard.tables[0].key}.csv?{query}").status_code == 200


def test_unknown_export_formats_and_tables_are_404(built: World) -> None:
    client = built.analyst.session_client()
    assert client.get("/reporting/sales/by-day.pdf").status_code == 404
    assert client.get("/reporting/sales/by-day.csv.xlsx").status_code == 404
    assert client.get("/reporting/sales/nope.xlsx").status_code == 404


def test_dashboards_read_before_any_build_are_empty_but_valid(world: World) -> None:
    assert not store.has_files("entries")
    client = world.analyst.session_client()
    assert client.get("/reporting/").status_code == 200
    for key, dashboard in DASHBOARDS.items():
        assert client.get(f"/reporting/{key}/").status_code == 200, key
        assert client.get(f"/reporting/{key}/?start=2019-10-01&end=2019-10-31").status_code == 200, key
        for spec in dashboard.tables:
            for fmt in ("csv", "xlsx"):
                assert client.get(f"/reporting/{key}/{spec.key}.{fmt}").status_code == 200, (key, spec.key)


def test_build_now_while_a_build_runs_is_refused_without_error(world: World) -> None:
    client = world.analyst.session_client()
    with build._build_lock():  # another build holds the lock
        response = client.post("/reporting/build/")
        assert response.status_code == 302
    assert client.post("/reporting/build/").status_code == 302
    assert client.post("/reporting/build/").status_code == 302  # twice in a row: nothing new


BAD_MONTHS = [
    "2019-13",
    "2019-00",
    "0000-01",
    "1899-12",
    "２０１９-10",
    "2019-1",
    "2019-10-01",
    "x",
    "2019-10\x00",
]


def test_a_bad_month_for_the_pdf_is_a_command_error_naming_it(cast: Cast, tmp_path: Path) -> None:
    for month in BAD_MONTHS:
        with pytest.raises(CommandError, match="month"):
            call_command(
                "report", "pdf", "--month", month, "-o", str(tmp_path / "x.pdf"), "--institution", "louvre"
            )


def test_the_last_month_of_the_calendar_is_a_valid_pdf_month() -> None:
    from cimaise.reporting.params import month_parse

    assert month_parse("9999-12")[1].isoformat() == "9999-12-31"


def test_text_with_control_characters_or_a_formula_exports_as_plain_text(world: World) -> None:
    import io

    from openpyxl import load_workbook  # type: ignore[import-untyped]

    from cimaise.collection.models import Work

    Work.objects.filter(department="AO").update(department='=HYPERLINK("http://x")\x0b')
    facts_build()
    client = world.analyst.session_client()
    response = client.get("/reporting/transfers/by-department.xlsx?start=2019-09-01&end=2019-10-31")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [c for row in sheet.iter_rows() for c in row if c.value and str(c.value).startswith("=")]
    assert cells and all(c.data_type == "s" for c in cells)
    csv = client.get("/reporting/transfers/by-department.csv?start=2019-09-01&end=2019-10-31")
    assert csv.status_code == 200


def test_another_institution_sees_none_of_the_figures(built: World) -> None:
    from cimaise.core.roles import Role
    from cimaise.core.tests.personas import make_persona

    cast = built.cast
    other = make_persona("analyst-b", cast.institution_b, [Role.ANALYST], cast.site_b).session_client()
    period = "start=2019-10-01&end=2019-10-31"
    for key, dashboard in DASHBOARDS.items():
        for spec in dashboard.tables:
            response = other.get(f"/reporting/{key}/{spec.key}.csv?{period}")
            assert response.status_code == 200, (key, spec.key)
            lines = response.content.decode().splitlines()[1:]
            if key == "passes" and spec.key == "by-site":
                assert [line.split(",")[0] for line in lines] == ["ORSAY"]
                continue
            if key == "passes":  # Orsay's own site: its one scan
                assert sum(int(line.split(",")[1]) for line in lines) == 1
                continue
            numbers = [cell for line in lines for cell in line.split(",")[1:]]
            assert all(float(n) == 0 for n in numbers if n), (key, spec.key, lines)
    # the Louvre's entrances are no filter choice for Orsay
    assert other.get(f"/reporting/attendance/?{period}&entrance=PYR").status_code == 422


def test_a_whole_leap_year_is_one_period_but_a_day_more_is_not(built: World) -> None:
    client = built.analyst.session_client()
    assert client.get("/reporting/sales/?start=2020-01-01&end=2020-12-31").status_code == 200
    assert client.get("/reporting/sales/?start=2019-01-01&end=2019-12-31").status_code == 200
    response = client.get("/reporting/sales/?start=2019-01-01&end=2020-01-01")
    assert response.status_code == 422 and "start" in response.content.decode()


def test_the_build_task_while_a_build_runs_says_so(world: World) -> None:
    from cimaise.reporting.tasks import facts_build_task

    with build._build_lock():
        assert facts_build_task.call() == "a build is already running"
