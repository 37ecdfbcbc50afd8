"""The synthetic visits keep the 2019 shape: closed on Tuesdays, 30,000–50,000 visitors a day at
full scale (scaled down for the small slice), busier at 10–11 than at 17, the Léonard de Vinci
exhibition with its own slots from 24 October 2019 only; and the dashboards read them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pytest
from django.utils import timezone

from cimaise.core.demo import loaders
from cimaise.reporting import store, synthetic
from cimaise.reporting.dashboards import DASHBOARDS, dashboard_run
from cimaise.reporting.queries import Filters

SMALL = synthetic.SMALL


@pytest.fixture(scope="module")
def synthetic_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("synthetic")


@pytest.fixture
def con(synthetic_dir: Path, settings: Any) -> duckdb.DuckDBPyConnection:
    settings.REPORTING_DIR = synthetic_dir
    if not store.has_files("entries"):
        synthetic.synthetic_write(SMALL)
    connection = duckdb.connect()
    connection.execute(f"CREATE VIEW e AS SELECT * FROM read_parquet('{store.source_glob('entries')}')")
    connection.execute(f"CREATE VIEW s AS SELECT * FROM read_parquet('{store.source_glob('slots')}')")
    return connection


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[object, ...]]:
    return [tuple(r) for r in con.execute(sql).fetchall()]


def test_the_museum_is_closed_on_tuesdays(con: duckdb.DuckDBPyConnection) -> None:
    assert _rows(con, "SELECT count(*) FROM e WHERE isodow(day) = 2") == [(0,)]


def test_each_open_day_has_30_to_50_thousand_visitors_at_scale(con: duckdb.DuckDBPyConnection) -> None:
    per_day = "SELECT day, count(*) FILTER (WHERE result = 'accepted') AS n FROM e GROUP BY 1"
    low, high = _rows(con, f"SELECT min(n), max(n) FROM ({per_day})")[0]  # noqa: S608
    assert synthetic.DAY_MIN * SMALL.scale - 1 <= float(low)  # type: ignore[arg-type]
    assert float(high) <= synthetic.DAY_MAX * SMALL.scale  # type: ignore[arg-type]


def test_late_morning_is_busier_than_the_last_hour(con: duckdb.DuckDBPyConnection) -> None:
    counts: dict[Any, Any] = {r[0]: r[1] for r in _rows(con, "SELECT hour, count(*) FROM e GROUP BY 1")}
    assert counts[10] > 2 * counts[17]
    assert min(counts) == 9


def test_the_exhibition_and_its_slots_start_on_24_october_2019(con: duckdb.DuckDBPyConnection) -> None:
    first = _rows(con, "SELECT min(day) FROM e WHERE product = 'LEONARD'")[0][0]
    assert first == dt.date(2019, 10, 24)
    starts = _rows(con, "SELECT min(day), count(*) FROM s")[0]
    assert starts[0] == dt.date(2019, 10, 24) and int(starts[1]) > 0  # type: ignore[call-overload]
    assert _rows(con, "SELECT count(*) FROM e WHERE slot_id IS NOT NULL AND product <> 'LEONARD'") == [(0,)]


@pytest.mark.django_db
def test_the_dashboards_read_the_synthetic_facts(con: duckdb.DuckDBPyConnection) -> None:
    f = Filters("louvre", dt.date(2019, 10, 14), dt.date(2019, 11, 3))
    tables = {t.spec.key: t for t in dashboard_run(DASHBOARDS["attendance"], f, timezone.now())}
    total = sum(r[1] for r in tables["by-day"].rows)
    expected = _rows(con, "SELECT count(*) FROM e WHERE result = 'accepted' AND year(day) = 2019")[0][0]
    assert total == expected
    assert sum(r[2] for r in tables["by-day"].rows) > 0  # the year before is there too
    assert "reporting.facts" in [loader.name for loader in loaders()]
