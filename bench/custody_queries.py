"""Custody reads on the demo transfer, each against the bare SQL lookup of the same rows.

Loads the demo (``cimaise demo --scale full``: 250,000 works, half of the programme's works moved
through the capture service; ``--scale small`` for a quick run) into a throw-away database, then
prints one JSON line per figure:

- ``custody_demo_load``: the whole demo load (every loader: places, people, works, programme,
  custody events) in works/s, against a raw ``executemany`` of the rows it leaves in its bulk
  tables (works, places, assignments, convoy items, custody events, event objects, ledger facts,
  object states, containment, presence, anomalies) into unconstrained copies, 5,000 rows a
  transaction, in works/s too.
- ``work_current_place``: ``object_state`` for K random works (one call each) against one bare
  ``SELECT`` of the work's ``moves_objectstate`` row by URI each; lookups/s.
- ``work_custody_chain``: ``custody_chain`` for K random works that travelled, against bare SQL
  for each: its containment intervals (to the depth the selector goes) and one join of
  ``moves_eventobject`` and ``moves_custodyevent`` rows naming the work, or one of its containers
  while it was inside; chains/s.
- ``convoy_reconciliation``: ``convoy_reconciliation`` of the first 700-work convoy against bare
  SQL reading the rows involved: the manifest (convoy items with inventories), the targets, the
  works' object states, their and their crates' containment, the convoy's events and the objects
  they name; reconciliations/s.
- ``programme_reconciliation``: ``programme_reconciliation`` of the whole programme against one
  bare join of its assignments (with inventory and target code) and the works' object states;
  works/s, with ``seconds``, the median wall time of one reconciliation.

Every timing is the median of ``--repeat`` runs. A ratio below 1 is slower than bare SQL. The
script checks the service and the SQL read the same number of rows and exits 1 if not.
Runs in a temporary var directory (SQLite unless ``DATABASE_URL`` says otherwise).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from _harness import emit, scratch_django

CHUNK = 5_000
RAW_PREFIX = "bench_raw_"
SEED = 20_191_007


def median_seconds(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The median wall time of ``repeat`` runs, and the last run's result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def emit_with(bench: str, *, metric: float, baseline: float, unit: str, n: int, **extra: float) -> None:
    """``emit``'s line with extra keys after the standard ones."""
    result: dict[str, Any] = {
        "bench": bench,
        "metric": round(metric, 1),
        "unit": unit,
        "baseline": round(baseline, 1),
        "ratio": round(metric / baseline, 3),
        "n": n,
    }
    print(json.dumps(result | {k: round(v, 3) for k, v in extra.items()}))


# --- the demo load and its raw baseline ---------------------------------------------------------


def _load_models() -> list[Any]:
    from cimaise.collection.models import Work
    from cimaise.core.models import Place
    from cimaise.ledger.models import Fact
    from cimaise.moves.models import (
        Anomaly,
        Assignment,
        Containment,
        ConvoyItem,
        CustodyEvent,
        EventObject,
        ObjectState,
        Presence,
    )

    return [
        Place, Work, Assignment, ConvoyItem, CustodyEvent, EventObject, Fact, ObjectState, Containment,
        Presence, Anomaly,
    ]  # fmt: skip


def _adapt(value: Any, connection: Any) -> Any:
    """A value read back, as a database parameter."""
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def load_demo(scale: str) -> float:
    """Seconds to load the demo at this scale (progress bars on stderr, logins swallowed)."""
    from django.core.management import call_command

    start = time.perf_counter()
    call_command("demo", "--scale", scale, "--no-serve", stdout=io.StringIO())
    return time.perf_counter() - start


