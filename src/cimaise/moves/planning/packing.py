"""Packing: which works of a convoy go in which crate, and where in it.

Pure and fast: no ORM, integers only (mm, g). A three-dimensional guillotine heuristic,
first-fit decreasing by volume with rotations:

- works are taken largest first; each goes into the first open crate with a free block it fits
  in, in any of its six orientations: the tightest such block, lying as low as it can;
- the block is then cut in three: the column above the work (exactly its footprint, so whatever
  goes there rests wholly on it) and two blocks beside it, cut the way that keeps the larger
  piece whole;
- a work may rest only on a work at least as heavy, and nothing rests on a work of high
  fragility: fragile works are never under heavy ones;
- a crate never carries more than its maximum load; a vehicle, when given, never more than its
  load (crates' tare included) or its volume (crates' outer size, walls included);
- a work of extreme fragility travels alone, in the smallest free crate that takes it; a work no
  crate type takes needs a custom crate; both are flagged.

A new crate is taken from the stock in the order given (the caller puts reusable shuttle crates
first), the first whose type takes the work. ``pack(..., best=False, order=False)`` is the
plain first-fit baseline the benchmark compares with: works in arrival order, the first block
(lowest, then rearmost, then leftmost) and the first orientation that fit.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import permutations
from operator import attrgetter
from typing import NamedTuple

from cimaise.moves.planning.measures import Dims, fits, volume

TRAVELS_ALONE = "travels_alone"
NEEDS_CUSTOM_CRATE = "needs_custom_crate"
NO_CRATE_AVAILABLE = "no_crate_available"
VEHICLE_FULL = "vehicle_full"
CARRIES = ("low", "medium")  # fragility classes that may carry a lighter work
MIN_SIDE = 10  # mm: a thinner block takes nothing
_rank = attrgetter("rank")


@dataclass(frozen=True, slots=True)
class Item:
    """A work to pack: sizes in mm (largest first), weight in g."""

    id: int
    dims: Dims
    weight: int
    fragility: str
    volume: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "volume", volume(self.dims))


@dataclass(frozen=True, slots=True)
class CrateSpec:
    """A crate that can be used: inner length, width and height in mm, loads in g."""

    id: int
    kind: str
    length: int
    width: int
    height: int
    load: int
    tare: int = 0

    @property
    def shape(self) -> tuple[str, int, int, int, int, int]:
        """What makes two crates interchangeable (their type)."""
        return (self.kind, self.length, self.width, self.height, self.load, self.tare)

    @property
    def dims(self) -> Dims:
        a, b, c = sorted((self.length, self.width, self.height), reverse=True)
        return (a, b, c)

    @property
    def volume(self) -> int:
        return self.length * self.width * self.height

    def outer_volume(self, wall: int) -> int:
        return (self.length + 2 * wall) * (self.width + 2 * wall) * (self.height + 2 * wall)

    def takes(self, item: Item) -> bool:
        return item.weight <= self.load and fits(item.dims, self.dims)


@dataclass(frozen=True, slots=True)
class VehicleLimit:
    """A vehicle's load (g) and volume (mm³); None is not recorded. ``wall``: crate walls (mm)."""

    load: int | None
    volume: int | None
    wall: int = 50


@dataclass(frozen=True, slots=True)
class Placement:
    """A work in its crate: corner (mm from the crate's inner corner) and size along each axis
    (``dx`` along the crate's length, ``dy`` its width, ``dz`` its height)."""

    work: int
    x: int
    y: int
    z: int
    dx: int
    dy: int
    dz: int


class _Block(NamedTuple):
    """Free space in a crate; ``max_weight``: the heaviest work that may rest there."""

    rank: tuple[int, int, int, int]
    x: int
    y: int
    z: int
    dx: int
    dy: int
    dz: int
    max_weight: int
    dims: Dims


def _block(x: int, y: int, z: int, dx: int, dy: int, dz: int, max_weight: int, *, best: bool) -> _Block:
    size = dx * dy * dz
    a, b, c = sorted((dx, dy, dz), reverse=True)
    rank = (size, z, y, x) if best else (z, y, x, size)
    return _Block(rank, x, y, z, dx, dy, dz, max_weight, (a, b, c))


class OpenCrate:
    """A crate being filled: its free blocks, its load and what it holds."""

    __slots__ = ("alone", "best", "free", "items", "load", "placements", "spec")

    def __init__(self, spec: CrateSpec, *, best: bool = True, alone: bool = False) -> None:
        self.spec, self.best, self.alone = spec, best, alone
        self.load = 0
        self.items: list[Item] = []
        self.placements: list[Placement] = []
        self.free = [_block(0, 0, 0, spec.length, spec.width, spec.height, 1 << 62, best=best)]

    def fit(self, item: Item) -> tuple[int, Dims] | None:
        """Where the item would go (a free block's index and an orientation), or None."""
        if (self.alone and self.items) or self.load + item.weight > self.spec.load:
            return None
        a, b, c = item.dims
        start = bisect_left(self.free, (item.volume,), key=_rank) if self.best else 0
        for index in range(start, len(self.free)):
            block = self.free[index]
            s0, s1, s2 = block.dims
            if a <= s0 and b <= s1 and c <= s2 and item.weight <= block.max_weight:
                return index, self._orientation(item.dims, block)
        return None

    def _orientation(self, dims: Dims, block: _Block) -> Dims:
        fitting = [
            o for o in permutations(dims) if o[0] <= block.dx and o[1] <= block.dy and o[2] <= block.dz
        ]
        chosen = min(fitting, key=lambda o: o[2]) if self.best else fitting[0]
        return (chosen[0], chosen[1], chosen[2])

    def put(self, item: Item, index: int, orientation: Dims) -> Placement:
        """Place the item at the block's corner and cut what is left of the block in three."""
        block = self.free.pop(index)
        ox, oy, oz = orientation
        x, y, z = block.x, block.y, block.z
        carried = item.weight if item.fragility in CARRIES else -1
        pieces = [(x, y, z + oz, ox, oy, block.dz - oz, carried)] if carried >= 0 else []
        pieces += _beside(block, ox, oy)
        for piece in pieces:
            if min(piece[3:6]) >= MIN_SIDE:
                insort(self.free, _block(*piece, best=self.best), key=_rank)
        self.load += item.weight
        self.items.append(item)
        placement = Placement(item.id, x, y, z, ox, oy, oz)
        self.placements.append(placement)
        return placement


