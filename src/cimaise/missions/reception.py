"""Reception at a site (the conservation centre is closed to the public): who is expected each
day (travellers of validated orders, the escorts and drivers of convoys arriving), with their host
and authorised zones; the meal headcount for catering; warnings when the people on site would
exceed its capacity; named badges issued and returned; the append-only access register."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from cimaise.core.access import own_institution, require_permission
from cimaise.core.actors import Actor
from cimaise.core.errors import Conflict, InvalidInput, NotFound
from cimaise.core.models import Person, Site
from cimaise.missions import facts
from cimaise.missions.allowances import PARIS
from cimaise.missions.models import AccessRecord, Badge, BadgeIssue, MissionOrder, OrderStatus
from cimaise.missions.orders import actor_person
from cimaise.missions.roles import RECEIVE
from cimaise.moves.models import Convoy

LUNCH = (dt.time(11, 30), dt.time(13, 30))  # on site across these hours: lunches at the canteen


@dataclass(frozen=True)
class Visitor:
    name: str
    person_id: int | None
    source: str  # "mission" or "convoy"
    reference: str  # the order's or the convoy's code
    arrives: dt.datetime
    leaves: dt.datetime | None
    host: str
    zones: tuple[str, ...]
    lunch: bool


@dataclass
class Day:
    site: Site
    day: dt.date
    visitors: list[Visitor] = field(default_factory=list)
    staff: int = 0

    @property
    def lunches(self) -> int:
        return self.staff + sum(1 for v in self.visitors if v.lunch)

    @property
    def people(self) -> int:
        return self.staff + len(self.visitors)

    @property
    def over_capacity(self) -> bool:
        return self.site.capacity is not None and self.people > self.site.capacity


def site_stream(site: Site) -> str:
    return f"missions.site:{site.institution.code}:{site.code}"


def _bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    if not 2000 <= day.year <= 2100:
        raise InvalidInput("the date is out of range", field="date")
    start = dt.datetime.combine(day, dt.time(0), tzinfo=PARIS)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=PARIS)


def _covers_lunch(day: dt.date, arrives: dt.datetime, leaves: dt.datetime | None) -> bool:
    a, b = (dt.datetime.combine(day, t, tzinfo=PARIS) for t in LUNCH)
    return arrives <= a and (leaves is None or leaves >= b)


def _mission_visitors(site: Site, day: dt.date) -> list[Visitor]:
    start, end = _bounds(day)
    orders = (
        MissionOrder.objects.filter(
            destination=site, status=OrderStatus.APPROVED, starts_at__lt=end, ends_at__gt=start
        )
        .exclude(permanent=True)
        .select_related("host__user")
        .prefetch_related("travellers__user")
    )
    visitors = []
    for order in orders:
        arrives, leaves = max(order.starts_at, start), min(order.ends_at, end)
        host = str(order.host) if order.host else ""
        for person in order.travellers.all():
            visitors.append(
                Visitor(
                    str(person),
                    person.pk,
                    "mission",
                    order.code,
                    arrives,
                    leaves,
                    host,
                    tuple(order.zones),
                    _covers_lunch(day, arrives, leaves),
                )
            )
    return visitors


def _convoy_visitors(site: Site, day: dt.date) -> list[Visitor]:
    start, end = _bounds(day)
    convoys = Convoy.objects.filter(destination=site, planned_arrival__gte=start, planned_arrival__lt=end)
    visitors = []
    for convoy in convoys.prefetch_related("escorts__user"):
        arrives, zones = convoy.planned_arrival or start, ("quai", "sas")
        lunch = _covers_lunch(day, arrives, None)
        for person in convoy.escorts.all():
            visitors.append(
                Visitor(str(person), person.pk, "convoy", convoy.code, arrives, None, "", zones, lunch)
            )
        for driver in convoy.drivers or []:
            visitors.append(
                Visitor(str(driver), None, "convoy", convoy.code, arrives, None, "", zones, lunch)
            )
    return visitors


def expected_day(*, site: Site, day: dt.date) -> Day:
    """Who is expected at ``site`` on ``day`` (each person once, a traveller before an escort)."""
    seen: set[object] = set()
    visitors = []
    for v in sorted(
        _mission_visitors(site, day) + _convoy_visitors(site, day), key=lambda v: (v.arrives, v.name)
    ):
        key = v.person_id or v.name
        if key not in seen:
            seen.add(key)
            visitors.append(v)
    staff = Person.objects.filter(home_site=site, user__is_active=True).count()
    return Day(site=site, day=day, visitors=visitors, staff=staff)


def capacity_warnings(*, site: Site, first: dt.date, last: dt.date) -> list[Day]:
    """The days between ``first`` and ``last`` when the people expected exceed the capacity."""
    days = []
    day = first
    while day <= last and site.capacity is not None:
        expected = expected_day(site=site, day=day)
        if expected.over_capacity:
            days.append(expected)
        day += dt.timedelta(days=1)
    return days


def order_warnings(order: MissionOrder) -> list[Day]:
    first, last = (timezone.localtime(t, PARIS).date() for t in (order.starts_at, order.ends_at))
    return capacity_warnings(site=order.destination, first=first, last=last)


# --- badges and the register ---------------------------------------------------------------------


def access_reception_site(actor: Actor, code: str) -> Site:
    """A site of the actor's institution whose reception the actor runs."""
    institution = own_institution(actor)
    require_permission(actor, RECEIVE)
    site = Site.objects.select_related("institution").filter(institution=institution, code=code).first()
    if site is None:
        raise NotFound(f"no site {code!r}", field="site")
    return site