def raw_reinsert() -> tuple[float, int]:
    """Seconds to insert every row of the demo's bulk tables again with ``executemany`` into
    plain copies (primary key only), ``CHUNK`` rows a transaction; and the row count."""
    from django.db import connection, transaction

    qn = connection.ops.quote_name
    tables = []
    with connection.cursor() as cursor:
        for model in _load_models():
            fields = model._meta.concrete_fields
            names = ", ".join(qn(str(f.column)) for f in fields)
            cursor.execute(f"SELECT {names} FROM {model._meta.db_table}")  # noqa: S608
            rows = [tuple(_adapt(v, connection) for v in row) for row in cursor.fetchall()]
            table = RAW_PREFIX + model._meta.db_table
            columns = ", ".join(
                f"{qn(str(f.column))} {f.db_type(connection)}{' PRIMARY KEY' if f.primary_key else ''}"
                for f in fields
            )
            cursor.execute(f"CREATE TABLE {table} ({columns})")
            insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608
            tables.append((table, insert, rows))
    start = time.perf_counter()
    for _table, insert, rows in tables:
        for offset in range(0, len(rows), CHUNK):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(insert, rows[offset : offset + CHUNK])
    elapsed = time.perf_counter() - start
    with connection.cursor() as cursor:
        for table, _insert, _rows in tables:
            cursor.execute(f"DROP TABLE {table}")
    return elapsed, sum(len(rows) for _t, _i, rows in tables)


# --- the bare SQL lookups -----------------------------------------------------------------------


def _fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows


def _marks(n: int) -> str:
    return ", ".join(["%s"] * n)


def _columns(model: Any, alias: str) -> str:
    return ", ".join(f"{alias}.{f.column}" for f in model._meta.concrete_fields)


def sql_state(institution_id: int, uri: str) -> list[tuple[Any, ...]]:
    from cimaise.moves.models import ObjectState

    columns = _columns(ObjectState, "s")
    sql = f"SELECT {columns} FROM moves_objectstate s WHERE s.institution_id = %s AND s.uri = %s"  # noqa: S608
    return _fetch(sql, [institution_id, uri])


Window = tuple[dt.datetime | None, dt.datetime | None]  # since (None: always), until (None: still)


def _clip(
    since: dt.datetime, until: dt.datetime | None, within: Window
) -> tuple[dt.datetime, dt.datetime | None] | None:
    """The interval [since, until) clipped to ``within`` (as the selector's ``_intersect``)."""
    start = since if within[0] is None else max(since, within[0])
    ends = [t for t in (until, within[1]) if t is not None]
    end = min(ends) if ends else None
    return None if end is not None and end <= start else (start, end)


def sql_chain(institution_id: int, uri: str) -> list[tuple[Any, ...]]:
    """The work's containers, level by level (four at most, as the selector), each interval
    clipped to the time its child was inside; then one join of the live events naming the work,
    or a container while the work was inside."""
    from cimaise.moves.models import CustodyEvent

    windows: list[tuple[str, dt.datetime, dt.datetime | None]] = []
    frontier: dict[str, list[Window]] = {uri: [(None, None)]}
    for _depth in range(4):
        if not frontier:
            break
        rows = _fetch(
            "SELECT child, parent, since, until FROM moves_containment "  # noqa: S608
            f"WHERE institution_id = %s AND child IN ({_marks(len(frontier))})",
            [institution_id, *frontier],
        )
        following: dict[str, list[Window]] = {}
        for child, parent, since, until in rows:
            for within in frontier[child]:
                clipped = _clip(since, until, within)
                if clipped is not None:
                    following.setdefault(parent, []).append(clipped)
                    windows.append((parent, *clipped))
        frontier = following
    branches = ["SELECT event_id FROM moves_eventobject WHERE institution_id = %s AND uri = %s"]
    params: list[Any] = [institution_id, uri]
    for parent, since, until in windows:  # each branch an index range on (institution, uri, event_time)
        branch = f"{branches[0]} AND event_time >= %s" + (" AND event_time < %s" if until else "")
        branches.append(branch)
        params += [institution_id, parent, since] + ([until] if until else [])
    sql = (
        f"SELECT {_columns(CustodyEvent, 'e')} FROM moves_custodyevent e "  # noqa: S608
        f"WHERE e.id IN ({' UNION '.join(branches)}) AND e.retracted = %s AND e.is_declaration = %s "
        "ORDER BY e.event_time, e.event_id"
    )
    return _fetch(sql, [*params, False, False])


