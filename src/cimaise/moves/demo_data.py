"""The demo transfer programme: every work gets a target shelf at the conservation centre; the
first half has already travelled (stock-take, condition check, packing, loading, departure,
arrival, unloading, acclimatisation, unpacking, shelving, all as EPCIS events through the capture
service); the next convoy is being packed. A few real-life slips leave anomalies to resolve."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.db import transaction

from cimaise.collection.models import Work
from cimaise.core.actors import actor_for
from cimaise.core.demo import DemoContext, DemoLoader, register_loader
from cimaise.core.models import Institution, Place
from cimaise.moves.epcis import parse_payload
from cimaise.moves.models import Assignment, Convoy, ConvoyItem, ConvoyState, Crate, Programme, Vehicle
from cimaise.moves.planning.addressing import AddressingPlanner
from cimaise.moves.planning.selectors import destination_bays, occupancy, work_specs
from cimaise.moves.services import custody_capture_unchecked
from cimaise.moves.telemetry.devices import tracker_register
from cimaise.moves.telemetry.services import telemetry_ingest

PARIS = ZoneInfo("Europe/Paris")
FIRST_DEPARTURE = dt.datetime(2019, 10, 7, 7, 0, tzinfo=PARIS)
STOCK_TAKE = dt.datetime(2019, 9, 2, 9, 0, tzinfo=PARIS)
PAUSE = (dt.date(2020, 3, 16), dt.date(2020, 6, 1))  # the 2020 stop
DEPARTURE_DAYS = (0, 1, 3, 4)  # Monday, Tuesday, Thursday, Friday: about four trucks a week
CONVOY_SIZE = 700
PER_CRATE = 10
ZONES = {"PEI": "Z1", "SCU": "Z2", "OA": "Z3", "AI": "Z3", "AE": "Z4", "AO": "Z4", "AGER": "Z4", "HL": "Z4"}
ZONES["AG"] = "Z5"
TRUCKS = ("GT-201-LV", "GT-202-LV", "GT-203-LV", "GT-204-LV")
ACCLIMATISING = "urn:cimaise:bizstep:acclimatising"


@dataclass
class Item:
    work_id: int
    uri: str
    department: str
    weight: Decimal
    volume: Decimal
    source: int
    room: str


def _targets(louvre: Institution) -> dict[int, Place]:
    """Every work's target, from the addressing planner (``moves.planning``): each department's
    fragility classes on consecutive shelves of its zone, 15 % headroom on load and volume,
    racks (storage units) for works no shelf takes. Zone 6 (quarantine) is never a target."""
    zones = list(
        Place.objects.filter(institution=louvre, site__code="CCL", kind=Place.Kind.ROOM)
        .exclude(code="CCL-Z6")
        .select_related("institution")
        .order_by("code")
    )
    planner = AddressingPlanner(
        destination_bays(louvre, zones),
        occupancy(louvre, zones),
        department_zones={department: f"CCL-{zone}" for department, zone in ZONES.items()},
    )
    outcome = planner.run(work_specs(Work.objects.filter(institution=louvre, normal_place__isnull=False)))
    places = Place.objects.select_related("institution").in_bulk({bay for _, bay in outcome.placed})
    return {work: places[bay] for work, bay in outcome.placed}


def _items(louvre: Institution) -> list[Item]:
    rows = Work.objects.filter(institution=louvre, normal_place__isnull=False).order_by(
        "normal_place__path", "pk"
    )
    fields = ("pk", "inventory", "department", "weight_kg", "height_cm", "width_cm", "depth_cm")
    items = []
    for pk, inventory, department, weight, h, w, d, source, room in rows.values_list(
        *fields, "normal_place_id", "normal_place__parent__parent__code"
    ).iterator(chunk_size=5000):
        volume = (h or Decimal(1)) * (w or Decimal(1)) * (d or Decimal(1)) / 1000
        uri = Work(institution=louvre, inventory=inventory).uri
        items.append(Item(pk, uri, department, weight or Decimal("0.1"), volume, source, room))
    return items


def _events_in(events: list[dict[str, Any]], now: dt.datetime) -> Any:
    document = {"@context": [], "type": "EPCISDocument", "epcisBody": {"eventList": events}}
    return parse_payload(document, now=now, skew=dt.timedelta(0))


def _capture(louvre: Institution, events: list[dict[str, Any]], who: str) -> None:
    for start in range(0, len(events), 5000):
        parsed = _events_in(events[start : start + 5000], dt.datetime.now(dt.UTC))
        custody_capture_unchecked(institution=louvre, events=parsed, who=who)


def _event(kind: str, step: str, when: dt.datetime, **fields: Any) -> dict[str, Any]:
    action = fields.pop("action", "ADD" if kind == "AggregationEvent" else "OBSERVE")
    offset = when.strftime("%z")
    event = {"type": kind, "action": action, "bizStep": step, "eventTime": when.isoformat()}
    event["eventTimeZoneOffset"] = f"{offset[:3]}:{offset[3:]}"
    return event | fields


def _loc(uri: str) -> dict[str, str]:
    return {"id": uri}


def _departures() -> Iterator[dt.datetime]:
    day = FIRST_DEPARTURE
    while True:
        if day.weekday() in DEPARTURE_DAYS and not PAUSE[0] <= day.date() < PAUSE[1]:
            yield day
        day += dt.timedelta(days=1)


@dataclass
class Setting:
    """What the convoy builder needs: the institution's URIs and the planned targets."""

    louvre: Institution
    uris: dict[int, str]  # place id → URI
    room_uris: dict[str, str]  # room code → URI
    targets: dict[int, Place]
    crates: list[str]
    dock: str


