"""Reporting at full scale: a year of visits in the 2019 shape (about 9.7 million entries and 1.9
million orders) written by the demo generator straight to Parquet; each dashboard's queries in
DuckDB against the same GROUP BY queries in SQLite over the same rows loaded into a SQLite file
(indexed on the day), in the same run; then the incremental build's rate (rows/s, database →
Parquet) against a plain pyarrow write of the same rows.

One JSON line per figure; dashboards: ``metric`` DuckDB ms, ``baseline`` SQLite ms, ``speedup``.
"""

# ruff: noqa: E501  (SQL reads better unwrapped)

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from _harness import scratch_django  # noqa: E402

YEAR = (dt.date(2019, 1, 1), dt.date(2019, 12, 31))
BUILD_ROWS = int(os.environ.get("BENCH_REPORTING_BUILD_ROWS", "200000"))
INCREMENT = BUILD_ROWS // 4


def best(fn: Callable[[], object], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def line(bench: str, **fields: object) -> None:
    print(json.dumps({"bench": bench, **fields}), flush=True)


# --- the SQLite baseline ------------------------------------------------------------------------

ENTRY_COLS = "id, institution, day, hour, entrance, product, channel, free_category, result, direction, reason, source, people, slot_id"
ORDER_COLS = "institution, day, channel, provider, state, total, quantity, payment_id, product, entrance"


def sqlite_load(path: Path) -> sqlite3.Connection:
    """The same rows as the Parquet facts, in a SQLite file (dates as ISO text)."""
    import duckdb

    from cimaise.reporting import store

    db = sqlite3.connect(path)
    db.executescript(f"""
        PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
        CREATE TABLE entries ({ENTRY_COLS});
        CREATE TABLE orders ({ORDER_COLS});
        CREATE TABLE refunds (institution, day, payment_id, amount, state);
        CREATE TABLE slots (id, institution, day, product, entrance, capacity, taken, at);
        CREATE TABLE entry_cancellations (entry_id);
    """)
    duck = duckdb.connect()
    for table, cols in (
        ("entries", ENTRY_COLS), ("orders", ORDER_COLS), ("refunds", "institution, day, payment_id, amount, state"),
        ("slots", "id, institution, day, product, entrance, capacity, taken, epoch(\"at\")"),
    ):  # fmt: skip
        select = cols.replace("day,", "CAST(day AS VARCHAR),").replace("total,", "CAST(total AS DOUBLE),")
        select = select.replace("amount,", "CAST(amount AS DOUBLE),")
        cursor = duck.execute(f"SELECT {select} FROM read_parquet('{store.source_glob(table)}')")  # noqa: S608
        marks = ", ".join("?" * len(cols.split(",")))
        while batch := cursor.fetchmany(200_000):
            db.executemany(f"INSERT INTO {table} VALUES ({marks})", batch)  # noqa: S608
    db.executescript("""
        CREATE INDEX entries_day ON entries (institution, day);
        CREATE INDEX orders_day ON orders (institution, day);
        CREATE INDEX refunds_day ON refunds (institution, day);
        CREATE INDEX slots_day ON slots (institution, day);
        CREATE INDEX cancel_entry ON entry_cancellations (entry_id);
        ANALYZE;
    """)
    db.commit()
    return db


VISITS = """FROM entries e WHERE e.institution = 'louvre' AND e.day BETWEEN ? AND ?
  AND e.result = 'accepted' AND e.direction = 'in' AND e.reason <> 'reentry'
  AND NOT EXISTS (SELECT 1 FROM entry_cancellations c WHERE c.entry_id = e.id)"""
FRAUD = """sum(e.result = 'rejected' AND e.reason = 'forged'), sum(e.result = 'rejected' AND e.reason = 'already_used'),
  sum(e.result = 'rejected' AND e.reason IN ('revoked', 'wrong_entrance', 'unpaid')), sum(e.result = 'rejected'),
  sum(e.source = 'override'), sum(e.source = 'offline')"""
PAID = "FROM orders o WHERE o.institution = 'louvre' AND o.day BETWEEN ? AND ? AND o.state IN ('paid', 'refunded')"

SQLITE_QUERIES: dict[str, list[str]] = {
    "attendance": [
        f"SELECT e.day, sum(e.people) {VISITS} GROUP BY 1",
        f"SELECT e.hour, sum(e.people) {VISITS} GROUP BY 1",
        f"SELECT e.entrance, sum(e.people) {VISITS} GROUP BY 1",
        f"SELECT coalesce(e.free_category, 'paying'), sum(e.people) {VISITS} GROUP BY 1",
    ],
    "slots": [
        f"""WITH s AS (SELECT * FROM slots WHERE institution = 'louvre' AND day BETWEEN ?1 AND ?2),
            v AS (SELECT e.slot_id, sum(e.people) AS entered {VISITS.replace("?", "?", 2)} AND e.slot_id IN (SELECT id FROM s) GROUP BY 1)
            SELECT s.{key}, count(*), sum(capacity), sum(taken), coalesce(sum(v.entered), 0),
                   sum(max(s.taken - coalesce(v.entered, 0), 0))
            FROM s LEFT JOIN v ON v.slot_id = s.id GROUP BY 1""".replace(
            "BETWEEN ? AND ?", "BETWEEN ?1 AND ?2"
        )
        for key in ("day", "product")
    ],
    "sales": [
        f"SELECT o.day, o.channel, count(*), sum(o.total) {PAID} GROUP BY 1, 2",
        f"SELECT o.channel, count(*), sum(o.quantity), sum(o.total) {PAID} GROUP BY 1",
        f"SELECT o.provider, count(*), sum(o.total) {PAID} GROUP BY 1",
        "SELECT r.day, sum(r.amount) FROM refunds r JOIN orders o ON o.payment_id = r.payment_id "
        "WHERE r.institution = 'louvre' AND r.state = 'succeeded' AND r.day BETWEEN ? AND ? GROUP BY 1",
        "SELECT o.channel, sum(r.amount) FROM refunds r JOIN orders o ON o.payment_id = r.payment_id "
        "WHERE r.institution = 'louvre' AND r.state = 'succeeded' AND r.day BETWEEN ? AND ? GROUP BY 1",
    ],
    "fraud": [
        f"SELECT e.day, {FRAUD} FROM entries e WHERE e.institution = 'louvre' AND e.day BETWEEN ? AND ? GROUP BY 1",
        f"SELECT e.entrance, {FRAUD} FROM entries e WHERE e.institution = 'louvre' AND e.day BETWEEN ? AND ? GROUP BY 1",
    ],
}


def sqlite_dashboard(db: sqlite3.Connection, key: str) -> None:
    start, end = YEAR[0].isoformat(), YEAR[1].isoformat()
    before = (start.replace("2019", "2018"), end.replace("2019", "2018"))
    for sql in SQLITE_QUERIES[key]:
        db.execute(sql, (start, end)).fetchall()
        if key == "attendance":
            db.execute(sql, before).fetchall()


# --- the build rate -----------------------------------------------------------------------------


def _entries_insert(first: int, count: int) -> None:
    from django.db import connection

    from cimaise.access.models import Entrance, Lane

    lane = Lane.objects.select_related("entrance").get(code="T1")
    entrance: Entrance = lane.entrance
    start = dt.datetime(2019, 10, 1, 7, tzinfo=dt.UTC)
    rows = [
        (entrance.institution_id, entrance.id, lane.id, "", "in", f"b-{i}", start + dt.timedelta(seconds=i * 3),
         start + dt.timedelta(seconds=i * 3), "bench", "accepted", "ok", 1, "online", "", "")
        for i in range(first, first + count)
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO access_entry (institution_id, entrance_id, lane_id, code_id, direction, nonce, "
            "scanned_at, recorded_at, operator, result, reason, people, source, override_reason, central_reason) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )


def build_rate() -> None:
    import pyarrow.parquet as pq

    from cimaise.access.models import Entrance, Lane
    from cimaise.core.models import Institution, Site
    from cimaise.reporting import store
    from cimaise.reporting.build import facts_build, to_table
    from cimaise.reporting.sources import ENTRIES

    institution = Institution.objects.create(code="louvre", name="Louvre")
    site = Site.objects.create(institution=institution, code="PAL", name="Palais")
    entrance = Entrance.objects.create(institution=institution, site=site, code="PYR", name="Pyramide")
    Lane.objects.create(entrance=entrance, code="T1")
    _entries_insert(0, BUILD_ROWS)
    facts_build()  # the first build
    _entries_insert(BUILD_ROWS, INCREMENT)
    started = time.perf_counter()
    result = facts_build()
    build_s = time.perf_counter() - started
    rows = list(ENTRIES.queryset().filter(id__gt=BUILD_ROWS).values_list(*ENTRIES.fields))
    table = to_table(ENTRIES, rows)
    target = store.reporting_dir() / "plain.parquet"
    write_s = best(lambda: pq.write_table(table, target), runs=3)
    line(
        "reporting.build.incremental", metric=round(result.rows["entries"] / build_s), unit="rows/s",
        baseline=round(len(rows) / write_s), ratio=round((result.rows["entries"] / build_s) / (len(rows) / write_s), 3),
        n=result.rows["entries"], note="baseline: pyarrow write of the same rows already in memory",
    )  # fmt: skip


def main() -> None:
    with scratch_django() as var_dir:
        from django.utils import timezone

        from cimaise.reporting import synthetic
        from cimaise.reporting.dashboards import DASHBOARDS, dashboard_run
        from cimaise.reporting.queries import Filters

        started = time.perf_counter()
        counts = synthetic.synthetic_write(synthetic.Span("01-01", "12-31", (2019,)))
        generate_s = time.perf_counter() - started
        line("reporting.synthetic.write", metric=round(counts["entries"] / generate_s), unit="rows/s",
             baseline=None, ratio=None, n=counts["entries"], seconds=round(generate_s, 1), rows=counts)  # fmt: skip
        started = time.perf_counter()
        db = sqlite_load(Path(var_dir) / "baseline.sqlite3")
        load_s = time.perf_counter() - started
        f = Filters("louvre", *YEAR)
        now = timezone.now()
        for key in ("attendance", "slots", "sales", "fraud", "transfers"):
            duck = best(lambda key=key: dashboard_run(DASHBOARDS[key], f, now))  # type: ignore[misc]
            if key in SQLITE_QUERIES:
                lite = best(lambda key=key: sqlite_dashboard(db, key), runs=1)  # type: ignore[misc]
                line(f"reporting.dashboard.{key}", metric=round(duck * 1000, 1), unit="ms",
                     baseline=round(lite * 1000, 1), ratio=round(duck / lite, 4), speedup=round(lite / duck, 1),
                     n=counts["entries"], sqlite_load_s=round(load_s, 1))  # fmt: skip
            else:
                line(f"reporting.dashboard.{key}", metric=round(duck * 1000, 1), unit="ms", baseline=None,
                     ratio=None, n=0, note="no synthetic transfers: only the database's convoys")  # fmt: skip
        db.close()
        synthetic.clear_all()
        build_rate()


if __name__ == "__main__":
    main()