def sql_convoy(institution: Any, convoy_id: int, programme_id: int | None, convoy_uri: str) -> int:
    """The rows a convoy reconciliation reads; returns the number of works on the manifest."""
    from cimaise.collection.models import work_uri
    from cimaise.moves.models import Containment, CustodyEvent, ObjectState

    items = _fetch(
        "SELECT i.work_id, i.crate_id, w.inventory, c.barcode FROM moves_convoyitem i "
        "JOIN collection_work w ON w.id = i.work_id LEFT JOIN moves_crate c ON c.id = i.crate_id "
        "WHERE i.convoy_id = %s",
        [convoy_id],
    )
    work_ids = [work_id for work_id, _c, _i, _b in items]
    programme = (
        "a.programme_id = %s"
        if programme_id
        else "a.programme_id IN (SELECT id FROM moves_programme WHERE active)"
    )
    _fetch(
        "SELECT a.work_id, a.target_id, p.code FROM moves_assignment a "  # noqa: S608
        f"JOIN core_place p ON p.id = a.target_id "
        f"WHERE {programme} AND a.work_id IN ({_marks(len(work_ids))})",
        [programme_id, *work_ids] if programme_id else work_ids,
    )
    uris = [work_uri(institution.code, inventory) for _w, _c, inventory, _b in items]
    for start in range(0, len(uris), 900):
        batch = uris[start : start + 900]
        _fetch(
            f"SELECT {_columns(ObjectState, 's')} FROM moves_objectstate s "  # noqa: S608
            f"WHERE s.institution_id = %s AND s.uri IN ({_marks(len(batch))})",
            [institution.pk, *batch],
        )
        _fetch(
            f"SELECT {_columns(Containment, 'c')} FROM moves_containment c "  # noqa: S608
            f"WHERE c.institution_id = %s AND c.child IN ({_marks(len(batch))})",
            [institution.pk, *batch],
        )
    events = _fetch(
        f"SELECT {_columns(CustodyEvent, 'e')} FROM moves_custodyevent e "  # noqa: S608
        "WHERE e.institution_id = %s AND e.biz_transaction = %s AND e.retracted = %s",
        [institution.pk, convoy_uri, False],
    )
    when = [f.column for f in CustodyEvent._meta.concrete_fields].index("event_time")
    events.sort(key=lambda row: row[when])  # in Python: ORDER BY makes SQLite walk the event_time index
    ids = [row[0] for row in events]
    named = _fetch(
        f"SELECT event_id, uri, role FROM moves_eventobject WHERE event_id IN ({_marks(len(ids))})",  # noqa: S608
        ids,
    )
    carriers = sorted(
        {uri for _e, uri, _r in named if uri.startswith(("urn:cimaise:crate:", "urn:cimaise:vehicle:"))}
    )
    _fetch(  # what was inside the truck and its crates while the convoy's events happened
        f"SELECT {_columns(Containment, 'c')} FROM moves_containment c "  # noqa: S608
        f"WHERE c.institution_id = %s AND c.parent IN ({_marks(len(carriers))}) AND c.since <= %s "
        "AND (c.until IS NULL OR c.until > %s)",
        [institution.pk, *carriers, events[-1][when], events[0][when]],
    )
    return len(items)


def sql_programme(institution_id: int, programme_id: int) -> list[tuple[Any, ...]]:
    return _fetch(
        "SELECT a.work_id, w.inventory, a.target_id, p.code, s.status, s.place_id, s.convoy, s.last_event_id "
        "FROM moves_assignment a JOIN collection_work w ON w.id = a.work_id "
        "JOIN core_place p ON p.id = a.target_id "
        "LEFT JOIN moves_objectstate s ON s.work_id = a.work_id AND s.institution_id = %s "
        "WHERE a.programme_id = %s",
        [institution_id, programme_id],
    )


# --- the figures --------------------------------------------------------------------------------


