"""Custody capture throughput against a raw ``executemany`` of the same rows.

Set-up (not timed): an institution with two sites 175 km apart (coordinates set, so the
impossible-travel check runs), a reserve shelf in Paris, a dock and a zone of shelves at the
conservation centre, a registrar (a real login with the registrar role, as ``make_persona`` makes
it), works on the reserve shelf, each with a target shelf in a programme, crates (reused from one
convoy to the next) and two trucks. Every work goes through the demo's journey, one convoy of
200 works every four days: a condition check per work, a packing aggregation per crate of 10,
loading, departure, arrival, unloading, acclimatisation of the crates, unpacking per crate and a
storing event per shelf (5 works a shelf). That is about 1.4 events a work, so the default
20,000 events move about 14,000 works. The event dicts are made first, sorted by event time, cut
into batches of 1,000 and each batch serialised as an EPCISDocument (JSON text).

Timed: for each batch, ``json.loads`` of the document (the service's real input is the request
body) and one ``custody_capture(actor=..., payload=...)`` call, which parses and checks the
events, appends their ledger facts and writes the event rows, the object index, the projections
(state, containment, presence) and any anomaly, in its own transaction. The clock stops between
batches while the bench notes the highest row id of each table, to know which rows each batch
wrote.

Baseline, in the same run: every row the capture left in the tables it writes (moves_custodyevent,
moves_eventobject, ledger_fact, ledger_streamhead, moves_objectstate, moves_containment,
moves_presence, moves_anomaly) is read back and inserted again with plain ``cursor.executemany``
into unconstrained copies of those tables (same columns, primary key only), one transaction per
batch holding the rows that batch wrote. Rows the capture wrote and later replaced (a work's state
is rewritten at each step) are not in the baseline: it inserts the final rows once.

Checks at the end (exit 1 if wrong): one event row and one custody fact per event, every work
stored on its target shelf, no anomaly, the copies hold as many rows as the originals.
Runs in a throw-away var directory (SQLite unless ``DATABASE_URL`` says otherwise).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from _harness import emit, scratch_django

BATCH = 1_000
CONVOY = 200  # works a convoy
PER_CRATE = 10
PER_SHELF = 5
CRATE_POOL = CONVOY // PER_CRATE  # one convoy's worth, reused
SPACING = dt.timedelta(days=4)  # between departures: a convoy is shelved before the next packs
FIRST_DEPARTURE = dt.datetime(2019, 10, 7, 7, 0, tzinfo=dt.UTC)
EVENTS_A_CONVOY = CONVOY + 2 * (CONVOY // PER_CRATE) + 5 + CONVOY // PER_SHELF
INSTITUTION = "bench"
ACCLIMATISING = "urn:cimaise:bizstep:acclimatising"
RAW_PREFIX = "bench_raw_"


@dataclass
class World:
    """The URIs the events name and the expected outcome (work id → target shelf id)."""

    works: list[str]
    work_ids: list[int]
    targets: list[int]  # target shelf id of each work
    shelf_uris: dict[int, str]
    room: str
    dock: str
    crates: list[str]
    trucks: list[str]
    convoys: list[str]


def _place(site: Any, code: str, kind: str, parent: Any, **extra: Any) -> Any:
    from cimaise.core.models import Place

    path = f"{parent.path}/{code}" if parent else code
    return Place.objects.create(
        institution=site.institution,
        site=site,
        code=code,
        name=code,
        kind=kind,
        parent=parent,
        path=path,
        **extra,
    )


def make_world(n_works: int) -> tuple[World, Any]:
    """The institution, its places, works, crates, trucks, programme and convoys; and the
    registrar's actor."""
    from cimaise.collection.models import Work, work_uri
    from cimaise.core import services
    from cimaise.core.actors import actor_for
    from cimaise.core.models import Institution, Place, Site, place_uri
    from cimaise.core.roles import Role
    from cimaise.moves.models import Assignment, Convoy, ConvoyItem, Crate, Programme, Vehicle, object_uri

    inst = Institution.objects.create(code=INSTITUTION, name="Bench museum")
    pal = Site.objects.create(
        institution=inst,
        code="PAL",
        name="Palais",
        latitude=Decimal("48.860611"),
        longitude=Decimal("2.337644"),
    )
    ccl = Site.objects.create(
        institution=inst, code="CCL", name="Centre", latitude=Decimal("50.4186"), longitude=Decimal("2.7817")
    )
    room = _place(pal, "PAL-R1", Place.Kind.ROOM, _place(pal, "PAL-B1", Place.Kind.BUILDING, None))
    reserve = _place(pal, "PAL-R1-S1", Place.Kind.SHELF, room)
    building = _place(ccl, "CCL-B1", Place.Kind.BUILDING, None)
    dock = _place(ccl, "CCL-DOCK", Place.Kind.ROOM, building)
    zone = _place(ccl, "CCL-Z1", Place.Kind.ROOM, building)
    shelves = Place.objects.bulk_create(
        Place(
            institution=inst, site=ccl, code=f"CCL-Z1-S{i:05d}", name=f"S{i:05d}", kind=Place.Kind.SHELF,
            parent=zone, path=f"{zone.path}/CCL-Z1-S{i:05d}", load_limit_kg=Decimal(500),
        )
        for i in range(-(-n_works // PER_SHELF))
    )  # fmt: skip
    works = Work.objects.bulk_create(
        (
            Work(
                institution=inst, inventory=f"INV {100000 + i}", title=f"Œuvre {i}", department="PEI",
                height_cm=Decimal(50), width_cm=Decimal(40), depth_cm=Decimal(5), weight_kg=Decimal(8),
                normal_place=reserve,
            )
            for i in range(n_works)
        ),
        batch_size=2000,
    )  # fmt: skip
    targets = [shelves[i // PER_SHELF].pk for i in range(n_works)]
    programme = Programme.objects.create(institution=inst, code="P-BENCH", name="Bench transfer")
    Assignment.objects.bulk_create(
        (
            Assignment(programme=programme, work=w, source=reserve, target_id=t)
            for w, t in zip(works, targets, strict=True)
        ),
        batch_size=2000,
    )
    crates = Crate.objects.bulk_create(
        Crate(institution=inst, barcode=f"CR{i:04d}") for i in range(CRATE_POOL)
    )
    trucks = Vehicle.objects.bulk_create(Vehicle(institution=inst, plate=f"GT-{i}") for i in range(2))
    convoys = []
    for k in range(-(-n_works // CONVOY)):
        convoy = Convoy.objects.create(
            institution=inst, code=f"CV-{k:04d}", programme=programme, vehicle=trucks[k % 2],
            origin=pal, destination=ccl, planned_departure=FIRST_DEPARTURE + k * SPACING,
        )  # fmt: skip
        chunk = works[k * CONVOY : (k + 1) * CONVOY]
        ConvoyItem.objects.bulk_create(
            ConvoyItem(convoy=convoy, work=w, crate=crates[i // PER_CRATE]) for i, w in enumerate(chunk)
        )
        convoys.append(object_uri("convoy", INSTITUTION, convoy.code))
    person = services.person_enroll(
        username="bench-registrar", institution=inst, roles=[Role.REGISTRAR], password=None, home_site=pal
    )
    actor = actor_for(person.user)
    world = World(
        works=[work_uri(INSTITUTION, w.inventory) for w in works],
        work_ids=[w.pk for w in works],
        targets=targets,
        shelf_uris={s.pk: place_uri(INSTITUTION, s.code) for s in shelves},
        room=place_uri(INSTITUTION, room.code),
        dock=place_uri(INSTITUTION, dock.code),
        crates=[object_uri("crate", INSTITUTION, c.barcode) for c in crates],
        trucks=[object_uri("vehicle", INSTITUTION, t.plate) for t in trucks],
        convoys=convoys,
    )
    return world, actor


def _event(kind: str, step: str, when: dt.datetime, **fields: Any) -> dict[str, Any]:
    action = fields.pop("action", "ADD" if kind == "AggregationEvent" else "OBSERVE")
    event = {"type": kind, "action": action, "bizStep": step, "eventTime": when.isoformat()}
    return event | {"eventTimeZoneOffset": "+00:00"} | fields


def convoy_events(w: World, k: int) -> list[dict[str, Any]]:
    """One convoy's journey, in the demo's steps and timing."""
    day = FIRST_DEPARTURE + k * SPACING
    works = w.works[k * CONVOY : (k + 1) * CONVOY]
    crates = w.crates[: -(-len(works) // PER_CRATE)]
    truck, link = w.trucks[k % 2], [{"type": "bol", "bizTransaction": w.convoys[k]}]
    loc = {"id": w.dock}
    events = [
        _event(
            "ObjectEvent", "inspecting", day - dt.timedelta(days=2, hours=-2, seconds=-40 * i),
            epcList=[uri], readPoint={"id": w.room}, disposition="conformant",
        )
        for i, uri in enumerate(works)
    ]  # fmt: skip
    for c, crate in enumerate(crates):
        inside = works[c * PER_CRATE : (c + 1) * PER_CRATE]
        events.append(
            _event(
                "AggregationEvent", "packing", day - dt.timedelta(days=1, hours=-3, minutes=-5 * c),
                parentID=crate, childEPCs=inside, bizLocation={"id": w.room},
            )
        )  # fmt: skip
    events += [
        _event("AggregationEvent", "loading", day - dt.timedelta(hours=1), parentID=truck, childEPCs=crates,
               bizTransactionList=link),
        _event("ObjectEvent", "departing", day, epcList=[truck], disposition="in_transit",
               bizTransactionList=link),
        _event("ObjectEvent", "arriving", day + dt.timedelta(hours=3, minutes=15), epcList=[truck],
               bizLocation=loc, readPoint=loc, bizTransactionList=link),
        _event("AggregationEvent", "unloading", day + dt.timedelta(hours=3, minutes=45), action="DELETE",
               parentID=truck, childEPCs=crates, bizLocation=loc, bizTransactionList=link),
        _event("ObjectEvent", ACCLIMATISING, day + dt.timedelta(hours=4), epcList=crates, bizLocation=loc),
    ]  # fmt: skip
    for c, crate in enumerate(crates):
        inside = works[c * PER_CRATE : (c + 1) * PER_CRATE]
        events.append(
            _event(
                "AggregationEvent", "unpacking", day + dt.timedelta(days=1, hours=4, minutes=3 * c),
                action="DELETE", parentID=crate, childEPCs=inside, bizLocation=loc,
            )
        )  # fmt: skip
    first = k * CONVOY
    for s in range(0, len(works), PER_SHELF):
        shelf = {"id": w.shelf_uris[w.targets[first + s]]}
        events.append(
            _event(
                "ObjectEvent", "storing", day + dt.timedelta(days=2, hours=2, minutes=2 * s // PER_SHELF),
                epcList=works[s : s + PER_SHELF], bizLocation=shelf, readPoint=shelf,
            )
        )  # fmt: skip
    return events


def documents(w: World) -> list[tuple[str, int]]:
    """Every convoy's events in event time, in EPCISDocuments of ``BATCH`` events (JSON text)."""
    events = [e for k in range(len(w.convoys)) for e in convoy_events(w, k)]
    events.sort(key=lambda e: e["eventTime"])
    docs = []
    for start in range(0, len(events), BATCH):
        batch = events[start : start + BATCH]
        document = {
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": batch[-1]["eventTime"],
            "epcisBody": {"eventList": batch},
        }
        docs.append((json.dumps(document), len(batch)))
    return docs


def _models() -> list[Any]:
    from cimaise.ledger.models import Fact, StreamHead
    from cimaise.moves.models import Anomaly, Containment, CustodyEvent, EventObject, ObjectState, Presence

    return [CustodyEvent, EventObject, Fact, StreamHead, ObjectState, Containment, Presence, Anomaly]


def _numbered(model: Any) -> bool:
    return bool(model._meta.pk.get_internal_type() in ("AutoField", "BigAutoField", "BigIntegerField"))


def _high_marks(models: list[Any]) -> list[int]:
    """The highest primary key of each table (0 for a table keyed otherwise)."""
    from django.db import connection

    marks = []
    with connection.cursor() as cursor:
        for model in models:
            if not _numbered(model):
                marks.append(0)
                continue
            cursor.execute(f"SELECT MAX({model._meta.pk.column}) FROM {model._meta.db_table}")  # noqa: S608
            marks.append(cursor.fetchone()[0] or 0)
    return marks


def bench_service(docs: list[tuple[str, int]], actor: Any) -> tuple[float, list[list[int]]]:
    """Seconds spent capturing the documents, one call each; and each table's highest row id
    after each call."""
    from cimaise.moves.services import custody_capture

    models = _models()
    marks = [_high_marks(models)]
    elapsed = 0.0
    for text, size in docs:
        start = time.perf_counter()
        result = custody_capture(actor=actor, payload=json.loads(text))
        elapsed += time.perf_counter() - start
        if result.recorded != size:
            raise RuntimeError(f"recorded {result.recorded} events of {size}")
        marks.append(_high_marks(models))
    return elapsed, marks


def _adapt(value: Any, connection: Any) -> Any:
    """A value read back, as a database parameter (what the capture handed the driver)."""
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def _rows(cursor: Any, model: Any) -> list[tuple[Any, ...]]:
    from django.db import connection

    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in model._meta.concrete_fields)
    pk = model._meta.pk.column
    cursor.execute(f"SELECT {columns} FROM {model._meta.db_table} ORDER BY {pk}")  # noqa: S608
    return [tuple(_adapt(v, connection) for v in row) for row in cursor.fetchall()]


def keyed_rows() -> set[tuple[Any, ...]]:
    """The rows of the tables keyed otherwise than by a number (the stream heads), as they are."""
    from django.db import connection

    with connection.cursor() as cursor:
        return {row for model in _models() if not _numbered(model) for row in _rows(cursor, model)}


def read_back(marks: list[list[int]], before: set[tuple[Any, ...]]) -> list[dict[Any, list[tuple[Any, ...]]]]:
    """Every row the capture wrote, as parameters, grouped by the batch that wrote it: numbered
    rows by the high marks; the stream heads it created or advanced go with the last batch."""
    from django.db import connection

    models = _models()
    batches: list[dict[Any, list[tuple[Any, ...]]]] = [{m: [] for m in models} for _ in marks[1:]]
    with connection.cursor() as cursor:
        for t, model in enumerate(models):
            rows = _rows(cursor, model)
            if not _numbered(model):
                batches[-1][model] = [row for row in rows if row not in before]
                continue
            rank = next(i for i, f in enumerate(model._meta.concrete_fields) if f.primary_key)
            b = 0
            for row in rows:
                if row[rank] <= marks[0][t]:
                    continue  # there before the capture (the registrar's enrolment fact)
                while row[rank] > marks[b + 1][t]:
                    b += 1
                batches[b][model].append(row)
    return batches


def bench_raw(batches: list[dict[Any, list[tuple[Any, ...]]]]) -> tuple[float, dict[str, int]]:
    """Seconds to insert the rows with ``executemany`` into plain copies of the tables, one
    transaction per batch; and the rows each copy holds."""
    from django.db import connection, transaction

    qn = connection.ops.quote_name
    inserts = {}
    with connection.cursor() as cursor:
        for model in batches[0]:
            fields = model._meta.concrete_fields
            table = RAW_PREFIX + model._meta.db_table
            columns = ", ".join(
                f"{qn(str(f.column))} {f.db_type(connection)}{' PRIMARY KEY' if f.primary_key else ''}"
                for f in fields
            )
            cursor.execute(f"CREATE TABLE {table} ({columns})")
            inserts[model] = (
                f"INSERT INTO {table} ({', '.join(qn(str(f.column)) for f in fields)}) "  # noqa: S608
                f"VALUES ({', '.join(['%s'] * len(fields))})"
            )
    start = time.perf_counter()
    for batch in batches:
        with transaction.atomic(), connection.cursor() as cursor:
            for model, rows in batch.items():
                if rows:
                    cursor.executemany(inserts[model], rows)
    elapsed = time.perf_counter() - start
    counts = {}
    with connection.cursor() as cursor:
        for model in batches[0]:
            table = RAW_PREFIX + model._meta.db_table
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
            counts[model._meta.db_table] = cursor.fetchone()[0]
            cursor.execute(f"DROP TABLE {table}")
    return elapsed, counts


def problems(w: World, n_events: int, copies: dict[str, int], written: dict[str, int]) -> list[str]:
    """What is wrong with the capture's result (nothing, if the journey went through)."""
    from cimaise.ledger.models import Fact
    from cimaise.moves import facts
    from cimaise.moves.models import Anomaly, CustodyEvent, ObjectState, Status

    found = []
    events = CustodyEvent.objects.count()
    captured = Fact.objects.filter(type=facts.CUSTODY_CAPTURED.name).count()
    if events != n_events or captured != n_events:
        found.append(f"{events} event rows and {captured} custody facts for {n_events} events")
    states = dict(
        ObjectState.objects.filter(kind="work", status=Status.STORED).values_list("work_id", "place_id")
    )
    misplaced = sum(states.get(work) != target for work, target in zip(w.work_ids, w.targets, strict=True))
    if misplaced:
        found.append(f"{misplaced} of {len(w.works)} works not stored on their target shelf")
    anomalies = list(Anomaly.objects.values_list("kind", flat=True)[:5])
    if anomalies:
        found.append(f"unexpected anomalies: {anomalies}")
    found += [
        f"{table}: {copies.get(table)} rows copied of {n}"
        for table, n in written.items()
        if copies.get(table) != n
    ]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description="Custody capture throughput vs raw executemany.")
    parser.add_argument(
        "--events", type=int, default=20_000, help="events to capture, about (default 20,000)"
    )
    args = parser.parse_args()
    convoys = max(1, round(args.events / EVENTS_A_CONVOY))
    with scratch_django():
        world, actor = make_world(convoys * CONVOY)
        docs = documents(world)
        n = sum(size for _, size in docs)
        before = keyed_rows()
        service_s, marks = bench_service(docs, actor)
        batches = read_back(marks, before)
        written = {m._meta.db_table: sum(len(b[m]) for b in batches) for m in _models()}
        raw_s, copies = bench_raw(batches)
        wrong = problems(world, n, copies, written)
    if wrong:
        print("custody_capture: " + "; ".join(wrong), file=sys.stderr)
        return 1
    emit("custody_capture", metric=n / service_s, baseline=n / raw_s, unit="events/s", n=n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
