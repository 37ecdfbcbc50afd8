"""Bookings: train seats and hotel nights are requested then confirmed (with the carrier's or
hotel's reference) or cancelled; a shuttle seat is taken at once from the run's capacity, the
run's row locked so that its seats are never overbooked."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cimaise.core.access import own_institution, require_permission
from cimaise.core.actors import Actor
from cimaise.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from cimaise.core.models import Site
from cimaise.missions import facts
from cimaise.missions.models import Booking, MissionOrder, OrderStatus, Shuttle
from cimaise.missions.orders import access_order, actor_person, stream
from cimaise.missions.roles import BOOK, SHUTTLES


def shuttle_stream(shuttle: Shuttle) -> str:
    return f"missions.shuttle:{shuttle.institution.code}:{shuttle.code}"


@transaction.atomic(durable=True)
def shuttle_schedule(
    *, actor: Actor, code: str, origin: str, destination: str, departs_at: dt.datetime, seats: int
) -> Shuttle:
    """Add a run of the shuttle."""
    require_permission(actor, SHUTTLES)
    institution = own_institution(actor)
    if seats < 1 or seats > 100:
        raise InvalidInput("a shuttle has between 1 and 100 seats", field="seats")
    if timezone.is_naive(departs_at) or not 2000 <= departs_at.year <= 2100:
        raise InvalidInput(
            "departs_at needs a time zone and a year between 2000 and 2100", field="departs_at"
        )
    sites = {s.code: s for s in Site.objects.filter(institution=institution, code__in=[origin, destination])}
    for name, value in (("origin", origin), ("destination", destination)):
        if value not in sites:
            raise InvalidInput(f"no site {value!r}", field=name)
    if Shuttle.objects.filter(institution=institution, code=code).exists():
        raise Conflict(f"shuttle {code!r} exists already", field="code")
    return Shuttle.objects.create(
        institution=institution,
        code=code,
        origin=sites[origin],
        destination=sites[destination],
        departs_at=departs_at,
        seats=seats,
    )


def _bookable(actor: Actor, code: str, traveller: str) -> tuple[MissionOrder, int]:
    order = access_order(actor, code)
    person = actor_person(actor)
    if order.status != OrderStatus.APPROVED:
        raise Conflict("bookings are made for a validated order", code="not_validated", field="order")
    match = order.travellers.filter(user__username=traveller or person.user.get_username()).first()
    if match is None:
        raise InvalidInput("this person does not travel on the order", field="traveller")
    if person.pk not in (order.agent_id, match.pk) and not actor.can(BOOK):
        raise PermissionDenied("you book only for yourself or the travellers of your order")
    return order, match.pk


def _requested_fact(actor: Actor, booking: Booking, seats_taken: int | None = None) -> None:
    body = {
        "booking": booking.pk,
        "order": booking.order.code,
        "kind": booking.kind,
        "traveller": booking.traveller_id,
        "first_day": booking.first_day.isoformat(),
        "nights": booking.nights,
        "shuttle": booking.shuttle.code if booking.shuttle else None,
        "seats_taken": seats_taken,
        "status": booking.status,
    }
    facts.append(
        actor, facts.BOOKING_REQUESTED.name, stream(booking.order), body, booking.order.institution_id
    )


@transaction.atomic(durable=True)
def shuttle_seat_book(*, actor: Actor, code: str, shuttle: str, traveller: str = "") -> Booking:
    """Take a seat on a shuttle run for a traveller of a validated order (confirmed at once), or
    409 ``shuttle_full``. The run's row is locked before its seats are counted."""
    order, traveller_pk = _bookable(actor, code, traveller)
    run = Shuttle.objects.select_for_update().filter(institution=order.institution, code=shuttle).first()
    if run is None:
        raise NotFound(f"no shuttle {shuttle!r}", field="shuttle")
    if (
        Booking.objects.filter(shuttle=run, traveller_id=traveller_pk)
        .exclude(status=Booking.Status.CANCELLED)
        .exists()
    ):
        raise Conflict(
            "this traveller has a seat on this shuttle already", code="already_booked", field="shuttle"
        )
    if run.seats_taken >= run.seats:
        raise Conflict(f"shuttle {run.code} is full", code="shuttle_full", field="shuttle")
    Shuttle.objects.filter(pk=run.pk).update(seats_taken=F("seats_taken") + 1)
    booking = Booking.objects.create(
        order=order,
        traveller_id=traveller_pk,
        kind=Booking.Kind.SHUTTLE,
        shuttle=run,
        first_day=timezone.localtime(run.departs_at).date(),
        status=Booking.Status.CONFIRMED,
        details=f"{run.origin.code} → {run.destination.code}",
    )
    _requested_fact(actor, booking, run.seats_taken + 1)
    return booking


