"""Addressing runs and packing through the services: targets written in batches with their
facts, a run paused and resumed ending where an uninterrupted one does, a resent batch written
once, targets set by hand checked against the shelf, fill rates, and a convoy packed into the
crates that are free."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from cimaise.collection.models import Work
from cimaise.core.errors import Conflict, InvalidInput
from cimaise.core.models import Institution, Place, Site
from cimaise.core.tests.personas import Cast
from cimaise.ledger.models import Fact
from cimaise.moves.models import (
    AddressingFlag,
    AddressingRun,
    Assignment,
    Convoy,
    ConvoyItem,
    Crate,
    PackingPlacement,
    Programme,
    Vehicle,
)
from cimaise.moves.planning import packing_services, selectors, services
from cimaise.moves.services import custody_capture
from cimaise.moves.tests.factories import aggregation

pytestmark = pytest.mark.django_db

CCL_SHELF = {"inner_width_cm": Decimal(100), "inner_depth_cm": Decimal(50), "inner_height_cm": Decimal(40)}


def add_place(site: Site, code: str, kind: str, parent: Place | None, **extra: Any) -> Place:
    path = f"{parent.path}/{code}" if parent else f"{site.code}/{code}"
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
class Centre:
    institution: Institution
    reserve: Place
    zones: list[Place]
    shelves: list[Place]
    unit: Place
    programme: Programme


def make_centre(cast: Cast, *, zones: int = 2, shelves: int = 6, load: str = "40") -> Centre:
    louvre = cast.institution_a
    reserve_room = add_place(cast.site_a, "PAL-R1", "room", None)
    reserve = add_place(cast.site_a, "PAL-R1-S1", "shelf", reserve_room)
    ccl = Site.objects.create(institution=louvre, code="CCL", name="CCL")
    building = add_place(ccl, "CCL-B1", "building", None)
    rooms, made = [], []
    for z in range(1, zones + 1):
        room = add_place(ccl, f"CCL-Z{z}", "room", building)
        rooms.append(room)
        rack = add_place(ccl, f"CCL-Z{z}-U1", "unit", room, load_limit_kg=Decimal(300))
        for s in range(1, shelves + 1):
            made.append(
                add_place(ccl, f"CCL-Z{z}-U1-S{s}", "shelf", rack, load_limit_kg=Decimal(load), **CCL_SHELF)
            )
    unit = Place.objects.get(code="CCL-Z1-U1")
    programme = Programme.objects.create(institution=louvre, code="P-CCL", name="Transfert")
    return Centre(louvre, reserve, rooms, made, unit, programme)


def add_work(
    centre: Centre, n: int, department: str, size: tuple[int, int, int], kg: str, fragility: str = "medium"
) -> Work:
    h, w, d = size
    return Work.objects.create(
        institution=centre.institution, inventory=f"INV {n}", title=f"Œuvre {n}", department=department,
        height_cm=Decimal(h), width_cm=Decimal(w), depth_cm=Decimal(d), weight_kg=Decimal(kg),
        fragility=fragility, normal_place=centre.reserve,
    )  # fmt: skip


def add_collection(centre: Centre, count: int = 24) -> list[Work]:
    departments = ("AE", "PEI", "AE", "SCU")
    return [
        add_work(
            centre,
            n,
            departments[n % 4],
            (20 + n % 5 * 7, 30, 10 + n % 3 * 5),
            str(3 + n % 7),
            ("low", "high")[n % 2],
        )
        for n in range(1, count + 1)
    ]


def start(cast: Cast, centre: Centre, code: str = "P-CCL", batch_size: int = 5000) -> AddressingRun:
    settings = services.RunSettings(
        sources=["PAL-R1"],
        destinations=[z.code for z in centre.zones],
        department_zones={"PEI": centre.zones[-1].code},
        batch_size=batch_size,
    )
    return services.addressing_start(actor=cast.registrar_a.actor, programme_code=code, settings=settings)


def targets(programme: Programme) -> dict[str, str]:
    rows = Assignment.objects.filter(programme=programme).values_list("work__inventory", "target__code")
    return dict(rows)


def test_a_run_gives_every_work_a_shelf_in_one_batch_with_its_fact(cast: Cast) -> None:
    centre = make_centre(cast)
    works = add_collection(centre)
    start(cast, centre)
    result = services.addressing_apply(actor=cast.registrar_a.actor, programme_code="P-CCL")
    assert result.created and result.batch.number == 1
    assert result.run.state == AddressingRun.State.DONE
    found = targets(centre.programme)
    assert set(found) == {w.inventory for w in works}
    assert all(code.startswith("CCL-Z") for code in found.values())
    peintures = {code for inv, code in found.items() if Work.objects.get(inventory=inv).department == "PEI"}
    assert all(code.startswith("CCL-Z2") for code in peintures)  # the department's preferred zone
    fact = Fact.objects.get(pk=result.batch.fact_id)
    body = json.loads(fact.body)
    assert fact.type == "moves.addressing.batch_applied" and body["done"] is True
    assert dict(map(tuple, body["targets"])) == found
    assert Fact.objects.filter(type="moves.addressing.started").count() == 1


def test_a_run_paused_and_resumed_ends_where_an_uninterrupted_run_does(cast: Cast) -> None:
    centre = make_centre(cast)
    add_collection(centre, 30)
    start(cast, centre)
    services.addressing_apply(actor=cast.registrar_a.actor, programme_code="P-CCL")
    whole = targets(centre.programme)
    Programme.objects.filter(pk=centre.programme.pk).update(active=False)  # its targets no longer count

    again = Programme.objects.create(institution=centre.institution, code="P-2", name="Encore")
    start(cast, centre, "P-2", batch_size=7)
    actor = cast.registrar_a.actor
    services.addressing_apply(actor=actor, programme_code="P-2")
    services.addressing_pause(actor=actor, programme_code="P-2", reason="fermeture du 16 mars")
    with pytest.raises(Conflict) as paused:
        services.addressing_apply(actor=actor, programme_code="P-2")
    assert paused.value.code == "paused"
    run = services.addressing_resume(actor=actor, programme_code="P-2")
    assert run.state == AddressingRun.State.RUNNING and run.batches == 1
    while run.state != AddressingRun.State.DONE:
        run = services.addressing_apply(actor=actor, programme_code="P-2").run
    assert run.batches == 5
    assert targets(again) == whole
    kinds = list(Fact.objects.filter(type__startswith="moves.addressing.").values_list("type", flat=True))
    assert kinds.count("moves.addressing.paused") == 1 and kinds.count("moves.addressing.resumed") == 1


def test_a_batch_resent_under_its_number_is_written_once(cast: Cast) -> None:
    centre = make_centre(cast)
    add_collection(centre, 10)
    start(cast, centre, batch_size=4)
    actor = cast.registrar_a.actor
    first = services.addressing_apply(actor=actor, programme_code="P-CCL", batch=1)
    facts = Fact.objects.count()
    again = services.addressing_apply(actor=actor, programme_code="P-CCL", batch=1)
    assert not again.created and again.batch.pk == first.batch.pk
    assert Fact.objects.count() == facts and Assignment.objects.count() == 4
    with pytest.raises(Conflict) as skipped:
        services.addressing_apply(actor=actor, programme_code="P-CCL", batch=3)
    assert skipped.value.code == "wrong_batch"


def test_works_no_shelf_takes_are_flagged_or_go_to_a_storage_unit(cast: Cast) -> None:
    centre = make_centre(cast, zones=1, shelves=2)
    add_work(centre, 1, "PEI", (180, 220, 5), "20")  # too big for a shelf: on the rack itself
    add_work(centre, 2, "SCU", (30, 30, 30), "60")  # too heavy for a shelf: on the rack too
    add_work(centre, 3, "SCU", (30, 30, 30), "240")  # too heavy for the rack's room left
    Work.objects.create(
        institution=centre.institution,
        inventory="INV 4",
        title="?",
        department="AE",
        normal_place=centre.reserve,
    )
    start(cast, centre)
    services.addressing_apply(actor=cast.registrar_a.actor, programme_code="P-CCL")
    assert targets(centre.programme) == {"INV 1": "CCL-Z1-U1", "INV 2": "CCL-Z1-U1"}
    flags = dict(AddressingFlag.objects.values_list("work__inventory", "reason"))
    assert flags == {"INV 3": "fits_no_shelf", "INV 4": "unmeasured"}


def test_a_target_set_by_hand_is_checked_and_recorded_with_the_old_one(cast: Cast) -> None:
    centre = make_centre(cast, zones=1, shelves=3, load="10")
    light = add_work(centre, 1, "AE", (20, 20, 20), "4")
    heavy = add_work(centre, 2, "AE", (20, 20, 20), "8")
    start(cast, centre)
    services.addressing_apply(actor=cast.registrar_a.actor, programme_code="P-CCL")
    before = targets(centre.programme)
    assert before == {"INV 1": "CCL-Z1-U1-S2", "INV 2": "CCL-Z1-U1-S1"}  # largest first
    actor = cast.registrar_a.actor
    with pytest.raises(InvalidInput) as full:
        services.assignment_override(
            actor=actor, programme_code="P-CCL", inventory="INV 1", target="CCL-Z1-U1-S1"
        )
    assert full.value.code == "over_load_limit" and full.value.field == "target"
    assert full.value.as_dict()["details"] == {
        "field": "target", "limit": "load_limit_kg", "needed": 12_000, "allowed": 8_500
    }  # fmt: skip
    big = add_work(centre, 3, "AE", (60, 60, 60), "1")
    with pytest.raises(InvalidInput) as large:
        services.assignment_override(
            actor=actor, programme_code="P-CCL", inventory=big.inventory, target="CCL-Z1-U1-S1"
        )
    assert large.value.code == "too_large" and large.value.as_dict()["details"]["field"] == "target"
    with pytest.raises(InvalidInput) as nowhere:
        services.assignment_override(actor=actor, programme_code="P-CCL", inventory="INV 1", target="NOPE")
    assert nowhere.value.field == "target"

    moved = services.assignment_override(
        actor=actor,
        programme_code="P-CCL",
        inventory=heavy.inventory,
        target="CCL-Z1-U1-S3",
        reason="rayonnage bas",
    )
    assert moved.target.code == "CCL-Z1-U1-S3" and light.pk
    fact = Fact.objects.filter(type="moves.addressing.target_overridden").get()
    assert json.loads(fact.body) == {
        "programme": "P-CCL", "work": "INV 2", "old": "CCL-Z1-U1-S1", "new": "CCL-Z1-U1-S3",
        "reason": "rayonnage bas",
    }  # fmt: skip
    services.assignment_override(
        actor=actor, programme_code="P-CCL", inventory="INV 2", target="CCL-Z1-U1-S3"
    )
    assert Fact.objects.filter(type="moves.addressing.target_overridden").count() == 1  # same target: nothing


def test_fill_rates_count_load_and_volume_per_shelf_room_and_zone(cast: Cast) -> None:
    centre = make_centre(cast, zones=1, shelves=2, load="10")
    add_work(centre, 1, "AE", (20, 20, 20), "4")
    add_work(centre, 2, "AE", (10, 10, 10), "2")
    start(cast, centre)
    services.addressing_apply(actor=cast.registrar_a.actor, programme_code="P-CCL")
    shelves = {r.code: r for r in selectors.fill_rates(centre.institution, centre.zones, "shelf")}
    first = shelves["CCL-Z1-U1-S1"]
    assert (first.works, first.load_pct, first.volume_pct) == (2, 60.0, 4.5)  # 6 of 10 kg, 9 of 200 l
    assert shelves["CCL-Z1-U1-S2"].works == 0
    (zone,) = selectors.fill_rates(centre.institution, centre.zones, "zone")
    (room,) = selectors.fill_rates(centre.institution, centre.zones, "room")
    assert zone.code == room.code == "CCL-Z1"
    assert (zone.shelves, zone.load_pct, zone.volume_pct) == (2, 30.0, 2.2)


# --- packing ---------------------------------------------------------------------------------


def make_convoy(centre: Centre, works: list[Work], *, code: str = "CV-1") -> Convoy:
    convoy = Convoy.objects.create(institution=centre.institution, code=code, programme=centre.programme)
    ConvoyItem.objects.bulk_create(ConvoyItem(convoy=convoy, work=w) for w in works)
    return convoy


def add_crates(
    centre: Centre, count: int, kind: str = "shuttle", size: tuple[int, int, int] = (120, 80, 100)
) -> list[Crate]:
    length, width, height = size
    first = Crate.objects.count()
    return [
        Crate.objects.create(
            institution=centre.institution,
            barcode=f"CR{first + n:03d}",
            kind=kind,
            inner_length_cm=Decimal(length),
            inner_width_cm=Decimal(width),
            inner_height_cm=Decimal(height),
            max_load_kg=Decimal(200),
            tare_kg=Decimal(40),
        )  # fmt: skip
        for n in range(1, count + 1)
    ]


def test_a_convoy_is_packed_into_free_crates_as_its_manifest_with_a_fact(cast: Cast) -> None:
    centre = make_centre(cast)
    works = [add_work(centre, n, "AE", (40, 30, 20), "10") for n in range(1, 7)]
    works.append(add_work(centre, 7, "AE", (30, 20, 10), "2", fragility="extreme"))
    works.append(add_work(centre, 8, "PEI", (250, 200, 10), "30"))  # no crate type takes it
    busy, reserved, free, spare = add_crates(centre, 4)
    other = make_convoy(centre, [add_work(centre, 9, "AE", (10, 10, 10), "1")], code="CV-0")
    ConvoyItem.objects.filter(convoy=other).update(crate=reserved)  # planned for another convoy
    custody_capture(
        actor=cast.registrar_a.actor, payload=[aggregation(busy.uri, [works[0].uri], "packing", 1)]
    )
    convoy = make_convoy(centre, works[1:])

    actor = cast.registrar_a.actor
    proposal = packing_services.convoy_pack(actor=actor, convoy_code="CV-1")
    assert not proposal.recorded and not PackingPlacement.objects.exists()
    result = packing_services.convoy_pack(actor=actor, convoy_code="CV-1", apply=True)
    assert result.recorded
    manifest = dict(ConvoyItem.objects.filter(convoy=convoy).values_list("work__inventory", "crate__barcode"))
    assert set(manifest.values()) == {free.barcode, spare.barcode, None}
    assert manifest["INV 7"] is not None and list(manifest.values()).count(manifest["INV 7"]) == 1
    assert manifest["INV 8"] is None
    loose = dict(
        PackingPlacement.objects.filter(convoy=convoy)
        .exclude(alone="")
        .values_list("work__inventory", "alone")
    )
    assert loose == {"INV 7": "travels_alone", "INV 8": "needs_custom_crate"}
    fact = Fact.objects.get(type="moves.packing.planned")
    assert {c["crate"] for c in json.loads(fact.body)["crates"]} == {free.barcode, spare.barcode}
    again = packing_services.convoy_pack(actor=actor, convoy_code="CV-1", apply=True)
    assert not again.recorded and Fact.objects.filter(type="moves.packing.planned").count() == 1


def test_a_convoy_is_packed_within_its_vehicle_load(cast: Cast) -> None:
    centre = make_centre(cast)
    works = [add_work(centre, n, "SCU", (60, 60, 60), "150") for n in range(1, 4)]
    add_crates(centre, 3)
    convoy = make_convoy(centre, works)
    convoy.vehicle = Vehicle.objects.create(
        institution=centre.institution, plate="AB-1", max_load_kg=Decimal(400)
    )
    convoy.save()
    result = packing_services.convoy_pack(actor=cast.registrar_a.actor, convoy_code="CV-1", apply=True)
    assert len(result.plan.crates) == 2  # 2 × (40 kg tare + 150 kg) fit in 400 kg; a third does not
    assert [f.reason for f in result.plan.flags] == ["vehicle_full"]


def test_a_convoy_on_its_way_cannot_be_packed_again(cast: Cast) -> None:
    centre = make_centre(cast)
    convoy = make_convoy(centre, [add_work(centre, 1, "AE", (10, 10, 10), "1")])
    Convoy.objects.filter(pk=convoy.pk).update(state="loading")
    with pytest.raises(Conflict) as refused:
        packing_services.convoy_pack(actor=cast.registrar_a.actor, convoy_code="CV-1", apply=True)
    assert refused.value.code == "not_planned"
