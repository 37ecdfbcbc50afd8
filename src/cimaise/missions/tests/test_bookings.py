"""Bookings: train seats and hotel nights requested then confirmed; shuttle seats taken from a
run's capacity, never beyond it."""

from __future__ import annotations

import datetime as dt

import pytest

from cimaise.core.errors import Conflict, InvalidInput, PermissionDenied
from cimaise.core.roles import Role
from cimaise.core.tests.personas import make_persona
from cimaise.missions import bookings, orders
from cimaise.missions.models import Booking, Shuttle
from cimaise.missions.tests.conftest import MONDAY, Crew, at, trip
from cimaise.missions.tests.helpers import validated

pytestmark = pytest.mark.django_db


def run(crew: Crew, seats: int) -> Shuttle:
    return bookings.shuttle_schedule(
        actor=crew.budget.actor,
        code="NAV-1",
        origin="PAL",
        destination="CCL",
        departs_at=at(MONDAY, 7, 30),
        seats=seats,
    )


def test_a_shuttle_is_never_booked_beyond_its_seats(crew: Crew) -> None:
    shuttle = run(crew, 2)
    extra = [
        make_persona(f"agent-{n}", crew.cast.institution_a, [Role.REGISTRAR], crew.cast.site_a)
        for n in range(3)
    ]
    order = validated(crew, [p.username for p in extra], transport="shuttle")
    for persona in extra[:2]:
        bookings.shuttle_seat_book(
            actor=crew.agent.actor, code=order.code, shuttle="NAV-1", traveller=persona.username
        )
    with pytest.raises(Conflict) as caught:
        bookings.shuttle_seat_book(
            actor=crew.agent.actor, code=order.code, shuttle="NAV-1", traveller=extra[2].username
        )
    assert caught.value.code == "shuttle_full"
    assert Shuttle.objects.get(pk=shuttle.pk).seats_taken == 2
    first = Booking.objects.filter(shuttle=shuttle).first()
    assert first is not None
    bookings.booking_decide(actor=crew.budget.actor, booking_id=first.pk, confirm=False)
    bookings.shuttle_seat_book(
        actor=crew.agent.actor, code=order.code, shuttle="NAV-1", traveller=extra[2].username
    )
    assert Shuttle.objects.get(pk=shuttle.pk).seats_taken == 2


def test_one_seat_per_traveller_on_a_run(crew: Crew) -> None:
    run(crew, 5)
    order = validated(crew, transport="shuttle")
    bookings.shuttle_seat_book(actor=crew.agent.actor, code=order.code, shuttle="NAV-1")
    with pytest.raises(Conflict) as caught:
        bookings.shuttle_seat_book(actor=crew.agent.actor, code=order.code, shuttle="NAV-1")
    assert caught.value.code == "already_booked"


def test_bookings_need_a_validated_order(crew: Crew) -> None:
    run(crew, 5)
    order = orders.order_file(actor=crew.agent.actor, request=trip([crew.agent.username]))
    with pytest.raises(Conflict) as caught:
        bookings.shuttle_seat_book(actor=crew.agent.actor, code=order.code, shuttle="NAV-1")
    assert caught.value.code == "not_validated"


def test_hotel_nights_are_requested_then_confirmed_with_a_reference(crew: Crew) -> None:
    order = validated(crew, ends_at=at(MONDAY + dt.timedelta(days=1), 18), lodging=True)
    hotel = bookings.booking_request(
        actor=crew.agent.actor, code=order.code, kind="hotel", first_day=MONDAY, nights=1
    )
    assert hotel.status == "requested"
    with pytest.raises(PermissionDenied):
        bookings.booking_decide(actor=crew.agent.actor, booking_id=hotel.pk, confirm=True, reference="X")
    with pytest.raises(InvalidInput) as caught:
        bookings.booking_decide(actor=crew.budget.actor, booking_id=hotel.pk, confirm=True)
    assert caught.value.field == "reference"
    done = bookings.booking_decide(
        actor=crew.budget.actor, booking_id=hotel.pk, confirm=True, reference="HTL-88"
    )
    assert (done.status, done.reference) == ("confirmed", "HTL-88")
    with pytest.raises(InvalidInput) as caught:
        bookings.booking_request(
            actor=crew.agent.actor, code=order.code, kind="hotel", first_day=MONDAY, nights=0
        )
    assert caught.value.field == "nights"
    with pytest.raises(InvalidInput) as caught:
        bookings.booking_request(
            actor=crew.agent.actor, code=order.code, kind="train", first_day=MONDAY + dt.timedelta(days=5)
        )
    assert caught.value.field == "first_day"


def test_shuttle_seats_through_the_api(crew: Crew) -> None:
    made = crew.budget.client().post(
        "/api/v1/missions/shuttles",
        {
            "code": "NAV-2",
            "origin": "PAL",
            "destination": "CCL",
            "departs_at": at(MONDAY, 7, 30).isoformat(),
            "seats": 1,
        },
        content_type="application/json",
    )
    assert made.status_code == 201 and made.json()["left"] == 1
    order = validated(crew, [crew.agent.username, crew.colleague.username], transport="shuttle")
    client = crew.agent.client()
    url = f"/api/v1/missions/orders/{order.code}/bookings"
    first = client.post(url, {"kind": "shuttle", "shuttle": "NAV-2"}, content_type="application/json")
    assert first.status_code == 201 and first.json()["status"] == "confirmed"
    full = client.post(
        url, {"kind": "shuttle", "shuttle": "NAV-2", "traveller": "escort-a"}, content_type="application/json"
    )
    assert full.status_code == 409 and full.json()["error"]["code"] == "shuttle_full"
    listed = client.get("/api/v1/missions/shuttles", {"date": MONDAY.isoformat()})
    assert [(s["code"], s["left"]) for s in listed.json()] == [("NAV-2", 0)]
    no_day = client.post(url, {"kind": "train"}, content_type="application/json")
    assert no_day.status_code == 422 and no_day.json()["error"]["details"]["field"] == "first_day"
