"""Addressing ("adressage"): a target shelf for every work of a transfer programme.

Pure and fast: no ORM, integers only (see ``measures``). The rules:

- a work goes on a shelf only if it fits inside in some orientation, and if the shelf's load
  limit and inner volume, less the agreed headroom, hold it with everything the shelf already
  holds or is promised;
- a shelf of the plan holds one *group*, a department and a fragility class; groups are taken
  department by department, fragility class by class, each on consecutive free shelves of its
  department's zone, overflowing into the next zones;
- inside a group, works are taken largest first (the larger of their share of a shelf's load and
  of its volume) and each goes on the first of the group's shelves that takes it (first-fit
  decreasing), else on the next free shelf;
- a work no shelf could take goes to a fallback place (a storage unit) with room, else it is
  flagged for a registrar, as is a work whose dimensions or weight are not recorded.

The planner's memory between batches is a ``PlanState`` (the shelves each group opened, in order,
and a cursor per zone) plus what each shelf holds, which the caller reads back from the
assignments: a run split into batches, paused and resumed, places every work where an
uninterrupted run would have.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cimaise.moves.planning.measures import (
    G_PER_KG,
    MM_PER_CM,
    Dims,
    after_headroom,
    down,
    fits,
    largest_first,
    up,
    volume,
)

FRAGILITY_RANK = {"low": 0, "medium": 1, "high": 2, "extreme": 3}
UNMEASURED = "unmeasured"
FITS_NO_SHELF = "fits_no_shelf"
NO_ROOM = "no_room"
DEFAULT_HEADROOM = Decimal("0.15")
UNLIMITED = 1 << 62  # a limit that is not recorded, on a fallback place


@dataclass(frozen=True, slots=True)
class WorkSpec:
    """A work as the planners see it: sizes in mm (largest first), weight in g."""

    id: int
    department: str
    fragility: str
    dims: Dims | None
    weight: int | None
    volume: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "volume", volume(self.dims))

    @classmethod
    def measure(
        cls,
        id: int,
        department: str,
        fragility: str,
        height_cm: Any,
        width_cm: Any,
        depth_cm: Any,
        weight_kg: Any,
    ) -> WorkSpec:
        """From the registry's decimals (cm, kg)."""
        lengths = (up(height_cm, MM_PER_CM), up(width_cm, MM_PER_CM), up(depth_cm, MM_PER_CM))
        return cls(id, department, fragility, largest_first(lengths), up(weight_kg, G_PER_KG))

    @property
    def group(self) -> str:
        return f"{self.department}/{self.fragility}"

    @property
    def measured(self) -> bool:
        return self.dims is not None and self.weight is not None


@dataclass(frozen=True, slots=True)
class Bay:
    """A place that can receive works: a shelf, or a fallback place (a storage unit) that only
    takes works no shelf can. A limit that is not recorded is not checked (fallback only)."""

    id: int
    zone: str
    dims: Dims | None
    load: int | None
    fallback: bool = False

    @classmethod
    def measure(
        cls,
        id: int,
        zone: str,
        width_cm: Any,
        depth_cm: Any,
        height_cm: Any,
        load_kg: Any,
        *,
        fallback: bool = False,
    ) -> Bay:
        """From the place tree's decimals (cm, kg)."""
        lengths = (down(width_cm, MM_PER_CM), down(depth_cm, MM_PER_CM), down(height_cm, MM_PER_CM))
        return cls(id, zone, largest_first(lengths), down(load_kg, G_PER_KG), fallback)

    @property
    def volume(self) -> int | None:
        return None if self.dims is None else volume(self.dims)

    @property
    def plannable(self) -> bool:
        """A shelf needs every limit recorded; a fallback place at least its load limit."""
        return self.load is not None and (self.fallback or self.dims is not None)


@dataclass(slots=True)
class Used:
    """What a place holds or is promised: grams, cubic millimetres, works."""

    load: int = 0
    volume: int = 0
    works: int = 0

    def add(self, work: WorkSpec) -> None:
        self.load += work.weight or 0
        self.volume += work.volume
        self.works += 1


@dataclass(frozen=True, slots=True)
class Breach:
    """A limit a work would pass on a place: ``inner_dimensions``, ``load_limit_kg`` or
    ``inner_volume``, with what is needed and what is allowed (mm, g or mm³)."""

    limit: str
    needed: int | Dims
    allowed: int | Dims