def _inspect_and_pack(
    s: Setting, items: list[Item], crates: list[str], day: dt.datetime, skip: int | None
) -> list[dict[str, Any]]:
    checked = [item.uri for i, item in enumerate(items) if i != skip]
    events = [
        _event(
            "ObjectEvent",
            "inspecting",
            day - dt.timedelta(days=2, hours=-2, seconds=-40 * i),
            epcList=[uri],
            readPoint=_loc(s.room_uris[items[0].room]),
            disposition="conformant",
        )
        for i, uri in enumerate(checked)
    ]
    for c, crate in enumerate(crates):
        inside = items[c * PER_CRATE : (c + 1) * PER_CRATE]
        when = day - dt.timedelta(days=1, hours=-3, minutes=-5 * c)
        events.append(
            _event(
                "AggregationEvent",
                "packing",
                when,
                parentID=crate,
                childEPCs=[i.uri for i in inside],
                bizLocation=_loc(s.room_uris[inside[0].room]),
            )
        )
    return events


def _travel(s: Setting, crates: list[str], truck: str, convoy: str, day: dt.datetime) -> list[dict[str, Any]]:
    link = [{"type": "bol", "bizTransaction": convoy}]
    climate = [
        {
            "sensorMetadata": {"time": (day + dt.timedelta(hours=h)).isoformat()},
            "sensorReport": [
                {"type": "Temperature", "value": 19.0 + h / 10, "uom": "CEL"},
                {"type": "RelativeHumidity", "value": 52.0, "uom": "A93"},
            ],
        }
        for h in (1, 2)
    ]
    return [
        _event(
            "AggregationEvent",
            "loading",
            day - dt.timedelta(hours=1),
            parentID=truck,
            childEPCs=crates,
            bizTransactionList=link,
        ),
        _event(
            "ObjectEvent",
            "departing",
            day,
            epcList=[truck],
            disposition="in_transit",
            bizTransactionList=link,
        ),
        _event(
            "ObjectEvent",
            "arriving",
            day + dt.timedelta(hours=3, minutes=15),
            epcList=[truck],
            bizLocation=_loc(s.dock),
            readPoint=_loc(s.dock),
            bizTransactionList=link,
            sensorElementList=climate,
        ),
    ]


def _receive(
    s: Setting, items: list[Item], crates: list[str], truck: str, convoy: str, day: dt.datetime, slip: str
) -> list[dict[str, Any]]:
    link = [{"type": "bol", "bizTransaction": convoy}]
    events = [
        _event(
            "AggregationEvent",
            "unloading",
            day + dt.timedelta(hours=3, minutes=45),
            action="DELETE",
            parentID=truck,
            childEPCs=crates,
            bizLocation=_loc(s.dock),
            bizTransactionList=link,
        ),
        _event(
            "ObjectEvent",
            ACCLIMATISING,
            day + dt.timedelta(hours=4),
            epcList=crates,
            bizLocation=_loc(s.dock),
        ),
    ]
    for c, crate in enumerate(crates):
        inside = items[c * PER_CRATE : (c + 1) * PER_CRATE]
        when = day + dt.timedelta(days=1, hours=4, minutes=3 * c)
        events.append(
            _event(
                "AggregationEvent",
                "unpacking",
                when,
                action="DELETE",
                parentID=crate,
                childEPCs=[i.uri for i in inside],
                bizLocation=_loc(s.dock),
            )
        )
    return events + _store(s, items, day + dt.timedelta(days=2, hours=2), slip)