def _beside(block: _Block, ox: int, oy: int) -> list[tuple[int, int, int, int, int, int, int]]:
    """The two blocks beside a work put in the corner of ``block``, cut so that the larger of
    them is as large as it can be."""
    x, y, z, dx, dy, dz, carry = block.x, block.y, block.z, block.dx, block.dy, block.dz, block.max_weight
    long_x = [(x + ox, y, z, dx - ox, dy, dz, carry), (x, y + oy, z, ox, dy - oy, dz, carry)]
    long_y = [(x + ox, y, z, dx - ox, oy, dz, carry), (x, y + oy, z, dx, dy - oy, dz, carry)]
    largest = max((dx - ox) * dy, dx * (dy - oy))
    return long_x if (dx - ox) * dy == largest else long_y


@dataclass(frozen=True, slots=True)
class Flag:
    """A work that travels alone or cannot be packed, and why."""

    work: int
    reason: str


@dataclass
class PackingPlan:
    crates: list[OpenCrate] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    def crate_of(self) -> dict[int, int]:
        """Work id → crate id."""
        return {item.id: crate.spec.id for crate in self.crates for item in crate.items}


class _Packer:
    def __init__(self, stock: Sequence[CrateSpec], vehicle: VehicleLimit | None, *, best: bool) -> None:
        self.best = best
        self.types: dict[tuple[str, int, int, int, int, int], list[CrateSpec]] = {}
        for spec in stock:
            self.types.setdefault(spec.shape, []).append(spec)
        for queue in self.types.values():
            queue.reverse()  # popped from the end: the order given
        self.vehicle = vehicle
        self.vehicle_load = 0
        self.vehicle_volume = 0
        self.shapes = [queue[0] for queue in self.types.values()]
        self.plan = PackingPlan()
        self.open: list[OpenCrate] = []

    def add(self, item: Item) -> None:
        if item.fragility == "extreme":
            self._alone(item)
            return
        for crate in self.open:
            spot = crate.fit(item)
            if spot is not None and self._vehicle_takes(item.weight, 0):
                self._put(crate, item, spot)
                return
        reason = self._new_crate(item, self._candidates(item, smallest=False))
        if reason:
            self.plan.flags.append(Flag(item.id, reason))

    def _alone(self, item: Item) -> None:
        reason = self._new_crate(item, self._candidates(item, smallest=True), alone=True)
        self.plan.flags.append(Flag(item.id, reason or TRAVELS_ALONE))

    def _candidates(self, item: Item, *, smallest: bool) -> list[list[CrateSpec]]:
        fitting = [queue for queue in self.types.values() if queue and queue[-1].takes(item)]
        return sorted(fitting, key=lambda queue: queue[-1].volume) if smallest else fitting

    def _new_crate(self, item: Item, queues: list[list[CrateSpec]], *, alone: bool = False) -> str:
        """Open a crate for the item; the reason when none can be, else ''."""
        if not queues:
            some_type = any(spec.takes(item) for spec in self.shapes)
            return NO_CRATE_AVAILABLE if some_type else NEEDS_CUSTOM_CRATE
        for queue in queues:
            spec = queue[-1]
            if self._vehicle_takes(spec.tare + item.weight, self._outer(spec)):
                queue.pop()
                crate = OpenCrate(spec, best=self.best, alone=alone)
                self.vehicle_volume += self._outer(spec)
                self.vehicle_load += spec.tare
                self.plan.crates.append(crate)
                if not alone:
                    self.open.append(crate)
                spot = crate.fit(item)
                if spot is None:  # cannot happen: an empty crate of a type that takes the item
                    raise RuntimeError(f"work {item.id} does not fit an empty crate {spec.id}")
                self._put(crate, item, spot)
                return ""
        return VEHICLE_FULL

    def _put(self, crate: OpenCrate, item: Item, spot: tuple[int, Dims]) -> None:
        crate.put(item, *spot)
        self.vehicle_load += item.weight

    def _outer(self, spec: CrateSpec) -> int:
        return spec.outer_volume(self.vehicle.wall) if self.vehicle else 0

    def _vehicle_takes(self, weight: int, size: int) -> bool:
        limit = self.vehicle
        if limit is None:
            return True
        load_ok = limit.load is None or self.vehicle_load + weight <= limit.load
        return load_ok and (limit.volume is None or self.vehicle_volume + size <= limit.volume)


def largest_first(items: Iterable[Item]) -> list[Item]:
    """The planner's order: by volume, then weight, largest first."""
    return sorted(items, key=lambda item: (-item.volume, -item.weight, item.id))


def pack(
    items: Iterable[Item],
    stock: Sequence[CrateSpec],
    vehicle: VehicleLimit | None = None,
    *,
    best: bool = True,
    order: bool = True,
) -> PackingPlan:
    """Pack the items into crates taken from ``stock`` (each crate used once)."""
    packer = _Packer(stock, vehicle, best=best)
    for item in largest_first(items) if order else items:
        packer.add(item)
    return packer.plan