def breaches(work: WorkSpec, bay: Bay, used: Used, headroom: Decimal) -> list[Breach]:
    """The limits ``work`` would pass on ``bay`` on top of ``used`` (only recorded ones)."""
    found = []
    if work.dims is not None and bay.dims is not None and not fits(work.dims, bay.dims):
        found.append(Breach("inner_dimensions", work.dims, bay.dims))
    load = after_headroom(bay.load, headroom)
    if work.weight is not None and load is not None and used.load + work.weight > load:
        found.append(Breach("load_limit_kg", used.load + work.weight, load))
    room = after_headroom(bay.volume, headroom)
    if work.dims is not None and room is not None and used.volume + work.volume > room:
        found.append(Breach("inner_volume", used.volume + work.volume, room))
    return found


@dataclass
class PlanState:
    """What a plan remembers between batches (JSON-ready)."""

    groups: dict[str, list[int]] = field(default_factory=dict)
    cursors: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"groups": self.groups, "cursors": self.cursors}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PlanState:
        groups = {str(k): [int(b) for b in v] for k, v in dict(data.get("groups", {})).items()}
        cursors = {str(k): int(v) for k, v in dict(data.get("cursors", {})).items()}
        return cls(groups, cursors)


@dataclass
class Outcome:
    """A batch's proposals: (work id, bay id) placed, (work id, reason) flagged."""

    placed: list[tuple[int, int]] = field(default_factory=list)
    flagged: list[tuple[int, str]] = field(default_factory=list)


class _Slot:
    """A bay and its room left (after headroom and what it holds)."""

    __slots__ = ("a", "b", "bay", "c", "load", "room", "works")

    def __init__(self, bay: Bay, used: Used | None, headroom: Decimal) -> None:
        self.bay = bay
        self.a, self.b, self.c = bay.dims or (UNLIMITED, UNLIMITED, UNLIMITED)
        load, room = after_headroom(bay.load, headroom), after_headroom(bay.volume, headroom)
        used = used or Used()
        self.load = UNLIMITED if load is None else load - used.load
        self.room = UNLIMITED if room is None else room - used.volume
        self.works = used.works

    def takes(self, work: WorkSpec) -> bool:
        a, b, c = work.dims or (UNLIMITED, UNLIMITED, UNLIMITED)
        weight = UNLIMITED if work.weight is None else work.weight
        return (
            weight <= self.load and work.volume <= self.room and a <= self.a and b <= self.b and c <= self.c
        )

    def take(self, work: WorkSpec) -> int:
        self.load -= work.weight or 0
        self.room -= work.volume
        self.works += 1
        return self.bay.id


