"""Transfer planners: address 250,000 works to shelves and pack them into crates, each against a
first-fit baseline run in the same process on the same works.

The works follow the demo's distributions (``cimaise.collection.demo_data.PROFILES``: department
shares, dimension ranges, densities, fragility classes), in the order they leave the reserves.
The shelves are the full demo's conservation centre: zones Z1–Z5 (Z6, quarantine, is never a
target), 250 racks of 8 shelves each, 250 × 100 × 80 cm and 600 kg a shelf, each rack a
fallback place for works no shelf takes; departments prefer the demo's zones; 15 % headroom.
Crates: a reusable shuttle crate (inner 120 × 80 × 100 cm, 400 kg) and an isothermal crate for
large flat works (200 × 50 × 160 cm, 250 kg), as many as a convoy needs; works are packed
convoy by convoy (700 works) for a semi-trailer (90 m³, 24 t).

Both sides obey the same rules (a work fits its shelf or crate, limits less headroom, a shelf
holds one department and fragility class, nothing rests on a fragile or a lighter work, extreme
fragility travels alone); they differ in how they choose:

- addressing: the planner (``moves.planning.addressing``: class by class, largest first, on
  consecutive shelves) against first-fit in arrival order (each work on the first shelf of its
  class with room, else the next free shelf of its zone);
- packing: the planner (``moves.planning.packing``: largest first, tightest free block, lowest
  orientation) against first-fit in arrival order (first crate, first block, first orientation).

Lines: ``planner_addressing`` (% of the used shelves' inner volume filled; ``load_fill``, the
same for their load limit; ``shelves`` used; ``lower_bound_fill``, the volume fill no planner
can beat under these rules, from the fewest shelves each class could fit on by load and volume
alone; ``runs``: the stretches of consecutive shelves the classes are spread over),
``planner_packing`` (% of the used crates' inner volume filled; ``crates``), and the wall time
of each planner against its baseline.
The pure planners touch no database; Django is set up (scratch database) for the registry's
profiles. ``--works`` for a quicker run.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from _harness import emit, scratch_django  # type: ignore[import-not-found, unused-ignore]

from cimaise.moves.planning.addressing import AddressingPlanner, Bay, Outcome, WorkSpec
from cimaise.moves.planning.measures import after_headroom, fits
from cimaise.moves.planning.packing import CrateSpec, Item, VehicleLimit, pack

HEADROOM = Decimal("0.15")
ZONES = ("Z1", "Z2", "Z3", "Z4", "Z5")
DEPARTMENT_ZONES = {
    "PEI": "Z1",
    "SCU": "Z2",
    "OA": "Z3",
    "AI": "Z3",
    "AE": "Z4",
    "AO": "Z4",
    "AGER": "Z4",
    "HL": "Z4",
    "AG": "Z5",
}  # fmt: skip  (as moves.demo_data)
RACKS, SHELVES_PER_RACK = 250, 8
SHELF = (2500, 1000, 800)  # mm, largest first
SHELF_LOAD = 600_000  # g
RACK_LOAD = 1_500_000
CONVOY = 700
VEHICLE = VehicleLimit(load=24_000_000, volume=90 * 10**9)
SEED = 2019


def synthetic_works(n: int) -> list[WorkSpec]:
    """``n`` works drawn as the demo draws them (departments, sizes, densities, fragility)."""
    from cimaise.collection.demo_data import FRAGILITY, PROFILES

    rng = random.Random(SEED)
    departments, shares = list(PROFILES), [profile[0] for profile in PROFILES.values()]
    works = []
    for number in range(1, n + 1):
        department = rng.choices(departments, weights=shares)[0]
        _share, _prefixes, _titles, (h, w, d), density = PROFILES[department]
        height, width, depth = (round(rng.uniform(0.15, 1.0) * size, 1) for size in (h, w, d))
        weight = max(0.05, round(height * width * depth / 1000 * density * rng.uniform(0.5, 1.5), 2))
        fragility = rng.choices(*FRAGILITY)[0]
        works.append(WorkSpec.measure(number, department, fragility, height, width, depth, weight))
    return works


def centre_bays() -> list[Bay]:
    """Shelves numbered in order along each zone; racks (fallback places) numbered apart."""
    shelves: list[Bay] = []
    racks: list[Bay] = []
    for zone in ZONES:
        for _rack in range(RACKS):
            racks.append(Bay(1_000_000 + len(racks), zone, None, RACK_LOAD, fallback=True))
            for _shelf in range(SHELVES_PER_RACK):
                shelves.append(Bay(len(shelves) + 1, zone, SHELF, SHELF_LOAD))
    return shelves + racks


class FirstFit:
    """The addressing baseline: each work, in arrival order, on the first shelf of its class that
    takes it, else on the next free shelf of its zone (then the others), else on a rack."""

    def __init__(self, bays: Sequence[Bay]) -> None:
        self.zones: dict[str, list[Bay]] = defaultdict(list)
        for bay in bays:
            if not bay.fallback:
                self.zones[bay.zone].append(bay)
        self.racks = [bay for bay in bays if bay.fallback]
        self.rack_left = {bay.id: after_headroom(bay.load, HEADROOM) or 0 for bay in self.racks}
        self.cursor = dict.fromkeys(self.zones, 0)
        self.groups: dict[str, list[list[Any]]] = defaultdict(list)  # [bay, load left, room left]
        shelf = next(bay for bay in bays if not bay.fallback)
        self.load, self.room = (
            after_headroom(shelf.load, HEADROOM) or 0,
            after_headroom(shelf.volume, HEADROOM) or 0,
        )

    def run(self, works: Sequence[WorkSpec]) -> Outcome:
        outcome = Outcome()
        for work in works:
            bay = self.address(work)
            if bay is None:
                outcome.flagged.append((work.id, "no_room"))
            else:
                outcome.placed.append((work.id, bay))
        return outcome

    def address(self, work: WorkSpec) -> int | None:
        weight, size = work.weight or 0, work.volume
        if work.dims is not None and fits(work.dims, SHELF) and weight <= self.load and size <= self.room:
            for slot in self.groups[work.group]:
                if weight <= slot[1] and size <= slot[2]:
                    slot[1] -= weight
                    slot[2] -= size
                    return int(slot[0].id)
            fresh = self._next_shelf(work.department)
            if fresh is not None:
                self.groups[work.group].append([fresh, self.load - weight, self.room - size])
                return fresh.id
        for rack in self.racks:
            if weight <= self.rack_left[rack.id]:
                self.rack_left[rack.id] -= weight
                return rack.id
        return None

    def _next_shelf(self, department: str) -> Bay | None:
        preferred = DEPARTMENT_ZONES.get(department)
        for zone in sorted(self.zones, key=lambda z: z != preferred):
            if self.cursor[zone] < len(self.zones[zone]):
                self.cursor[zone] += 1
                return self.zones[zone][self.cursor[zone] - 1]
        return None


def shelf_figures(works: Sequence[WorkSpec], bays: Sequence[Bay], outcome: Outcome) -> dict[str, float]:
    """Fill of the shelves used (works on racks apart), and the stretches of consecutive shelves
    each class is spread over."""
    by_id, by_bay = {w.id: w for w in works}, {b.id: b for b in bays}
    shelves: dict[int, str] = {}
    volume = load = 0
    for work_id, bay_id in outcome.placed:
        if not by_bay[bay_id].fallback:
            shelves[bay_id] = by_id[work_id].group
            volume += by_id[work_id].volume
            load += by_id[work_id].weight or 0
    used = max(len(shelves), 1)
    runs = sum(1 for b in shelves if shelves.get(b - 1) != shelves[b])  # a run starts after another class
    return {
        "fill": 100 * volume / (used * math.prod(SHELF)),
        "load": 100 * load / (used * SHELF_LOAD),
        "shelves": len(shelves),
        "runs": runs,
        "volume": volume,
    }


def lower_bound(works: Sequence[WorkSpec], placed_on_shelves: set[int]) -> int:
    """The fewest shelves that could hold these works, class by class (load and volume alone)."""
    load, room = after_headroom(SHELF_LOAD, HEADROOM) or 1, after_headroom(math.prod(SHELF), HEADROOM) or 1
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for work in works:
        if work.id in placed_on_shelves:
            totals[work.group][0] += work.weight or 0
            totals[work.group][1] += work.volume
    return sum(math.ceil(max(w / load, v / room)) for w, v in totals.values())


def timed[T](run: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def bench_addressing(works: list[WorkSpec]) -> tuple[float, float]:
    bays = centre_bays()
    by_bay = {b.id: b for b in bays}
    planner = AddressingPlanner(bays, {}, headroom=HEADROOM, department_zones=DEPARTMENT_ZONES)
    ours_s, ours = timed(lambda: planner.run(works))
    base_s, base = timed(lambda: FirstFit(bays).run(works))
    mine, first = shelf_figures(works, bays, ours), shelf_figures(works, bays, base)
    on_shelves = {w for w, b in ours.placed if not by_bay[b].fallback}
    bound = lower_bound(works, on_shelves)
    line = {
        "bench": "planner_addressing", "metric": round(mine["fill"], 1), "unit": "% shelf volume used",
        "baseline": round(first["fill"], 1), "ratio": round(mine["fill"] / first["fill"], 3), "n": len(works),
        "shelves": mine["shelves"], "baseline_shelves": first["shelves"],
        "load_fill": round(mine["load"], 1), "baseline_load_fill": round(first["load"], 1),
        "lower_bound_fill": round(100 * mine["volume"] / (bound * math.prod(SHELF)), 1),
        "runs": mine["runs"], "baseline_runs": first["runs"],
        "flagged": len(ours.flagged), "baseline_flagged": len(base.flagged),
    }  # fmt: skip
    print(json.dumps(line))
    return ours_s, base_s


def crate_stock() -> list[CrateSpec]:
    shuttles = [CrateSpec(n, "shuttle", 1200, 800, 1000, 400_000, 70_000) for n in range(1, 201)]
    return shuttles + [
        CrateSpec(1000 + n, "isothermal", 2000, 500, 1600, 250_000, 90_000) for n in range(1, 81)
    ]


def pack_convoys(items: list[Item], *, best: bool) -> dict[str, float]:
    """Pack convoy after convoy; fill of the shared crates (crates with one work alone apart)."""
    stock = crate_stock()
    crates = used = packed = left = 0
    for start in range(0, len(items), CONVOY):
        plan = pack(items[start : start + CONVOY], stock, VEHICLE, best=best, order=best)
        for crate in plan.crates:
            if not crate.alone:
                crates += 1
                used += crate.spec.volume
                packed += sum(item.volume for item in crate.items)
        left += sum(1 for flag in plan.flags if flag.reason not in ("travels_alone", "needs_custom_crate"))
    return {"fill": 100 * packed / max(used, 1), "crates": crates, "left": left}


def bench_packing(works: list[WorkSpec]) -> tuple[float, float]:
    items = [Item(w.id, w.dims, w.weight, w.fragility) for w in works if w.dims is not None and w.weight]
    ours_s, ours = timed(lambda: pack_convoys(items, best=True))
    base_s, base = timed(lambda: pack_convoys(items, best=False))
    line = {
        "bench": "planner_packing", "metric": round(ours["fill"], 1), "unit": "% crate volume used",
        "baseline": round(base["fill"], 1), "ratio": round(ours["fill"] / base["fill"], 3), "n": len(items),
        "crates": ours["crates"], "baseline_crates": base["crates"],
        "left_behind": ours["left"], "baseline_left_behind": base["left"],
    }  # fmt: skip
    print(json.dumps(line))
    return ours_s, base_s


def main() -> int:
    parser = argparse.ArgumentParser(description="Addressing and packing planners vs first-fit.")
    parser.add_argument("--works", type=int, default=250_000, help="works to plan (default 250,000)")
    args = parser.parse_args()
    with scratch_django():
        works = synthetic_works(args.works)
        address_s, address_base_s = bench_addressing(works)
        pack_s, pack_base_s = bench_packing(works)
    emit("planner_addressing_seconds", metric=address_s, baseline=address_base_s, unit="s", n=args.works)
    emit("planner_packing_seconds", metric=pack_s, baseline=pack_base_s, unit="s", n=args.works)
    emit(
        "planner_seconds",
        metric=address_s + pack_s,
        baseline=address_base_s + pack_base_s,
        unit="s",
        n=args.works,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
