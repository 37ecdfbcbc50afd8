"""The place tree: nesting rules, unique codes and barcodes, institutions kept apart, facts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cimaise.core import services
from cimaise.core.errors import Conflict, InvalidInput, PermissionDenied
from cimaise.core.models import Place
from cimaise.core.selectors import place_ancestors, place_children, site_summaries
from cimaise.core.services import PlaceSpec
from cimaise.core.tests.personas import Cast
from cimaise.ledger.models import Fact

pytestmark = pytest.mark.django_db


def tree(cast: Cast) -> tuple[Place, Place, Place]:
    actor = cast.registrar_a.actor
    building = services.place_create(actor=actor, spec=PlaceSpec("B", "Building", "building", cast.site_a))
    room = services.place_create(actor=actor, spec=PlaceSpec("B-R1", "Room", "room", cast.site_a, building))
    shelf = services.place_create(
        actor=actor,
        spec=PlaceSpec(
            "B-R1-S1",
            "Shelf",
            "shelf",
            cast.site_a,
            room,
            barcode="P1",
            inner_width_cm=Decimal("200"),
            inner_depth_cm=Decimal("80"),
            inner_height_cm=Decimal("60"),
            load_limit_kg=Decimal("300"),
        ),
    )
    return building, room, shelf


def test_a_place_records_its_path_and_a_fact(cast: Cast) -> None:
    building, room, shelf = tree(cast)
    assert shelf.path == "PAL/B/B-R1/B-R1-S1"
    assert shelf.volume_litres == Decimal("960.0")
    assert place_ancestors(shelf) == [building, room]
    assert [p.code for p in place_children(institution=cast.institution_a, parent=room)] == ["B-R1-S1"]
    fact = Fact.objects.get(type="core.place.created", stream="core.place:louvre:B-R1-S1")
    assert '"barcode":"P1"' in fact.body and fact.actor == "user:registrar-a"
    summary = site_summaries(institution=cast.institution_a)[0]
    assert (summary.places, summary.shelves) == (3, 1)


def test_a_place_cannot_nest_under_a_smaller_kind(cast: Cast) -> None:
    _, room, shelf = tree(cast)
    with pytest.raises(InvalidInput) as info:
        services.place_create(
            actor=cast.registrar_a.actor, spec=PlaceSpec("X", "X", "unit", cast.site_a, shelf)
        )
    assert info.value.field == "kind"
    with pytest.raises(InvalidInput):
        services.place_create(
            actor=cast.registrar_a.actor, spec=PlaceSpec("Y", "Y", "building", cast.site_a, room)
        )


def test_codes_and_barcodes_are_unique_per_institution(cast: Cast) -> None:
    _, room, _ = tree(cast)
    with pytest.raises(Conflict) as info:
        services.place_create(
            actor=cast.registrar_a.actor, spec=PlaceSpec("B-R1-S1", "dup", "shelf", cast.site_a, room)
        )
    assert info.value.field == "code"
    with pytest.raises(Conflict) as info:
        services.place_create(
            actor=cast.registrar_a.actor,
            spec=PlaceSpec("B-R1-S2", "dup", "shelf", cast.site_a, room, barcode="P1"),
        )
    assert info.value.field == "barcode"


def test_a_bad_code_is_refused_naming_the_field_and_writes_nothing(cast: Cast) -> None:
    before = Fact.objects.count()
    with pytest.raises(InvalidInput) as info:
        services.place_create(
            actor=cast.registrar_a.actor, spec=PlaceSpec("B 1", "spaced", "building", cast.site_a)
        )
    assert info.value.field == "code"
    assert Fact.objects.count() == before and not Place.objects.exists()


def test_nobody_adds_places_to_another_institution_or_without_the_right(cast: Cast) -> None:
    with pytest.raises(InvalidInput) as info:
        services.place_create(actor=cast.registrar_a.actor, spec=PlaceSpec("Z", "Z", "building", cast.site_b))
    assert info.value.field == "site"
    with pytest.raises(PermissionDenied):
        services.place_create(
            actor=cast.gate_agent_a.actor, spec=PlaceSpec("Z", "Z", "building", cast.site_a)
        )
    assert not Place.objects.exists()
