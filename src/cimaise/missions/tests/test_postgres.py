"""Races on PostgreSQL: many travellers in threads, each with its own connection, booking the
last seats of a shuttle run (never overbooked), and two desks issuing one badge at once (issued
once)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cimaise.core.roles import Role
from cimaise.core.tests.concurrency import at_once
from cimaise.core.tests.personas import make_persona
from cimaise.ledger.verify import ledger_verify
from cimaise.missions import bookings, reception
from cimaise.missions.models import Badge, BadgeIssue, Booking, Shuttle
from cimaise.missions.tests.conftest import MONDAY, Crew, at, make_crew
from cimaise.missions.tests.helpers import validated

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
TRAVELLERS = 24


def booker(crew: Crew, code: str, username: str) -> Callable[[], Booking]:
    return lambda: bookings.shuttle_seat_book(
        actor=crew.agent.actor, code=code, shuttle="NAV-RACE", traveller=username
    )


def test_24_travellers_racing_for_the_last_3_seats_get_3() -> None:
    crew = make_crew()
    people = [
        make_persona(f"agent-{n:02d}", crew.cast.institution_a, [Role.REGISTRAR], crew.cast.site_a).username
        for n in range(TRAVELLERS)
    ]
    order = validated(crew, people, transport="shuttle")
    run = bookings.shuttle_schedule(
        actor=crew.budget.actor,
        code="NAV-RACE",
        origin="PAL",
        destination="CCL",
        departs_at=at(MONDAY, 7, 30),
        seats=8,
    )
    for username in people[:5]:  # five seats gone already
        booker(crew, order.code, username)()
    booked, refused = at_once([booker(crew, order.code, username) for username in people[5:]])
    assert len(booked) == 3
    assert len(refused) == TRAVELLERS - 8
    assert {getattr(e, "code", repr(e)) for e in refused} == {"shuttle_full"}
    assert Shuttle.objects.get(pk=run.pk).seats_taken == 8
    assert Booking.objects.filter(shuttle=run).exclude(status="cancelled").count() == 8
    assert ledger_verify().ok


def test_two_desks_issuing_one_badge_at_once_issue_it_once() -> None:
    crew = make_crew()
    Badge.objects.create(site=crew.ccl, number="V-RACE")
    desks = [make_persona(f"desk-{n}", crew.cast.institution_a, [Role.RECEPTION], crew.ccl) for n in range(8)]
    holders = [make_persona(f"visitor-{n}", crew.cast.institution_a, [], crew.cast.site_a) for n in range(8)]

    def issue(n: int) -> Callable[[], BadgeIssue]:
        return lambda: reception.badge_issue(
            actor=desks[n].actor, site="CCL", badge="V-RACE", holder=holders[n].username
        )

    issued, refused = at_once([issue(n) for n in range(8)])
    assert len(issued) == 1
    assert {getattr(e, "code", repr(e)) for e in refused} == {"badge_out"} and len(refused) == 7
    assert BadgeIssue.objects.filter(badge__number="V-RACE", returned_at__isnull=True).count() == 1
