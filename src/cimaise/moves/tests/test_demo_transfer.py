"""The demo's transfer programme: half the works already at the conservation centre, with their
whole custody history, a convoy being packed, and the first convoys' slips left to resolve."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db.models import Count

from cimaise.moves.models import (
    Anomaly,
    Assignment,
    Convoy,
    CustodyEvent,
    Incident,
    ObjectState,
    Programme,
    TelemetryReading,
)
from cimaise.moves.reconciliation import convoy_reconciliation, programme_reconciliation
from cimaise.moves.tests.snapshot import custody_snapshot

pytestmark = pytest.mark.django_db


def test_the_small_demo_has_a_programme_half_done() -> None:
    call_command("demo", "--no-serve", "--verbosity", "0", stdout=io.StringIO(), stderr=io.StringIO())
    programme = Programme.objects.get(code="P-CCL")
    assigned = Assignment.objects.filter(programme=programme).count()
    assert assigned > 3_000
    summary = programme_reconciliation(programme).summary
    assert summary["done"] + summary["wrong_place"] == pytest.approx(assigned / 2, abs=2)
    # the next convoy is packed, not yet loaded; 30 works on the road and 20 on a truck loading
    assert summary["in_progress"] == 750
    statuses = dict(ObjectState.objects.filter(kind="work").values_list("status").annotate(n=Count("id")))
    assert set(statuses) == {"in_storage", "packed", "stored", "in_transit", "loaded"}
    on_the_road = Convoy.objects.get(state="in_transit")
    assert TelemetryReading.objects.filter(convoy=on_the_road, rejection="").count() == 30
    assert list(Incident.objects.filter(convoy=on_the_road).values_list("kind", flat=True)) == ["temperature"]
    assert Convoy.objects.filter(state="loading").count() == 1
    kinds = set(Anomaly.objects.values_list("kind", flat=True))
    # the work put on the neighbouring shelf may also overload it
    assert (
        {"no_condition_check", "unknown_identifier"}
        <= kinds
        <= {
            "no_condition_check",
            "unknown_identifier",
            "shelf_overload",
        }
    )
    steps = set(CustodyEvent.objects.values_list("biz_step", flat=True))
    assert steps >= {
        "cycle_counting",
        "inspecting",
        "packing",
        "loading",
        "departing",
        "arriving",
        "unloading",
    }
    assert steps >= {"urn:cimaise:bizstep:acclimatising", "unpacking", "storing"}
    first = Convoy.objects.order_by("planned_departure").first()
    assert first is not None and convoy_reconciliation(first).steps["stored"] == {
        "expected": 700,
        "observed": 700,
    }
    before = custody_snapshot()
    call_command("ledger", "rebuild", stdout=io.StringIO(), stderr=io.StringIO())
    assert custody_snapshot() == before
