"""Planning reads: the shelves of the destinations, what each holds or is promised, the works
a run has left, crates free for packing, packing lists and fill rates."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Exists, OuterRef, Q

from cimaise.collection.models import Work
from cimaise.core.models import Institution, Place
from cimaise.moves.models import (
    AddressingFlag,
    AddressingRun,
    Assignment,
    Containment,
    Convoy,
    ConvoyItem,
    ConvoyState,
    Crate,
    ObjectState,
    PackingPlacement,
    Status,
    object_uri,
)
from cimaise.moves.planning.addressing import Bay, Used, WorkSpec
from cimaise.moves.planning.measures import G_PER_KG, MM_PER_CM, down
from cimaise.moves.planning.packing import CrateSpec, VehicleLimit
from cimaise.moves.projection import chunks

_WORK_FIELDS = ("department", "fragility", "height_cm", "width_cm", "depth_cm", "weight_kg")
_PLACE_FIELDS = ("inner_width_cm", "inner_depth_cm", "inner_height_cm", "load_limit_kg")
BUSY_CRATE = (Status.PACKED, Status.LOADED, Status.IN_TRANSIT)
KIND_ORDER: dict[str, int] = {Crate.Kind.SHUTTLE: 0, Crate.Kind.ISOTHERMAL: 1, Crate.Kind.CUSTOM: 2}
MM3_PER_M3 = 10**9


def natural(path: str) -> tuple[Any, ...]:
    """A sort key in which ``U9`` comes before ``U10``."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path))


def _under(roots: Sequence[Place], prefix: str = "") -> Q:
    """Places at or below any of the roots (``prefix``: the relation leading to the place)."""
    return reduce(
        or_,
        (Q(**{f"{prefix}pk": r.pk}) | Q(**{f"{prefix}path__startswith": f"{r.path}/"}) for r in roots),
        Q(),
    )


def destination_bays(institution: Institution, destinations: Sequence[Place]) -> list[Bay]:
    """Every shelf (and, as fallback, every storage unit) of the destinations, zone by zone in
    the order given, in shelf order inside each zone."""
    bays: list[Bay] = []
    seen: set[int] = set()
    kinds = (Place.Kind.SHELF, Place.Kind.UNIT)
    for zone in destinations:
        rows = Place.objects.filter(_under([zone]), institution=institution, active=True, kind__in=kinds)
        found = sorted(
            rows.values_list("pk", "kind", "path", *_PLACE_FIELDS), key=lambda row: natural(row[2])
        )
        for pk, kind, _path, width, depth, height, load in found:
            if pk not in seen:
                seen.add(pk)
                fallback = kind == Place.Kind.UNIT
                bays.append(Bay.measure(pk, zone.code, width, depth, height, load, fallback=fallback))
    return bays


def occupancy(
    institution: Institution, roots: Sequence[Place], *, exclude_work: int | None = None
) -> dict[int, Used]:
    """What each place at or below the roots holds or is promised, by place id.

    A work counts on its target in an active programme when it has one (it will be moved
    there), else on the place custody last saw it stored on."""
    if not roots:
        return {}
    active = Assignment.objects.filter(programme__institution=institution, programme__active=True)
    promised = active.filter(_under(roots, "target__")).values_list("work_id", "target_id")
    on_it = ObjectState.objects.filter(_under(roots, "place__"), institution=institution, work__isnull=False)
    unpromised = on_it.exclude(Exists(active.filter(work_id=OuterRef("work_id"))))
    where = dict(promised) | dict(unpromised.values_list("work_id", "place_id"))
    where.pop(exclude_work or 0, None)
    used: dict[int, Used] = defaultdict(Used)
    for batch in chunks(sorted(where)):
        for work in work_specs(Work.objects.filter(pk__in=batch)):
            used[where[work.id]].add(work)
    return dict(used)


def work_specs(works: Any) -> list[WorkSpec]:
    """Works (a queryset) as the planners see them."""
    return [WorkSpec.measure(pk, *row) for pk, *row in works.values_list("pk", *_WORK_FIELDS)]


