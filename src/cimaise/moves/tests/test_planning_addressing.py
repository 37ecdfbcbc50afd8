"""The addressing planner on its own (no database): whatever the works and shelves, no shelf
is given more than its limits allow, each work is placed at most once, a shelf holds one
department and fragility class, each class sits on consecutive shelves, and a run split in
batches (the planner rebuilt from its saved state each time) places every work where an
uninterrupted run does."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from cimaise.moves.planning.addressing import (
    FITS_NO_SHELF,
    NO_ROOM,
    UNMEASURED,
    AddressingPlanner,
    Bay,
    PlanState,
    Used,
    WorkSpec,
    breaches,
)
from cimaise.moves.planning.measures import after_headroom, fits

DEPARTMENTS = ("AE", "PEI", "SCU")
FRAGILITIES = ("low", "medium", "high", "extreme")
HEADROOMS = (Decimal(0), Decimal("0.15"), Decimal("0.5"))
SHELF_DIMS = ((1200, 600, 400), (800, 500, 300), (2500, 1000, 800))


@st.composite
def works(draw: st.DrawFn) -> list[WorkSpec]:
    count = draw(st.integers(0, 40))
    made = []
    for i in range(count):
        dims = draw(
            st.one_of(
                st.none(),
                st.tuples(*[st.integers(10, 1300)] * 3).map(lambda d: tuple(sorted(d, reverse=True))),
            )
        )
        weight = draw(st.one_of(st.none(), st.integers(1, 60_000))) if dims else None
        made.append(
            WorkSpec(
                i + 1, draw(st.sampled_from(DEPARTMENTS)), draw(st.sampled_from(FRAGILITIES)), dims, weight
            )
        )
    return made


@st.composite
def shelving(draw: st.DrawFn, *, same: bool = False) -> list[Bay]:
    bays: list[Bay] = []
    for zone in ("Z1", "Z2", "Z3")[: draw(st.integers(1, 3))]:
        for _ in range(draw(st.integers(0, 8))):
            dims = SHELF_DIMS[0] if same else draw(st.sampled_from(SHELF_DIMS))
            load = 100_000 if same else draw(st.integers(5_000, 200_000))
            bays.append(Bay(len(bays) + 1, zone, dims, load))
    if not same and draw(st.booleans()):
        bays.append(Bay(len(bays) + 1, "Z1", None, draw(st.integers(10_000, 500_000)), fallback=True))
    return bays


def used_by(bays: list[Bay], works: list[WorkSpec], placed: list[tuple[int, int]]) -> dict[int, Used]:
    by_id = {w.id: w for w in works}
    used: dict[int, Used] = defaultdict(Used)
    for work, bay in placed:
        used[bay].add(by_id[work])
    return used


department_zones = st.dictionaries(
    st.sampled_from(DEPARTMENTS), st.sampled_from(("Z1", "Z2", "Z3")), max_size=3
)


@settings(max_examples=150, deadline=None)
@given(works(), shelving(), st.sampled_from(HEADROOMS), department_zones)
def test_the_planner_never_overfills_a_shelf_and_places_each_work_once(
    items: list[WorkSpec], bays: list[Bay], headroom: Decimal, zones: dict[str, str]
) -> None:
    outcome = AddressingPlanner(bays, {}, headroom=headroom, department_zones=zones).run(items)
    handled = [w for w, _ in outcome.placed] + [w for w, _ in outcome.flagged]
    assert sorted(handled) == sorted(w.id for w in items)
    by_id, by_bay = {w.id: w for w in items}, {b.id: b for b in bays}
    load: dict[int, int] = defaultdict(int)
    room: dict[int, int] = defaultdict(int)
    for work_id, bay_id in outcome.placed:
        work, bay = by_id[work_id], by_bay[bay_id]
        assert work.dims is not None and work.weight is not None
        assert bay.dims is None or fits(work.dims, bay.dims)
        load[bay_id] += work.weight
        room[bay_id] += work.volume
    for bay_id in load:
        bay = by_bay[bay_id]
        assert load[bay_id] <= (after_headroom(bay.load, headroom) or 0)
        assert bay.volume is None or room[bay_id] <= (after_headroom(bay.volume, headroom) or 0)
    for work_id, reason in outcome.flagged:
        assert (reason == UNMEASURED) == (not by_id[work_id].measured)


@settings(max_examples=100, deadline=None)
@given(works(), shelving(), st.sampled_from(HEADROOMS))
def test_a_work_flagged_as_fitting_no_shelf_fits_no_empty_shelf(
    items: list[WorkSpec], bays: list[Bay], headroom: Decimal
) -> None:
    outcome = AddressingPlanner(bays, {}, headroom=headroom).run(items)
    by_id = {w.id: w for w in items}
    shelves = [b for b in bays if not b.fallback]
    for work_id, reason in outcome.flagged:
        work = by_id[work_id]
        takes = [b for b in shelves if not breaches(work, b, Used(), headroom)]
        if reason == FITS_NO_SHELF:
            assert takes == []
        if reason == NO_ROOM:
            assert takes != []


@settings(max_examples=150, deadline=None)
@given(works(), shelving(), department_zones)
def test_a_shelf_holds_one_department_and_fragility_class(
    items: list[WorkSpec], bays: list[Bay], zones: dict[str, str]
) -> None:
    outcome = AddressingPlanner(bays, {}, department_zones=zones).run(items)
    by_id, by_bay = {w.id: w for w in items}, {b.id: b for b in bays}
    groups: dict[int, set[str]] = defaultdict(set)
    for work_id, bay_id in outcome.placed:
        if not by_bay[bay_id].fallback:
            groups[bay_id].add(by_id[work_id].group)
    assert all(len(found) == 1 for found in groups.values())


@settings(max_examples=150, deadline=None)
@given(works(), shelving(same=True), department_zones)
def test_each_class_sits_on_consecutive_shelves_of_a_zone(
    items: list[WorkSpec], bays: list[Bay], zones: dict[str, str]
) -> None:
    planner = AddressingPlanner(bays, {}, department_zones=zones)
    planner.run(items)
    position = {}
    for zone in {b.zone for b in bays}:
        position.update({b.id: (zone, i) for i, b in enumerate(b for b in bays if b.zone == zone)})
    for opened in planner.state.groups.values():
        by_zone: dict[str, list[int]] = defaultdict(list)
        for bay_id in opened:
            zone, index = position[bay_id]
            by_zone[zone].append(index)
        for indexes in by_zone.values():
            assert indexes == list(range(indexes[0], indexes[0] + len(indexes)))


@settings(max_examples=150, deadline=None)
@given(
    works(), shelving(), st.sampled_from(HEADROOMS), department_zones, st.lists(st.integers(1, 9), min_size=1)
)
def test_a_run_in_batches_resumed_from_its_saved_state_places_works_as_one_run_does(
    items: list[WorkSpec], bays: list[Bay], headroom: Decimal, zones: dict[str, str], sizes: list[int]
) -> None:
    whole = AddressingPlanner(bays, {}, headroom=headroom, department_zones=zones).run(items)
    placed: list[tuple[int, int]] = []
    flagged: list[tuple[int, str]] = []
    saved: dict[str, object] = {}
    step = 0
    while len(placed) + len(flagged) < len(items):
        done = {w for w, _ in placed} | {w for w, _ in flagged}
        left = [w for w in items if w.id not in done]
        state = PlanState.from_json(json.loads(json.dumps(saved)))  # as the run row keeps it
        planner = AddressingPlanner(
            bays, used_by(bays, items, placed), headroom=headroom, department_zones=zones, state=state
        )
        batch = planner.run(left, limit=sizes[step % len(sizes)])
        placed += batch.placed
        flagged += batch.flagged
        saved = planner.state.as_json()
        step += 1
    assert placed == whole.placed
    assert flagged == whole.flagged


def test_what_a_shelf_holds_already_counts_against_its_limits() -> None:
    shelf = Bay(1, "Z1", (1000, 500, 400), 10_000)
    work = WorkSpec(1, "AE", "low", (300, 200, 100), 3_000)
    assert breaches(work, shelf, Used(load=5_500), Decimal("0.15")) == []
    found = breaches(work, shelf, Used(load=5_600), Decimal("0.15"))
    assert [(b.limit, b.needed, b.allowed) for b in found] == [("load_limit_kg", 8_600, 8_500)]
    taken = AddressingPlanner([shelf], {1: Used(load=5_600, works=1)}).run([work])
    assert taken.flagged == [(1, NO_ROOM)]


def test_a_work_too_big_for_every_shelf_goes_to_a_storage_unit_with_room() -> None:
    shelf = Bay(1, "Z1", (1000, 500, 400), 100_000)
    unit = Bay(2, "Z1", None, 20_000, fallback=True)
    painting = WorkSpec(1, "PEI", "medium", (2200, 1800, 100), 15_000)
    heavy = WorkSpec(2, "PEI", "medium", (2000, 1500, 100), 15_000)
    outcome = AddressingPlanner([shelf, unit], {}).run([painting, heavy])
    assert outcome.placed == [(1, 2)]
    assert outcome.flagged == [(2, FITS_NO_SHELF)]


def test_works_are_measured_rounding_the_work_up_and_the_shelf_down() -> None:
    work = WorkSpec.measure(1, "AE", "low", Decimal("30.05"), Decimal("20"), Decimal("10"), Decimal("1.2345"))
    shelf = Bay.measure(1, "Z1", Decimal("30.09"), Decimal("20"), Decimal("10"), Decimal("1.2349"))
    assert work.dims == (301, 200, 100) and work.weight == 1235
    assert shelf.dims == (300, 200, 100) and shelf.load == 1234
    assert [b.limit for b in breaches(work, shelf, Used(), Decimal(0))] == [
        "inner_dimensions",
        "load_limit_kg",
        "inner_volume",
    ]
