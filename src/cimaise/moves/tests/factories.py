"""A small transfer to test custody with: two sites 200 km apart, a reserve shelf in Paris, a dock
and two shelves at the conservation centre, works, crates, a truck, a convoy and its programme."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cimaise.collection.models import Work
from cimaise.core.models import Institution, Place, Site
from cimaise.core.tests.personas import Cast
from cimaise.moves.models import Assignment, Convoy, ConvoyItem, Crate, Programme, Vehicle

T0 = dt.datetime(2020, 1, 6, 8, 0, tzinfo=dt.UTC)
_ids = itertools.count(1)


def at(minutes: float) -> str:
    return (T0 + dt.timedelta(minutes=minutes)).isoformat()


def _place(site: Site, code: str, kind: str, parent: Place | None, **extra: Any) -> Place:
    path = f"{parent.path}/{code}" if parent else f"{site.code}/{code}"  # as core.place_create does
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


@dataclass
class Transfer:
    institution: Institution
    pal_shelf: Place
    ccl_dock: Place
    ccl_shelf: Place
    ccl_small_shelf: Place
    works: list[Work]
    crates: list[Crate]
    vehicle: Vehicle
    convoy: Convoy
    programme: Programme
    extra: dict[str, Any] = field(default_factory=dict)

    def work(self, n: int) -> str:
        return self.works[n].uri

    def crate(self, n: int) -> str:
        return self.crates[n].uri

    @property
    def truck(self) -> str:
        return self.vehicle.uri


def make_transfer(cast: Cast, *, works: int = 4) -> Transfer:
    louvre = cast.institution_a
    pal = cast.site_a
    Site.objects.filter(pk=pal.pk).update(latitude=Decimal("48.860611"), longitude=Decimal("2.337644"))
    ccl = Site.objects.create(
        institution=louvre, code="CCL", name="CCL", latitude=Decimal("50.4186"), longitude=Decimal("2.7817")
    )
    building = _place(pal, "PAL-DEN", "building", None)
    room = _place(pal, "PAL-DEN-R1", "room", building)
    pal_shelf = _place(pal, "PAL-DEN-R1-S1", "shelf", room)
    ccl_building = _place(ccl, "CCL-B1", "building", None)
    dock = _place(ccl, "CCL-DOCK", "room", ccl_building)
    zone = _place(ccl, "CCL-Z1", "room", ccl_building)
    shelf = _place(ccl, "CCL-Z1-S1", "shelf", zone, load_limit_kg=Decimal("500"))
    small = _place(ccl, "CCL-Z1-S2", "shelf", zone, load_limit_kg=Decimal("10"))
    made = [
        Work.objects.create(
            institution=louvre,
            inventory=f"INV {7520 + i}",
            title=f"Œuvre {i}",
            department="PEI",
            height_cm=Decimal(50),
            width_cm=Decimal(40),
            depth_cm=Decimal(5),
            weight_kg=Decimal(8),
            normal_place=pal_shelf,
        )  # fmt: skip
        for i in range(works)
    ]
    crates = [Crate.objects.create(institution=louvre, barcode=f"C{i:03d}") for i in range(2)]
    vehicle = Vehicle.objects.create(institution=louvre, plate="GT-123-XZ")
    programme = Programme.objects.create(institution=louvre, code="P2020", name="Réserves 2020")
    for work in made:
        Assignment.objects.create(programme=programme, work=work, source=pal_shelf, target=shelf)
    convoy = Convoy.objects.create(
        institution=louvre, code="CV-001", programme=programme, vehicle=vehicle, origin=pal, destination=ccl
    )
    for i, work in enumerate(made):
        ConvoyItem.objects.create(convoy=convoy, work=work, crate=crates[i % 2])
    return Transfer(louvre, pal_shelf, dock, shelf, small, made, crates, vehicle, convoy, programme)


def place(p: Place) -> dict[str, str]:
    return {"id": p.uri}


def object_event(epcs: list[str], step: str, minutes: float, **extra: Any) -> dict[str, Any]:
    event = {
        "type": "ObjectEvent",
        "action": "OBSERVE",
        "epcList": epcs,
        "bizStep": step,
        "eventTime": at(minutes),
    }
    event["eventTimeZoneOffset"] = "+00:00"
    event.update(extra)
    return event


def aggregation(
    parent: str, children: list[str], step: str, minutes: float, action: str = "ADD", **extra: Any
) -> dict[str, Any]:
    event = {
        "type": "AggregationEvent", "action": action, "parentID": parent, "childEPCs": children,
        "bizStep": step, "eventTime": at(minutes), "eventTimeZoneOffset": "+00:00",
    }  # fmt: skip
    event.update(extra)
    return event


def document(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": at(0),
        "epcisBody": {"eventList": events},
    }


def full_journey(t: Transfer) -> list[dict[str, Any]]:
    """Inspect, pack two crates, load, depart, arrive, unload, acclimatise, unpack, store: in order."""
    works = [w.uri for w in t.works]
    convoy = [{"type": "bol", "bizTransaction": t.convoy.uri}]
    half = [works[i] for i in range(0, len(works), 2)], [works[i] for i in range(1, len(works), 2)]
    return [
        object_event(works, "inspecting", 0, readPoint=place(t.pal_shelf)),
        aggregation(t.crate(0), half[0], "packing", 10, bizLocation=place(t.pal_shelf)),
        aggregation(t.crate(1), half[1], "packing", 11, bizLocation=place(t.pal_shelf)),
        aggregation(t.truck, [t.crate(0), t.crate(1)], "loading", 20, bizTransactionList=convoy),
        object_event([t.truck], "departing", 30, disposition="in_transit", bizTransactionList=convoy),
        object_event(
            [t.truck],
            "arriving",
            200,
            bizLocation=place(t.ccl_dock),
            readPoint=place(t.ccl_dock),
            bizTransactionList=convoy,
        ),
        aggregation(
            t.truck,
            [t.crate(0), t.crate(1)],
            "unloading",
            210,
            action="DELETE",
            bizTransactionList=convoy,
            bizLocation=place(t.ccl_dock),
        ),
        object_event(
            [t.crate(0), t.crate(1)], "urn:cimaise:bizstep:acclimatising", 220, bizLocation=place(t.ccl_dock)
        ),
        aggregation(t.crate(0), half[0], "unpacking", 1660, action="DELETE", bizLocation=place(t.ccl_dock)),
        aggregation(t.crate(1), half[1], "unpacking", 1661, action="DELETE", bizLocation=place(t.ccl_dock)),
        object_event(works, "storing", 1700, bizLocation=place(t.ccl_shelf), readPoint=place(t.ccl_shelf)),
    ]