def bench_queries(k: int, repeat: int, programme_repeat: int) -> list[str]:
    """Time each read and print its line; returns what went wrong."""
    from cimaise.core.models import Institution
    from cimaise.moves.models import Convoy, ObjectState, Programme, Status
    from cimaise.moves.reconciliation import convoy_reconciliation, programme_reconciliation
    from cimaise.moves.selectors import custody_chain, object_state

    wrong: list[str] = []
    louvre = Institution.objects.get(code="louvre")
    rng = random.Random(SEED)
    works = sorted(ObjectState.objects.filter(institution=louvre, kind="work").values_list("uri", flat=True))
    stored = sorted(
        ObjectState.objects.filter(institution=louvre, kind="work", status=Status.STORED).values_list(
            "uri", flat=True
        )
    )
    some, travelled = rng.sample(works, min(k, len(works))), rng.sample(stored, min(k, len(stored)))

    service_s, found = median_seconds(lambda: [object_state(louvre, uri) for uri in some], repeat)
    sql_s, rows = median_seconds(lambda: [sql_state(louvre.pk, uri) for uri in some], repeat)
    if sum(s is not None for s in found) != sum(len(r) for r in rows) or not all(found):
        wrong.append("work_current_place: the selector and the SQL disagree")
    emit(
        "work_current_place",
        metric=len(some) / service_s,
        baseline=len(some) / sql_s,
        unit="works/s",
        n=len(some),
    )

    service_s, chains = median_seconds(lambda: [custody_chain(louvre, uri) for uri in travelled], repeat)
    sql_s, rows = median_seconds(lambda: [sql_chain(louvre.pk, uri) for uri in travelled], repeat)
    if [len(c) for c in chains] != [len(r) for r in rows]:
        wrong.append("work_custody_chain: the selector and the SQL found different events")
    unit = "chains/s"
    emit(
        "work_custody_chain",
        metric=len(travelled) / service_s,
        baseline=len(travelled) / sql_s,
        unit=unit,
        n=len(travelled),
    )

    convoy = Convoy.objects.select_related("institution").order_by("planned_departure", "code").first()
    assert convoy is not None  # noqa: S101  (the demo makes convoys)
    service_s, report = median_seconds(lambda: convoy_reconciliation(convoy), repeat)
    sql_s, expected = median_seconds(
        lambda: sql_convoy(louvre, convoy.pk, convoy.programme_id, convoy.uri), repeat
    )
    if report.expected != expected or report.steps["stored"]["observed"] != expected:
        wrong.append(f"convoy_reconciliation: {report.steps} for {expected} works")
    emit("convoy_reconciliation", metric=1 / service_s, baseline=1 / sql_s, unit="convoys/s", n=expected)

    programme = Programme.objects.select_related("institution").get(institution=louvre, code="P-CCL")
    service_s, report = median_seconds(lambda: programme_reconciliation(programme), programme_repeat)
    sql_s, rows = median_seconds(lambda: sql_programme(louvre.pk, programme.pk), programme_repeat)
    if report.expected != len(rows) or sum(report.summary.values()) != len(rows):
        wrong.append(f"programme_reconciliation: {report.summary} for {len(rows)} assignments")
    emit_with(
        "programme_reconciliation", metric=len(rows) / service_s, baseline=len(rows) / sql_s, unit="works/s",
        n=len(rows), seconds=service_s,
    )  # fmt: skip
    return wrong


def main() -> int:
    parser = argparse.ArgumentParser(description="Custody reads on the demo transfer vs bare SQL.")
    parser.add_argument(
        "--scale", choices=("small", "full"), default="full", help="demo scale (default full)"
    )
    parser.add_argument(
        "--k", type=int, default=200, help="random works for the per-work reads (default 200)"
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs per timing, median kept (default 5)")
    args = parser.parse_args()
    with scratch_django():
        from cimaise.collection.models import Work

        load_s = load_demo(args.scale)
        works = Work.objects.count()
        raw_s, _rows = raw_reinsert()
        emit("custody_demo_load", metric=works / load_s, baseline=works / raw_s, unit="works/s", n=works)
        wrong = bench_queries(args.k, args.repeat, args.repeat)
    if wrong:
        print("custody_queries: " + "; ".join(wrong), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