def run_places(run: AddressingRun) -> tuple[list[Place], list[Place]]:
    """A run's sources and destinations, destinations in the run's order."""
    by_id = Place.objects.select_related("institution").in_bulk([*run.source_ids, *run.destination_ids])
    sources = [by_id[pk] for pk in run.source_ids if pk in by_id]
    return sources, [by_id[pk] for pk in run.destination_ids if pk in by_id]


def works_left(run: AddressingRun, sources: Sequence[Place]) -> list[WorkSpec]:
    """The works of the run's sources that have no target in the programme yet and that the run
    has not flagged."""
    if not sources:
        return []
    targeted = Assignment.objects.filter(programme_id=run.programme_id, work_id=OuterRef("pk"))
    flagged = AddressingFlag.objects.filter(run=run, work_id=OuterRef("pk"))
    works = Work.objects.filter(_under(sources, "normal_place__"), institution_id=run.institution_id)
    return work_specs(works.exclude(Exists(targeted)).exclude(Exists(flagged)))


@dataclass(frozen=True)
class FlagRow:
    """A work a run flagged, and the target a registrar set for it since, if any."""

    inventory: str
    reason: str
    batch: int
    target: str | None


def run_flags(run: AddressingRun) -> list[FlagRow]:
    flags = AddressingFlag.objects.filter(run=run).order_by("batch", "work__inventory")
    targets = dict(
        Assignment.objects.filter(programme_id=run.programme_id).values_list("work_id", "target__code")
    )
    return [
        FlagRow(inventory, reason, batch, targets.get(work_id))
        for work_id, inventory, reason, batch in flags.values_list(
            "work_id", "work__inventory", "reason", "batch"
        )
    ]


def open_run(programme_id: int) -> AddressingRun | None:
    """The programme's latest run (its open one, if any)."""
    return AddressingRun.objects.filter(programme_id=programme_id).order_by("-started_at", "-id").first()


# --- packing ---------------------------------------------------------------------------------


def crates_free(institution: Institution, convoy: Convoy) -> list[CrateSpec]:
    """Crates that can be packed for this convoy, shuttle crates first, then smallest first.

    A crate is free once emptied: its custody status is not packed, loaded or in transit,
    nothing is inside it, and no other convoy that has not left yet plans to use it."""
    crates = Crate.objects.filter(institution=institution).exclude(
        Q(inner_length_cm=None) | Q(inner_width_cm=None) | Q(inner_height_cm=None) | Q(max_load_kg=None)
    )
    by_uri = {object_uri("crate", institution.code, crate.barcode): crate for crate in crates}
    busy = _busy_crates(institution, list(by_uri))
    planned = ConvoyItem.objects.filter(
        convoy__institution=institution,
        convoy__state__in=(ConvoyState.PLANNED, ConvoyState.LOADING, ConvoyState.SEALED),
        crate__isnull=False,
    ).exclude(convoy=convoy)
    reserved = set(planned.values_list("crate_id", flat=True))
    free = [c for uri, c in by_uri.items() if uri not in busy and c.pk not in reserved]
    barcodes = {crate.pk: crate.barcode for crate in free}
    specs = [_crate_spec(crate) for crate in free]
    return sorted(specs, key=lambda s: (KIND_ORDER.get(s.kind, 9), s.volume, s.load, barcodes[s.id]))


def _busy_crates(institution: Institution, uris: list[str]) -> set[str]:
    busy: set[str] = set()
    for batch in chunks(uris):
        states = ObjectState.objects.filter(institution=institution, uri__in=batch, status__in=BUSY_CRATE)
        busy.update(states.values_list("uri", flat=True))
        inside = Containment.objects.filter(institution=institution, parent__in=batch, until__isnull=True)
        busy.update(inside.values_list("parent", flat=True))
    return busy


def _crate_spec(crate: Crate) -> CrateSpec:
    def mm(value: Decimal | None) -> int:
        return down(value, MM_PER_CM) or 0

    return CrateSpec(
        crate.pk,
        crate.kind,
        mm(crate.inner_length_cm),
        mm(crate.inner_width_cm),
        mm(crate.inner_height_cm),
        down(crate.max_load_kg, G_PER_KG) or 0,
        down(crate.tare_kg, G_PER_KG) or 0,
    )


