"""The packing planner on its own (no database): whatever the works, crates and vehicle, every
work sits inside its crate without overlapping another, no crate or vehicle carries more than
its limits, nothing rests on a fragile or a lighter work, a work of extreme fragility travels
alone, and each work is packed at most once. The first-fit baseline obeys the same rules."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from cimaise.moves.planning.packing import (
    CARRIES,
    NEEDS_CUSTOM_CRATE,
    NO_CRATE_AVAILABLE,
    TRAVELS_ALONE,
    VEHICLE_FULL,
    CrateSpec,
    Item,
    OpenCrate,
    PackingPlan,
    Placement,
    VehicleLimit,
    pack,
)

FRAGILITIES = ("low", "medium", "high", "extreme")


@st.composite
def items(draw: st.DrawFn) -> list[Item]:
    made = []
    for i in range(draw(st.integers(0, 45))):
        a, b, c = sorted(draw(st.tuples(*[st.integers(20, 1400)] * 3)), reverse=True)
        weight = draw(st.integers(100, 120_000))
        made.append(Item(i + 1, (a, b, c), weight, draw(st.sampled_from(FRAGILITIES))))
    return made


@st.composite
def stock(draw: st.DrawFn) -> list[CrateSpec]:
    kinds = [
        ("shuttle", 1200, 800, 1000, 300_000, 60_000),
        ("isothermal", 2000, 500, 1600, 200_000, 80_000),
        ("custom", 700, 600, 500, 100_000, 30_000),
    ]
    crates: list[CrateSpec] = []
    for kind, length, width, height, load, tare in kinds:
        for _ in range(draw(st.integers(0, 6))):
            crates.append(CrateSpec(len(crates) + 1, kind, length, width, height, load, tare))
    return crates


vehicles = st.one_of(
    st.none(),
    st.builds(
        VehicleLimit,
        st.one_of(st.none(), st.integers(100_000, 2_000_000)),
        st.one_of(st.none(), st.integers(10**9, 20 * 10**9)),
        st.sampled_from([0, 50]),
    ),
)


def overlap(p: Placement, q: Placement) -> bool:
    return (
        p.x < q.x + q.dx
        and q.x < p.x + p.dx
        and p.y < q.y + q.dy
        and q.y < p.y + p.dy
        and p.z < q.z + q.dz
        and q.z < p.z + p.dz
    )


def footprints_meet(p: Placement, q: Placement) -> bool:
    return p.x < q.x + q.dx and q.x < p.x + p.dx and p.y < q.y + q.dy and q.y < p.y + p.dy


def check_crate(crate: OpenCrate, by_id: dict[int, Item]) -> None:
    spec = crate.spec
    assert sum(item.weight for item in crate.items) == crate.load <= spec.load
    for p in crate.placements:
        assert 0 <= p.x and p.x + p.dx <= spec.length
        assert 0 <= p.y and p.y + p.dy <= spec.width
        assert 0 <= p.z and p.z + p.dz <= spec.height
        assert sorted((p.dx, p.dy, p.dz), reverse=True) == list(by_id[p.work].dims)
    for i, p in enumerate(crate.placements):
        for q in crate.placements[i + 1 :]:
            assert not overlap(p, q)
    for below in crate.placements:
        for above in crate.placements:
            if above.z >= below.z + below.dz and footprints_meet(above, below):
                assert by_id[below.work].fragility in CARRIES
                assert by_id[above.work].weight <= by_id[below.work].weight
    if any(item.fragility == "extreme" for item in crate.items):
        assert len(crate.items) == 1 and crate.alone


def check_plan(
    plan: PackingPlan, works: list[Item], crates: list[CrateSpec], vehicle: VehicleLimit | None
) -> None:
    by_id = {item.id: item for item in works}
    packed = Counter(item.id for crate in plan.crates for item in crate.items)
    assert all(n == 1 for n in packed.values())
    flagged = {flag.work: flag.reason for flag in plan.flags}
    assert set(packed) | set(flagged) == set(by_id)
    assert all(reason == TRAVELS_ALONE for w, reason in flagged.items() if w in packed)
    assert len({crate.spec.id for crate in plan.crates}) == len(plan.crates)  # each crate used once
    assert {crate.spec.id for crate in plan.crates} <= {spec.id for spec in crates}
    for crate in plan.crates:
        check_crate(crate, by_id)
    if vehicle is not None:
        gross = sum(crate.spec.tare + crate.load for crate in plan.crates)
        size = sum(crate.spec.outer_volume(vehicle.wall) for crate in plan.crates)
        assert vehicle.load is None or gross <= vehicle.load
        assert vehicle.volume is None or size <= vehicle.volume


@settings(max_examples=200, deadline=None)
@given(items(), stock(), vehicles)
def test_the_packing_planner_never_passes_a_crate_or_vehicle_limit(
    works: list[Item], crates: list[CrateSpec], vehicle: VehicleLimit | None
) -> None:
    check_plan(pack(works, crates, vehicle), works, crates, vehicle)


@settings(max_examples=100, deadline=None)
@given(items(), stock(), vehicles)
def test_the_first_fit_baseline_obeys_the_same_rules(
    works: list[Item], crates: list[CrateSpec], vehicle: VehicleLimit | None
) -> None:
    check_plan(pack(works, crates, vehicle, best=False, order=False), works, crates, vehicle)


@settings(max_examples=100, deadline=None)
@given(items(), stock())
def test_a_work_is_left_out_only_for_a_reason_that_holds(works: list[Item], crates: list[CrateSpec]) -> None:
    plan = pack(works, crates)
    by_id = {item.id: item for item in works}
    for flag in plan.flags:
        takes = [spec for spec in crates if spec.takes(by_id[flag.work])]
        if flag.reason == NEEDS_CUSTOM_CRATE:
            assert takes == []
        if flag.reason == NO_CRATE_AVAILABLE:
            assert takes != []
        assert flag.reason != VEHICLE_FULL  # no vehicle given


def test_a_fragile_work_goes_on_a_heavy_one_and_carries_nothing() -> None:
    crates = [CrateSpec(n, "shuttle", 1000, 1000, 1000, 500_000) for n in (1, 2)]
    heavy = Item(1, (1000, 1000, 300), 40_000, "low")
    fragile = Item(2, (1000, 1000, 300), 5_000, "high")
    small = Item(3, (400, 400, 300), 2_000, "low")
    plan = pack([small, fragile, heavy], crates)
    first, second = plan.crates
    assert [(p.work, p.z) for p in first.placements] == [(1, 0), (2, 300)]
    assert [(p.work, p.z) for p in second.placements] == [(3, 0)]


def test_an_extremely_fragile_work_travels_alone_in_the_smallest_crate_that_takes_it() -> None:
    big = CrateSpec(1, "shuttle", 1200, 800, 1000, 300_000)
    small = CrateSpec(2, "custom", 600, 500, 400, 100_000)
    plan = pack(
        [Item(1, (500, 400, 300), 8_000, "extreme"), Item(2, (100, 100, 100), 500, "low")], [big, small]
    )
    alone = [crate for crate in plan.crates if crate.alone]
    assert [(c.spec.id, [i.id for i in c.items]) for c in alone] == [(2, [1])]
    assert [(f.work, f.reason) for f in plan.flags] == [(1, TRAVELS_ALONE)]


def test_a_vehicle_that_is_full_leaves_the_rest_behind() -> None:
    crates = [CrateSpec(n, "shuttle", 1000, 1000, 1000, 100_000, 50_000) for n in range(1, 4)]
    works = [Item(n, (900, 900, 900), 60_000, "low") for n in range(1, 4)]
    plan = pack(works, crates, VehicleLimit(load=250_000, volume=None, wall=0))
    assert len(plan.crates) == 2
    assert [f.reason for f in plan.flags] == [VEHICLE_FULL]