def _store(s: Setting, items: list[Item], when: dt.datetime, slip: str) -> list[dict[str, Any]]:
    by_shelf: dict[int, list[str]] = defaultdict(list)
    for item in items:
        by_shelf[s.targets[item.work_id].pk].append(item.uri)
    shelves = sorted(by_shelf)
    if slip == "wrong_shelf" and len(shelves) > 1:  # one work put on the neighbouring shelf
        by_shelf[shelves[1]].append(by_shelf[shelves[0]].pop())
    if slip == "unknown_label":  # a mis-keyed label read at shelving
        by_shelf[shelves[0]].append(Work(institution=s.louvre, inventory="INV 999999").uri)
    return [
        _event(
            "ObjectEvent",
            "storing",
            when + dt.timedelta(minutes=2 * i),
            epcList=by_shelf[pk],
            bizLocation=_loc(s.uris[pk]),
            readPoint=_loc(s.uris[pk]),
        )
        for i, pk in enumerate(shelves)
        if by_shelf[pk]
    ]


SLIPS = {0: "unknown_label", 1: "no_check", 2: "wrong_shelf"}  # teething troubles of the first convoys


def _convoy(s: Setting, k: int, items: list[Item], day: dt.datetime, *, travelled: bool) -> None:
    count = -(-len(items) // PER_CRATE)
    first = k * (CONVOY_SIZE // PER_CRATE)  # each convoy takes the next crates of the pool
    crates = [s.crates[(first + c) % len(s.crates)] for c in range(count)]
    truck_plate = TRUCKS[k % len(TRUCKS)]
    convoy = Convoy.objects.create(
        institution=s.louvre,
        code=f"CV-{day:%Y%m%d}-{k + 1:03d}",
        vehicle=Vehicle.objects.get(institution=s.louvre, plate=truck_plate),
        programme=Programme.objects.get(institution=s.louvre, code="P-CCL"),
        planned_departure=day,
        origin=s.louvre.sites.get(code="PAL"),
        destination=s.louvre.sites.get(code="CCL"),
        # a convoy that travelled in the demo's past is closed, its seals recorded and checked
        state=ConvoyState.CLOSED if travelled else ConvoyState.PLANNED,
        seals=[f"SL{k + 1:05d}"] if travelled else [],
        seals_checked=[f"SL{k + 1:05d}"] if travelled else [],
        planned_arrival=day + dt.timedelta(hours=3, minutes=15),
        drivers=["Pascal Roche", "Yann Le Goff"],
    )
    crate_rows = {c.barcode: c for c in Crate.objects.filter(institution=s.louvre)}
    ConvoyItem.objects.bulk_create(
        ConvoyItem(
            convoy=convoy, work_id=item.work_id, crate=crate_rows[crates[i // PER_CRATE].rsplit(":", 1)[1]]
        )
        for i, item in enumerate(items)
    )
    slip = SLIPS.get(k, "")
    _capture(
        s.louvre,
        _inspect_and_pack(s, items, crates, day, 3 if slip == "no_check" else None),
        "user:registrar",
    )
    if not travelled:
        return
    truck = Vehicle.objects.get(institution=s.louvre, plate=truck_plate).uri
    _capture(s.louvre, _travel(s, crates, truck, convoy.uri, day), "user:escort")
    _capture(s.louvre, _receive(s, items, crates, truck, convoy.uri, day, slip), "user:reception")


def _stock_take(s: Setting, items: list[Item], ctx: DemoContext) -> None:
    by_shelf: dict[int, list[str]] = defaultdict(list)
    for item in items:
        by_shelf[item.source].append(item.uri)
    events = [
        _event(
            "ObjectEvent",
            "cycle_counting",
            STOCK_TAKE + dt.timedelta(minutes=2 * i),
            epcList=uris,
            bizLocation=_loc(s.uris[pk]),
            readPoint=_loc(s.uris[pk]),
        )
        for i, (pk, uris) in enumerate(sorted(by_shelf.items()))
    ]
    for start in ctx.progress(range(0, len(events), 200), desc="stock-take", total=-(-len(events) // 200)):
        _capture(s.louvre, events[start : start + 200], "user:registrar")


def _setting(louvre: Institution, ctx: DemoContext) -> tuple[Setting, list[Item], list[Item]]:
    """The crates, trucks and programme; every work's target; the works and the targeted ones."""
    places = Place.objects.filter(institution=louvre).select_related("institution")
    uris = {p.pk: p.uri for p in places}
    rooms = {p.code: p.uri for p in places if p.kind == Place.Kind.ROOM}
    pool = 400  # reused about ten days later, once back from the centre
    Crate.objects.bulk_create(Crate(institution=louvre, barcode=f"CR{n:04d}") for n in range(1, pool + 1))
    Vehicle.objects.bulk_create(
        Vehicle(institution=louvre, plate=p, description="Semi-remorque, suspension pneumatique, 18–20 °C")
        for p in TRUCKS
    )
    programme = Programme.objects.create(
        institution=louvre, code="P-CCL", name="Transfert des réserves parisiennes vers le CCL"
    )
    items = _items(louvre)
    targets = _targets(louvre)
    Assignment.objects.bulk_create(
        (
            Assignment(programme=programme, work_id=i.work_id, source_id=i.source, target=targets[i.work_id])
            for i in items
            if i.work_id in targets
        ),
        batch_size=2000,
    )
    crates = [Crate(institution=louvre, barcode=f"CR{n:04d}").uri for n in range(1, pool + 1)]
    dock = Place.objects.get(institution=louvre, code="CCL-Z6").uri
    return (
        Setting(louvre, uris, rooms, targets, crates, dock),
        items,
        [i for i in items if i.work_id in targets],
    )


def load_transfer(ctx: DemoContext) -> None:
    louvre = Institution.objects.get(code="louvre")
    if Programme.objects.filter(institution=louvre, code="P-CCL").exists():
        return
    with transaction.atomic():
        setting, everything, items = _setting(louvre, ctx)
    _stock_take(setting, everything, ctx)
    half = len(items) // 2
    convoys = [items[start : min(start + CONVOY_SIZE, half)] for start in range(0, half, CONVOY_SIZE)]
    following = items[half : half + CONVOY_SIZE]
    days = _departures()
    for k, chunk in ctx.progress(list(enumerate(convoys)), desc="convoys"):
        _convoy(setting, k, chunk, next(days), travelled=True)
    if following:
        _convoy(setting, len(convoys), following, next(days), travelled=False)
    load_convoys_today(setting, items[half + CONVOY_SIZE :], len(convoys))


register_loader(
    DemoLoader(
        "moves.transfer", 60, load_transfer, "The transfer programme, half done, with its custody events"
    )
)


# --- the convoys of today: one on the road with its tracker, one loading ------------------------

ROAD_ROUTE = [
    [48.860611, 2.337644],
    [49.05, 2.45],
    [49.4, 2.6],
    [49.85, 2.75],
    [50.2, 2.78],
    [50.4186, 2.7817],
]
ROAD_CRATES = ("CR9001", "CR9002", "CR9003")
LOADING_CRATES = ("CR9004", "CR9005")


def _along(route: list[list[float]], fraction: float) -> tuple[float, float]:
    """The point at ``fraction`` of the route's points (evenly between them: enough for a demo)."""
    scaled = fraction * (len(route) - 1)
    leg = min(int(scaled), len(route) - 2)
    t = scaled - leg
    (a_lat, a_lon), (b_lat, b_lon) = route[leg], route[leg + 1]
    return a_lat + (b_lat - a_lat) * t, a_lon + (b_lon - a_lon) * t


def _road_readings(start: dt.datetime) -> list[dict[str, Any]]:
    """20 positions every 5 minutes along the route and 10 temperatures (four at about 23 °C)."""
    readings: list[dict[str, Any]] = []
    for i in range(20):
        lat, lon = _along(ROAD_ROUTE, i * 0.035)
        when = (start + dt.timedelta(minutes=5 * i)).isoformat()
        readings.append(
            {"id": f"p{i}", "type": "position", "time": when, "lat": lat, "lon": lon, "speed": 78.0}
        )
    temperatures = (19.1, 19.3, 19.4, 22.6, 23.1, 23.4, 23.0, 23.2, 23.3, 23.1)
    for i, value in enumerate(temperatures):
        when = (start + dt.timedelta(minutes=10 * i + 2)).isoformat()
        readings.append({"id": f"t{i}", "type": "temperature", "time": when, "value": value})
    return readings


def _today_convoy(
    s: Setting, code: str, plate: str, items: list[Item], barcodes: tuple[str, ...], day: dt.datetime
) -> tuple[Convoy, list[str]]:
    """A convoy of today with its few crates inspected, packed and loaded on its truck."""
    Crate.objects.bulk_create(Crate(institution=s.louvre, barcode=b) for b in barcodes)
    crate_rows = {c.barcode: c for c in Crate.objects.filter(institution=s.louvre, barcode__in=barcodes)}
    vehicle = Vehicle.objects.select_related("institution").get(institution=s.louvre, plate=plate)
    convoy = Convoy.objects.create(
        institution=s.louvre, code=code, vehicle=vehicle, planned_departure=day,
        programme=Programme.objects.get(institution=s.louvre, code="P-CCL"),
        origin=s.louvre.sites.get(code="PAL"), destination=s.louvre.sites.get(code="CCL"),
        route=ROAD_ROUTE, state=ConvoyState.LOADING,
    )  # fmt: skip
    ConvoyItem.objects.bulk_create(
        ConvoyItem(convoy=convoy, work_id=item.work_id, crate=crate_rows[barcodes[i // PER_CRATE]])
        for i, item in enumerate(items)
    )
    crates = [crate_rows[b].uri for b in barcodes]
    link = [{"type": "bol", "bizTransaction": convoy.uri}]
    loading = _event(
        "AggregationEvent", "loading", day - dt.timedelta(minutes=30),
        parentID=vehicle.uri, childEPCs=crates, bizTransactionList=link,
    )  # fmt: skip
    _capture(s.louvre, [*_inspect_and_pack(s, items, crates, day, None), loading], "user:registrar")
    return convoy, crates


def load_convoys_today(setting: Setting, items: list[Item], following: int) -> None:
    """One convoy on the road (tracker, readings along its route, one temperature incident) and
    one loading. ``following``: the index of the convoy packed before them."""
    road_items, loading_items = items[: len(ROAD_CRATES) * PER_CRATE], items[len(ROAD_CRATES) * PER_CRATE :]
    loading_items = loading_items[: len(LOADING_CRATES) * PER_CRATE]
    if len(loading_items) < len(LOADING_CRATES) * PER_CRATE:
        return
    now = dt.datetime.now(PARIS).replace(microsecond=0)
    start = now - dt.timedelta(minutes=100)
    road_plate, loading_plate = TRUCKS[(following + 1) % len(TRUCKS)], TRUCKS[(following + 2) % len(TRUCKS)]
    road, _crates = _today_convoy(setting, f"CV-{now:%Y%m%d}-R01", road_plate, road_items, ROAD_CRATES, start)
    assert road.vehicle is not None  # noqa: S101  (just set)
    departing = _event(
        "ObjectEvent", "departing", start, epcList=[road.vehicle.uri], disposition="in_transit",
        bizTransactionList=[{"type": "bol", "bizTransaction": road.uri}],
    )  # fmt: skip
    _capture(setting.louvre, [departing], "user:escort")
    Convoy.objects.filter(pk=road.pk).update(state=ConvoyState.IN_TRANSIT)
    road.state = ConvoyState.IN_TRANSIT
    registrar = actor_for(User.objects.get(username="registrar"))
    assert registrar is not None  # noqa: S101  (the demo's registrar)
    tracker = tracker_register(actor=registrar, vehicle=road.vehicle, label=f"Tracker {road.vehicle.plate}")
    telemetry_ingest(device=tracker.device, convoy=road, readings=_road_readings(start), now=now)
    _today_convoy(setting, f"CV-{now:%Y%m%d}-L01", loading_plate, loading_items, LOADING_CRATES, now)