class AddressingPlanner:
    """Proposes targets batch by batch; ``state`` carries over between batches.

    ``bays`` come in zone order, then in shelf order inside each zone (consecutive shelves are
    neighbours); ``used`` is what each bay already holds or is promised.
    """

    def __init__(
        self,
        bays: Sequence[Bay],
        used: Mapping[int, Used],
        *,
        headroom: Decimal = DEFAULT_HEADROOM,
        department_zones: Mapping[str, str] | None = None,
        state: PlanState | None = None,
    ) -> None:
        self.state = state or PlanState()
        self.department_zones = dict(department_zones or {})
        slots = [_Slot(bay, used.get(bay.id), headroom) for bay in bays if bay.plannable]
        self.slots = {slot.bay.id: slot for slot in slots}
        self.zones: dict[str, list[_Slot]] = {}
        for slot in slots:
            if not slot.bay.fallback:
                self.zones.setdefault(slot.bay.zone, []).append(slot)
        self.fallback = [slot for slot in slots if slot.bay.fallback]
        self._fallback_order: dict[str | None, list[_Slot]] = {}
        self.owner = {bay: group for group, ids in self.state.groups.items() for bay in ids}
        self.open = {
            group: [self.slots[b] for b in ids if b in self.slots] for group, ids in self.state.groups.items()
        }
        self.shapes = _shapes((bay for bay in bays if bay.plannable and not bay.fallback), headroom)
        self.reference = _reference(bay for bay in bays if bay.plannable and not bay.fallback)

    def order(self, works: Iterable[WorkSpec]) -> list[WorkSpec]:
        """Department by department (in their zones' order), fragility class by class, largest
        first: the order an uninterrupted run takes them in."""
        rank = {zone: i for i, zone in enumerate(self.zones)}
        load, room = self.reference

        def key(work: WorkSpec) -> tuple[int, str, int, str, float, int]:
            zone = rank.get(self.department_zones.get(work.department, ""), len(rank))
            size = max((work.weight or 0) / load, work.volume / room)
            return (
                zone,
                work.department,
                FRAGILITY_RANK.get(work.fragility, 9),
                work.fragility,
                -size,
                work.id,
            )

        return sorted(works, key=key)

    def run(self, works: Iterable[WorkSpec], limit: int | None = None) -> Outcome:
        """Address the first ``limit`` works (in planning order) of those given."""
        outcome = Outcome()
        for work in self.order(works)[:limit]:
            target = self.address(work)
            if isinstance(target, str):
                outcome.flagged.append((work.id, target))
            else:
                outcome.placed.append((work.id, target))
        return outcome

    def address(self, work: WorkSpec) -> int | str:
        """A bay id for this work, or the reason it has none."""
        if not work.measured:
            return UNMEASURED
        reason = FITS_NO_SHELF
        if self._fits_a_shelf(work):
            slot = self._in_group(work) or self._open(work)
            if slot is not None:
                return slot.take(work)
            reason = NO_ROOM
        for slot in self._fallbacks(work.department):
            if slot.takes(work):
                return slot.take(work)
        return reason

    def _fits_a_shelf(self, work: WorkSpec) -> bool:
        dims, weight = work.dims, work.weight or 0
        return dims is not None and any(
            fits(dims, (a, b, c)) and weight <= load and work.volume <= room
            for a, b, c, load, room in self.shapes
        )

    def _in_group(self, work: WorkSpec) -> _Slot | None:
        a, b, c = work.dims or (0, 0, 0)
        weight, room = work.weight or 0, work.volume
        for slot in self.open.get(work.group, ()):
            if weight <= slot.load and room <= slot.room and a <= slot.a and b <= slot.b and c <= slot.c:
                return slot
        return None

    def _zones_for(self, department: str) -> list[str]:
        preferred = self.department_zones.get(department)
        return sorted(self.zones, key=lambda zone: zone != preferred)

    def _open(self, work: WorkSpec) -> _Slot | None:
        for zone in self._zones_for(work.department):
            slot = self._next_free(zone, work)
            if slot is not None:
                self.owner[slot.bay.id] = work.group
                self.state.groups.setdefault(work.group, []).append(slot.bay.id)
                self.open.setdefault(work.group, []).append(slot)
                return slot
        return None

    def _free(self, slot: _Slot) -> bool:
        return slot.works == 0 and slot.bay.id not in self.owner

    def _next_free(self, zone: str, work: WorkSpec) -> _Slot | None:
        shelves = self.zones[zone]
        start = self.state.cursors.get(zone, 0)
        while start < len(shelves) and not self._free(shelves[start]):
            start += 1  # a shelf taken stays taken: the next search starts after it
        self.state.cursors[zone] = start
        for index in range(start, len(shelves)):
            slot = shelves[index]
            if self._free(slot) and slot.takes(work):
                return slot
        return None

    def _fallbacks(self, department: str) -> list[_Slot]:
        preferred = self.department_zones.get(department)
        if preferred not in self._fallback_order:
            ordered = sorted(self.fallback, key=lambda slot: slot.bay.zone != preferred)
            self._fallback_order[preferred] = ordered
        return self._fallback_order[preferred]


def _shapes(bays: Iterable[Bay], headroom: Decimal) -> list[tuple[int, int, int, int, int]]:
    """The distinct capacities of an empty shelf (dims, load and volume after headroom): a work
    none of them takes fits no shelf at all."""
    found = set()
    for bay in bays:
        load, room = after_headroom(bay.load, headroom), after_headroom(bay.volume, headroom)
        if bay.dims is not None and load is not None and room is not None:
            found.add((*bay.dims, load, room))
    return sorted(found)


def _reference(bays: Iterable[Bay]) -> tuple[int, int]:
    """The most common shelf's load limit and volume: the yardstick of a work's size."""
    common = Counter((bay.load or 1, bay.volume or 1) for bay in bays).most_common(1)
    return common[0][0] if common else (1, 1)
