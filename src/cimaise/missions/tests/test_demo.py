"""The missions demo, on top of core's institutions and people: validated missions to the centre
this week, a refused one, a pending one, a permanent order with its trip, shuttle runs, badges,
the centre's staff; loading it twice adds nothing."""

from __future__ import annotations

import pytest

from cimaise.core.demo import DemoContext
from cimaise.core.demo_data import load_institutions, load_people
from cimaise.ledger.verify import ledger_verify
from cimaise.missions import demo_data, reception
from cimaise.missions.models import Badge, Booking, MissionOrder, Shuttle

pytestmark = pytest.mark.django_db


def test_the_demo_sends_agents_to_the_centre_and_loads_once() -> None:
    ctx = DemoContext(scale="small", quiet=True)
    load_institutions(ctx)
    load_people(ctx)
    demo_data.load(ctx)
    statuses = sorted(MissionOrder.objects.values_list("status", flat=True))
    assert statuses == ["approved", "approved", "approved", "approved", "returned", "submitted"]
    assert MissionOrder.objects.filter(permanent=True, status="approved").count() == 1
    assert MissionOrder.objects.filter(parent__isnull=False).count() == 1
    assert Shuttle.objects.count() == 6 and Badge.objects.count() == 20
    assert Booking.objects.filter(kind="hotel", status="confirmed").count() == 2
    photo = MissionOrder.objects.get(agent__user__username="h.martin")
    ccl = photo.destination
    day = reception.expected_day(site=ccl, day=photo.starts_at.date())
    assert {"Hugo Martin", "Camille Dubois"} <= {v.name for v in day.visitors}
    assert day.staff == 18  # seventeen agents and the reception desk
    before = (MissionOrder.objects.count(), Badge.objects.count(), Shuttle.objects.count())
    demo_data.load(ctx)
    assert (MissionOrder.objects.count(), Badge.objects.count(), Shuttle.objects.count()) == before
    assert ledger_verify().ok