def vehicle_limit(convoy: Convoy) -> VehicleLimit | None:
    vehicle = convoy.vehicle
    if vehicle is None:
        return None
    return VehicleLimit(down(vehicle.max_load_kg, G_PER_KG), down(vehicle.volume_m3, MM3_PER_M3))


def convoy_works(convoy: Convoy) -> list[Work]:
    return list(Work.objects.filter(pk__in=convoy.items.values("work_id")).order_by("pk"))


@dataclass
class CrateList:
    """A crate's packing list: its works with where they sit, and its load."""

    crate: Crate
    placements: list[PackingPlacement] = field(default_factory=list)

    @property
    def load_kg(self) -> Decimal:
        return sum((p.work.weight_kg or Decimal(0) for p in self.placements), Decimal(0))


def packing_list(convoy: Convoy) -> tuple[list[CrateList], list[PackingPlacement]]:
    """The convoy's crates with their works, and the works packed in no crate (with why)."""
    rows = PackingPlacement.objects.filter(convoy=convoy).select_related("work", "crate")
    crates: dict[int, CrateList] = {}
    loose = []
    for row in rows.order_by("crate__barcode", "z_mm", "y_mm", "x_mm", "work__inventory"):
        if row.crate is None:
            loose.append(row)
        else:
            crates.setdefault(row.crate.pk, CrateList(row.crate)).placements.append(row)
    return list(crates.values()), loose


# --- fill rates ------------------------------------------------------------------------------


@dataclass
class FillRate:
    """How full a place is (its shelves, or itself when it is one): load and inner volume held
    or promised against the shelves' limits. Works kept on a storage unit itself (too big for
    its shelves) are counted apart, as ``oversize``."""

    code: str
    name: str
    kind: str
    works: int = 0
    shelves: int = 0
    load_g: int = 0
    load_limit_g: int = 0
    volume_mm3: int = 0
    volume_limit_mm3: int = 0
    oversize_works: int = 0
    oversize_load_g: int = 0

    def add(self, used: Used, bay: Bay) -> None:
        if bay.fallback:
            self.oversize_works += used.works
            self.oversize_load_g += used.load
            return
        self.works += used.works
        self.load_g += used.load
        self.volume_mm3 += used.volume
        self.shelves += 1
        self.load_limit_g += bay.load or 0
        self.volume_limit_mm3 += bay.volume or 0

    @property
    def load_pct(self) -> float | None:
        return round(100 * self.load_g / self.load_limit_g, 1) if self.load_limit_g else None

    @property
    def volume_pct(self) -> float | None:
        return round(100 * self.volume_mm3 / self.volume_limit_mm3, 1) if self.volume_limit_mm3 else None


LEVELS = ("zone", "room", "unit", "shelf")


def fill_rates(institution: Institution, zones: Sequence[Place], level: str) -> list[FillRate]:
    """Fill rate of every shelf, storage unit, room or zone of these zones."""
    bays = destination_bays(institution, zones)
    used = occupancy(institution, zones)
    places = {
        p.code: p
        for p in Place.objects.filter(_under(zones), institution=institution).only(
            "code", "name", "kind", "path"
        )
    }
    ids = {p.pk: p for p in places.values()}
    rates: dict[str, FillRate] = {}
    for bay in bays:
        place = ids[bay.id]
        for owner in _owners(place, places, bay.zone, level):
            rate = rates.setdefault(owner.code, FillRate(owner.code, owner.name, owner.kind))
            rate.add(used.get(bay.id, Used()), bay)
    return list(rates.values())


def _owners(place: Place, places: dict[str, Place], zone: str, level: str) -> list[Place]:
    if level == "zone":
        return [places[zone]]
    chain = [places[code] for code in place.path.split("/")[1:] if code in places]
    return [p for p in chain if p.kind == level][-1:]