def _holder(site: Site, username: str, field_name: str = "holder") -> Person:
    person = Person.objects.filter(institution=site.institution_id, user__username=username).first()
    if person is None:
        raise InvalidInput(f"no member of staff {username!r}", field=field_name)
    return person


def _badge(site: Site, number: str) -> Badge:
    badge = Badge.objects.filter(site=site, number=number, active=True).first()
    if badge is None:
        raise InvalidInput(f"no badge {number!r} at {site.code}", field="badge")
    return badge


@transaction.atomic(durable=True)
def badge_issue(
    *, actor: Actor, site: str, badge: str, holder: str, order: str = "", now: dt.datetime | None = None
) -> BadgeIssue:
    """Hand a badge to a named person (their order's zones written on it), or 409 ``badge_out``
    when it is out already: the database's partial unique index decides, whatever the race."""
    place = access_reception_site(actor, site)
    the_badge, person = _badge(place, badge), _holder(place, holder)
    mission = None
    if order:
        mission = MissionOrder.objects.filter(institution=place.institution_id, code=order).first()
        if mission is None:
            raise InvalidInput(f"no mission order {order!r}", field="order")
    issue = BadgeIssue(
        badge=the_badge,
        holder=person,
        order=mission,
        zones=list(mission.zones) if mission else [],
        issued_at=now or timezone.now(),
        issued_by=actor_person(actor),
    )
    try:
        with transaction.atomic():
            issue.save()
    except IntegrityError as exc:
        raise Conflict(
            f"badge {badge} is out already; have it returned first", code="badge_out", field="badge"
        ) from exc
    body = {"badge": badge, "holder": holder, "order": order or None, "zones": issue.zones, "issue": issue.pk}
    facts.append(actor, facts.BADGE_ISSUED.name, site_stream(place), body, place.institution_id)
    return issue


@transaction.atomic(durable=True)
def badge_return(*, actor: Actor, site: str, badge: str, now: dt.datetime | None = None) -> BadgeIssue:
    """Record that a badge came back."""
    place = access_reception_site(actor, site)
    the_badge = _badge(place, badge)
    issue = BadgeIssue.objects.select_for_update().filter(badge=the_badge, returned_at__isnull=True).first()
    if issue is None:
        raise Conflict(f"badge {badge} is not out", code="badge_not_out", field="badge")
    issue.returned_at = now or timezone.now()
    issue.save(update_fields=["returned_at"])
    body = {"badge": badge, "holder": issue.holder_id, "issue": issue.pk}
    facts.append(actor, facts.BADGE_RETURNED.name, site_stream(place), body, place.institution_id)
    return issue


@transaction.atomic(durable=True)
def access_record(
    *, actor: Actor, site: str, person: str, direction: str, at: dt.datetime | None = None, note: str = ""
) -> AccessRecord:
    """Write one line of the site's access register (the badge out to the person, if any)."""
    place = access_reception_site(actor, site)
    who = _holder(place, person, "person")
    if direction not in AccessRecord.Direction.values:
        raise InvalidInput("direction must be in or out", field="direction")
    when = at or timezone.now()
    if timezone.is_naive(when):
        raise InvalidInput("at needs a time zone", field="at")
    out = BadgeIssue.objects.filter(badge__site=place, holder=who, returned_at__isnull=True).first()
    record = AccessRecord.objects.create(
        site=place,
        person=who,
        direction=direction,
        at=when,
        badge=out.badge if out else None,
        recorded_by=actor_person(actor),
        note=note.strip()[:200],
    )
    body = {
        "record": record.pk,
        "person": person,
        "direction": direction,
        "at": when.isoformat(),
        "badge": out.badge.number if out else None,
    }
    facts.append(actor, facts.ACCESS_RECORDED.name, site_stream(place), body, place.institution_id)
    return record


def register_day(site: Site, day: dt.date) -> list[AccessRecord]:
    start, end = _bounds(day)
    return list(
        AccessRecord.objects.filter(site=site, at__gte=start, at__lt=end).select_related(
            "person__user", "badge"
        )
    )


def badges_out(site: Site) -> list[BadgeIssue]:
    return list(
        BadgeIssue.objects.filter(badge__site=site, returned_at__isnull=True).select_related(
            "badge", "holder__user"
        )
    )