@transaction.atomic(durable=True)
def booking_request(
    *,
    actor: Actor,
    code: str,
    kind: str,
    first_day: dt.date,
    nights: int = 0,
    details: str = "",
    traveller: str = "",
) -> Booking:
    """Request a train seat or hotel nights for a traveller of a validated order."""
    if kind not in (Booking.Kind.TRAIN, Booking.Kind.HOTEL):
        raise InvalidInput("kind must be train or hotel (shuttle seats are booked on a run)", field="kind")
    if kind == Booking.Kind.HOTEL and not 1 <= nights <= 31:
        raise InvalidInput("a hotel booking is for 1 to 31 nights", field="nights")
    order, traveller_pk = _bookable(actor, code, traveller)
    start, end = (timezone.localtime(t).date() for t in (order.starts_at, order.ends_at))
    if not start <= first_day <= end:
        raise InvalidInput("the booking falls outside the mission", field="first_day")
    booking = Booking.objects.create(
        order=order,
        traveller_id=traveller_pk,
        kind=kind,
        first_day=first_day,
        nights=nights if kind == Booking.Kind.HOTEL else 0,
        details=details.strip()[:200],
    )
    _requested_fact(actor, booking)
    return booking


@transaction.atomic(durable=True)
def booking_decide(*, actor: Actor, booking_id: int, confirm: bool, reference: str = "") -> Booking:
    """Confirm a requested booking with its reference, or cancel a booking (a cancelled shuttle
    seat goes back to the run)."""
    require_permission(actor, BOOK)
    booking = (
        Booking.objects.select_for_update()
        .select_related("order__institution")
        .filter(pk=booking_id, order__institution=actor.institution)
        .first()
    )
    if booking is None:
        raise NotFound("no such booking", field="booking")
    if booking.status == Booking.Status.CANCELLED or (confirm and booking.status == Booking.Status.CONFIRMED):
        raise Conflict(
            f"the booking is {booking.get_status_display()} already", code="decided", field="status"
        )
    if confirm and not reference.strip():
        raise InvalidInput("a confirmed booking needs its reference", field="reference")
    if not confirm and booking.shuttle_id is not None:
        Shuttle.objects.select_for_update().filter(pk=booking.shuttle_id).update(
            seats_taken=F("seats_taken") - 1
        )
    booking.status = Booking.Status.CONFIRMED if confirm else Booking.Status.CANCELLED
    booking.reference = reference.strip()[:64]
    booking.save(update_fields=["status", "reference"])
    body = {"booking": booking.pk, "status": booking.status, "reference": booking.reference}
    facts.append(actor, facts.BOOKING_DECIDED.name, stream(booking.order), body, booking.order.institution_id)
    return booking


def day_required(day: dt.date | None) -> dt.date:
    if day is None:
        raise InvalidInput("first_day is required for a train seat or hotel nights", field="first_day")
    return day


def shuttles_from(actor: Actor, day: dt.date | None) -> list[Shuttle]:
    """The institution's shuttle runs from ``day`` (today by default), soonest first."""
    institution = own_institution(actor)
    since = dt.datetime.combine(
        day or timezone.localdate(), dt.time(0), tzinfo=timezone.get_current_timezone()
    )
    runs = Shuttle.objects.filter(institution=institution, departs_at__gte=since).select_related(
        "origin", "destination"
    )
    return list(runs[:50])
