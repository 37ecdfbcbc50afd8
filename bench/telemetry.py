"""Telemetry ingestion throughput against a raw ``executemany`` of the same reading rows.

Set-up (not timed): an institution with the Paris palace and the conservation centre 175 km
apart, the centre's building, a truck fitted with a tracker (registered through the service), a
convoy in transit on a planned route of 60 points with a planned stop, and its cargo in custody:
700 works packed ten to a crate (70 crates, one with a shock threshold of 2 g), loaded and
departed, so that every batch's sensor event reaches the works inside the truck, as it does in
production. The tracker's readings are made first: every 3 seconds a position (on the route,
42 km/h), a temperature, a relative humidity and a shock, from Paris to the centre's geofence;
one temperature excursion of five minutes and three shocks of 3.5 g. The default 20,000 readings
are about four hours of trip, cut into requests of 500 readings (JSON text).

Timed: for each request, ``json.loads`` of the body and one ``telemetry_ingest`` call, which
checks each reading (including the jump from its neighbours), stores them, appends the batch's
fact, replays the rules over the window the new readings can change, opens, updates and closes
incidents (facts, and the registrars' e-mail queued on commit), and records the batch's
``sensor_reporting`` custody event (and the arrival, once), in its own transaction.

Baseline, in the same run: the reading rows the service stored are read back and inserted again
with plain ``cursor.executemany`` into an unconstrained copy of ``moves_telemetryreading`` (same
columns, primary key only), one transaction per request's rows.

Checks at the end (exit 1 if wrong): one row per reading, none rejected, one temperature and three
shock incidents (all ended), one ``arriving`` event and the convoy arrived.
Runs in a throw-away var directory (SQLite unless ``DATABASE_URL`` says otherwise).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import time
from decimal import Decimal
from typing import Any

from _harness import emit, scratch_django

BATCH = 500
TICK = dt.timedelta(seconds=3)
WORKS, PER_CRATE = 700, 10
DEPARTURE = dt.datetime(2019, 10, 7, 7, 0, tzinfo=dt.UTC)
PARIS, LIEVIN = (48.860611, 2.337644), (50.4186, 2.7817)
INSTITUTION = "bench"
RAW_TABLE = "bench_raw_telemetryreading"


def on_route(fraction: float) -> tuple[float, float]:
    """A gently curved road from the palace to the centre."""
    lat = PARIS[0] + (LIEVIN[0] - PARIS[0]) * fraction
    lon = PARIS[1] + (LIEVIN[1] - PARIS[1]) * fraction + 0.05 * math.sin(math.pi * fraction)
    return (round(lat, 6), round(lon, 6))


def make_world() -> tuple[Any, Any]:
    """The sites, the truck and its tracker, the convoy and its cargo in custody."""
    from cimaise.collection.models import Work
    from cimaise.core import services
    from cimaise.core.actors import actor_for
    from cimaise.core.models import Institution, Place, Site
    from cimaise.core.roles import Role
    from cimaise.moves.epcis import parse_payload
    from cimaise.moves.models import Convoy, ConvoyItem, ConvoyState, Crate, Vehicle
    from cimaise.moves.services import custody_capture_unchecked
    from cimaise.moves.telemetry.devices import tracker_register

    inst = Institution.objects.create(code=INSTITUTION, name="Bench museum")
    pal = Site.objects.create(institution=inst, code="PAL", name="Palais", latitude=Decimal(str(PARIS[0])),
                              longitude=Decimal(str(PARIS[1])))  # fmt: skip
    ccl = Site.objects.create(institution=inst, code="CCL", name="Centre", latitude=Decimal(str(LIEVIN[0])),
                              longitude=Decimal(str(LIEVIN[1])))  # fmt: skip
    Place.objects.create(
        institution=inst, site=ccl, code="CCL-B1", name="B1", kind=Place.Kind.BUILDING, path="CCL-B1"
    )
    works = Work.objects.bulk_create(
        Work(institution=inst, inventory=f"INV {i}", title=f"Work {i}", department="PEI")
        for i in range(WORKS)
    )
    crates = Crate.objects.bulk_create(
        Crate(institution=inst, barcode=f"CR{i:03d}") for i in range(WORKS // PER_CRATE)
    )
    Crate.objects.filter(pk=crates[0].pk).update(shock_threshold_g=Decimal(2))
    truck = Vehicle.objects.create(institution=inst, plate="GT-123-XZ")
    route = [list(on_route(i / 59)) for i in range(60)]
    stop = on_route(0.5)
    window = {
        "from": (DEPARTURE + dt.timedelta(hours=2)).isoformat(),
        "until": (DEPARTURE + dt.timedelta(hours=3)).isoformat(),
    }
    convoy = Convoy.objects.create(
        institution=inst, code="CV-0001", vehicle=truck, origin=pal, destination=ccl,
        state=ConvoyState.IN_TRANSIT, planned_departure=DEPARTURE, route=route,
        planned_stops=[{"lat": stop[0], "lon": stop[1], **window}],
    )  # fmt: skip
    ConvoyItem.objects.bulk_create(
        ConvoyItem(convoy=convoy, work=w, crate=crates[i // PER_CRATE]) for i, w in enumerate(works)
    )
    admin = services.person_enroll(
        username="bench-admin", institution=inst, roles=[Role.ADMIN], password=None
    )
    actor = actor_for(admin.user)
    assert actor is not None
    tracker = tracker_register(actor=actor, vehicle=truck, label="Bench tracker")
    events = _cargo(inst, works, crates, truck, convoy)
    now = dt.datetime.now(dt.UTC)
    custody_capture_unchecked(
        institution=inst, events=parse_payload(events, now=now, skew=dt.timedelta(0)), who="bench"
    )
    return tracker.device, convoy


def _cargo(inst: Any, works: list[Any], crates: list[Any], truck: Any, convoy: Any) -> list[dict[str, Any]]:
    def event(kind: str, step: str, when: dt.datetime, **fields: Any) -> dict[str, Any]:
        action = "ADD" if kind == "AggregationEvent" else "OBSERVE"
        head = {"type": kind, "action": action, "bizStep": step, "eventTime": when.isoformat()}
        return head | {"eventTimeZoneOffset": "+00:00"} | fields

    link = [{"type": "bol", "bizTransaction": convoy.uri}]
    packing = [
        event("AggregationEvent", "packing", DEPARTURE - dt.timedelta(hours=5, minutes=-c),
              parentID=crate.uri, childEPCs=[w.uri for w in works[c * PER_CRATE : (c + 1) * PER_CRATE]])
        for c, crate in enumerate(crates)
    ]  # fmt: skip
    return packing + [
        event("AggregationEvent", "loading", DEPARTURE - dt.timedelta(hours=1), parentID=truck.uri,
              childEPCs=[c.uri for c in crates], bizTransactionList=link),
        event("ObjectEvent", "departing", DEPARTURE, epcList=[truck.uri], disposition="in_transit",
              bizTransactionList=link),
    ]  # fmt: skip


def readings(n: int) -> list[dict[str, Any]]:
    """``n`` readings, four a tick, from the palace to the centre."""
    ticks = -(-n // 4)
    made: list[dict[str, Any]] = []
    for t in range(ticks):
        when = (DEPARTURE + t * TICK).isoformat()
        lat, lon = on_route(t / (ticks - 1))
        temperature = 23.5 if ticks // 3 <= t < ticks // 3 + 100 else 19.0 + (t % 7) / 10
        shock = 3.5 if t in (ticks // 4, ticks // 2, 3 * ticks // 4) else 0.3
        made += [
            {"id": f"p{t}", "time": when, "type": "position", "lat": lat, "lon": lon, "speed": 42.0},
            {"id": f"t{t}", "time": when, "type": "temperature", "value": temperature},
            {"id": f"h{t}", "time": when, "type": "humidity", "value": 52.0},
            {"id": f"s{t}", "time": when, "type": "shock", "value": shock},
        ]
    return made[:n]


def bench_service(device: Any, convoy: Any, bodies: list[str]) -> tuple[float, list[int]]:
    """Seconds to ingest every request, and the highest reading row id after each."""
    from cimaise.moves.models import TelemetryReading
    from cimaise.moves.telemetry.services import telemetry_ingest

    elapsed, marks = 0.0, []
    for body in bodies:
        start = time.perf_counter()
        payload = json.loads(body)
        telemetry_ingest(device=device, convoy=convoy, readings=payload["readings"])
        elapsed += time.perf_counter() - start
        marks.append(TelemetryReading.objects.order_by("-id").values_list("id", flat=True)[0])
    return elapsed, marks


def bench_raw(marks: list[int]) -> float:
    """Seconds to insert the same rows, request by request, with ``executemany`` into a plain copy."""
    from django.db import connection, transaction

    from cimaise.moves.models import TelemetryReading

    qn = connection.ops.quote_name
    fields = TelemetryReading._meta.concrete_fields
    columns = ", ".join(
        f"{qn(f.column)} {f.db_type(connection)}{' PRIMARY KEY' if f.primary_key else ''}" for f in fields
    )
    insert = (
        f"INSERT INTO {RAW_TABLE} ({', '.join(qn(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    batches, low = [], 0
    for high in marks:
        rows = TelemetryReading.objects.filter(id__gt=low, id__lte=high).order_by("id")
        batches.append(
            [tuple(f.get_db_prep_save(getattr(r, f.attname), connection) for f in fields) for r in rows]
        )
        low = high
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {RAW_TABLE} ({columns})")
    start = time.perf_counter()
    for batch in batches:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(insert, batch)
    elapsed = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {RAW_TABLE}")
        copied = cursor.fetchone()[0]
        cursor.execute(f"DROP TABLE {RAW_TABLE}")
    assert copied == sum(len(b) for b in batches), (copied, len(batches))
    return elapsed


def problems(convoy: Any, n: int) -> list[str]:
    from cimaise.moves.models import ConvoyState, CustodyEvent, Incident, TelemetryReading

    wrong = []
    if TelemetryReading.objects.filter(rejection="").count() != n:
        wrong.append(f"{TelemetryReading.objects.exclude(rejection='').count()} readings rejected")
    kinds = sorted(Incident.objects.values_list("kind", flat=True))
    if kinds != ["shock"] * 3 + ["temperature"] or Incident.objects.filter(ended_at__isnull=True).exists():
        wrong.append(f"incidents {kinds}")
    if CustodyEvent.objects.filter(biz_step="arriving").count() != 1:
        wrong.append("no single arriving event")
    convoy.refresh_from_db()
    if convoy.state != ConvoyState.ARRIVED:
        wrong.append(f"the convoy is {convoy.state}")
    return wrong


def main() -> int:
    parser = argparse.ArgumentParser(description="Telemetry ingestion throughput vs raw executemany.")
    parser.add_argument("--n", type=int, default=20_000, help="readings to ingest (default 20,000)")
    args = parser.parse_args()
    with scratch_django():
        device, convoy = make_world()
        made = readings(args.n)
        bodies = [json.dumps({"readings": made[i : i + BATCH]}) for i in range(0, len(made), BATCH)]
        service_s, marks = bench_service(device, convoy, bodies)
        raw_s = bench_raw(marks)
        wrong = problems(convoy, len(made))
    if wrong:
        print("telemetry: " + "; ".join(wrong), file=sys.stderr)
        return 1
    emit(
        "telemetry", metric=len(made) / service_s, baseline=len(made) / raw_s, unit="readings/s", n=len(made)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
