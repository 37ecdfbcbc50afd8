"""Property: whatever order the events of a journey arrive in, in whatever batches, resent or not,
the projection ends the same as when they arrive in order, and ``ledger rebuild`` reproduces it."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cimaise.collection.models import Work
from cimaise.core.models import Place
from cimaise.core.tests.personas import Cast
from cimaise.moves.models import Assignment, Convoy, ConvoyItem, Crate, Vehicle
from cimaise.moves.rebuild import rebuild_custody
from cimaise.moves.services import custody_capture
from cimaise.moves.tests.factories import Transfer, full_journey
from cimaise.moves.tests.snapshot import anomaly_snapshot, custody_snapshot

pytestmark = pytest.mark.django_db
_runs = itertools.count(1)
EVENTS = 11


def another_set(base: Transfer, tag: str) -> Transfer:
    """Fresh works, crates, truck and convoy on the same places, so examples do not interfere."""
    works = [
        Work.objects.create(
            institution=base.institution,
            inventory=f"INV {tag}-{i}",
            title="t",
            department="PEI",
            weight_kg=w.weight_kg,
            height_cm=w.height_cm,
            width_cm=w.width_cm,
            depth_cm=w.depth_cm,
        )  # fmt: skip
        for i, w in enumerate(base.works)
    ]
    crates = [Crate.objects.create(institution=base.institution, barcode=f"C-{tag}-{i}") for i in range(2)]
    vehicle = Vehicle.objects.create(institution=base.institution, plate=f"TR-{tag}")
    convoy = Convoy.objects.create(institution=base.institution, code=f"CV-{tag}", vehicle=vehicle)
    for i, work in enumerate(works):
        Assignment.objects.create(programme=base.programme, work=work, target=base.ccl_shelf)
        ConvoyItem.objects.create(convoy=convoy, work=work, crate=crates[i % 2])
    return Transfer(
        base.institution, base.pal_shelf, base.ccl_dock, base.ccl_shelf, base.ccl_small_shelf,
        works, crates, vehicle, convoy, base.programme,
    )  # fmt: skip


def renamed(snapshot: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """The snapshot with another set's URIs renamed, event ids and work ids left out."""

    def name(value: Any) -> Any:
        return names.get(value, value) if isinstance(value, str) else value

    states = sorted(
        (
            tuple(name(v) for v in row[:2]) + tuple(name(v) for v in row[3:10]) + tuple(row[11:])
            for row in snapshot["states"]
        ),
        key=repr,
    )
    containment = sorted((tuple(name(v) for v in row) for row in snapshot["containment"]), key=repr)
    presence = sorted((tuple(name(v) for v in row) for row in snapshot["presence"]), key=repr)
    return {"states": states, "containment": containment, "presence": presence}


def uris_of(t: Transfer) -> list[str]:
    return [w.uri for w in t.works] + [c.uri for c in t.crates] + [t.vehicle.uri]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    order=st.permutations(range(EVENTS)),
    cuts=st.lists(st.booleans(), min_size=EVENTS, max_size=EVENTS),
    resent=st.sets(st.integers(0, EVENTS - 1), max_size=3),
)
def test_any_arrival_order_ends_in_the_in_order_projection(
    cast: Cast, transfer: Transfer, order: list[int], cuts: list[bool], resent: set[int]
) -> None:
    Place.objects.filter(pk=transfer.ccl_shelf.pk).update(load_limit_kg=None)
    run = next(_runs)
    reference, shuffled = another_set(transfer, f"R{run}"), another_set(transfer, f"S{run}")
    actor = cast.registrar_a.actor
    custody_capture(actor=actor, payload=full_journey(reference))
    journey = full_journey(shuffled)
    batch: list[dict[str, Any]] = []
    for position, index in enumerate(order):
        batch.append(journey[index])
        if index in resent:
            batch.append(journey[index])
        if cuts[position] or position == EVENTS - 1:
            custody_capture(actor=actor, payload=batch)
            batch = []
    names = dict(zip(uris_of(shuffled), uris_of(reference), strict=True))
    names[shuffled.convoy.uri] = reference.convoy.uri
    expected = renamed(custody_snapshot(set(uris_of(reference))), {})
    assert len(expected["states"]) == 7 and len(expected["presence"]) > 7
    assert renamed(custody_snapshot(set(uris_of(shuffled))), names) == expected
    before, anomalies = custody_snapshot(), anomaly_snapshot()
    rebuild_custody()
    assert custody_snapshot() == before
    assert anomaly_snapshot() == anomalies
