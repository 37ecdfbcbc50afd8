"""A person's missions as an iCalendar feed at a secret URL (``/missions/calendar/<token>.ics``),
for their phone's or mail client's calendar. The token is shown once and kept as a digest;
issuing a new one revokes the old."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from icalendar import Calendar, Event

from cimaise.core.actors import Actor
from cimaise.core.errors import NotFound
from cimaise.core.models import Person
from cimaise.missions.models import CalendarToken, MissionOrder, OrderStatus
from cimaise.missions.orders import actor_person

SHOWN = (OrderStatus.SUBMITTED, OrderStatus.MANAGER_APPROVED, OrderStatus.APPROVED)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic(durable=True)
def calendar_token_issue(*, actor: Actor, now: dt.datetime | None = None) -> str:
    """A new feed token for the actor (the previous one stops working)."""
    person = actor_person(actor)
    raw = secrets.token_urlsafe(32)
    CalendarToken.objects.update_or_create(
        person=person, defaults={"digest": _digest(raw), "created_at": now or timezone.now()}
    )
    return raw


def calendar_person(token: str) -> Person:
    found = CalendarToken.objects.select_related("person__user").filter(digest=_digest(token)).first()
    if found is None:
        raise NotFound("no such calendar", field="token")
    return found.person


def _event(order: MissionOrder, stamp: dt.datetime) -> Event:
    event = Event()
    event.add("uid", f"{order.institution.code}-{order.code}@cimaise")
    event.add("dtstamp", stamp)
    event.add("dtstart", order.starts_at)
    event.add("dtend", order.ends_at)
    event.add("summary", f"{order.code} · {order.destination.name}")
    event.add("location", ", ".join(x for x in (order.destination.address, order.destination.city) if x))
    event.add(
        "description", f"{order.get_purpose_display()}: {order.description} ({order.get_status_display()})"
    )
    event.add("status", "CONFIRMED" if order.status == OrderStatus.APPROVED else "TENTATIVE")
    return event


def calendar_feed(*, token: str, now: dt.datetime | None = None) -> bytes:
    """The feed of the person holding ``token``: their orders awaiting validation (tentative) and
    validated (confirmed), permanent orders excepted (their trips are listed)."""
    person = calendar_person(token)
    calendar = Calendar()
    calendar.add("prodid", "-//Cimaise//missions//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Missions · {person}")
    orders = (
        MissionOrder.objects.filter(travellers=person, status__in=SHOWN, permanent=False)
        .select_related("institution", "destination")
        .order_by("starts_at")
    )
    stamp = now or timezone.now()
    for order in orders:
        calendar.add_component(_event(order, stamp))
    feed: bytes = calendar.to_ical()
    return feed
