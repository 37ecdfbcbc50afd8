"""The missions demo: agents travelling from Paris to the conservation centre at Liévin this
week, through the real services: a registrar going with a convoy (validated), a photographer on a
two-day campaign with a hotel night (validated, seat and hotel booked), a conservator's inventory
awaiting the line manager, an escort's permanent order with a trip, a researcher's order refused
and returned; the shuttle runs of the week; the centre's staff (about twenty), its capacity and
its visitor badges, one out to today's visitor with the line in the access register."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from cimaise.core import services as core_services
from cimaise.core.actors import Actor, actor_for
from cimaise.core.demo import DEMO_PASSWORD, DemoContext, DemoLoader, register_loader
from cimaise.core.errors import DomainError
from cimaise.core.models import Institution, Person, Site
from cimaise.core.roles import Role
from cimaise.missions import bookings, claims, orders, reception
from cimaise.missions.allowances import PARIS, default_rates_load
from cimaise.missions.models import Badge, MissionOrder, Shuttle
from cimaise.missions.orders import OrderRequest
from cimaise.moves.models import Convoy

ACTOR = "system:demo"
CCL_CAPACITY = 40
BADGES = 20
# username, first, last, job, role
AGENTS = [
    ("c.dubois", "Camille", "Dubois", "Conservatrice, département des Peintures", Role.REGISTRAR),
    ("h.martin", "Hugo", "Martin", "Photographe", Role.REGISTRAR),
    ("l.nguyen", "Léa", "Nguyen", "Chercheuse", Role.REGISTRAR),
]
CCL_STAFF = [
    "Amélie Lambert",
    "Bruno Caron",
    "Chloé Fontaine",
    "David Mercier",
    "Élise Robin",
    "Fabien Henry",
    "Gaëlle Roussel",
    "Hélène Blanc",
    "Ismaël Diallo",
    "Jeanne Perrin",
    "Kevin Leroy",
    "Laure Morel",
    "Mathieu Girard",
    "Nora Brahimi",
    "Olivier Masson",
    "Pauline Chevalier",
    "Quentin Renaud",
]


def _people(louvre: Institution, ccl: Site, palace: Site) -> None:
    password_hash = make_password(DEMO_PASSWORD)
    approver = Person.objects.get(user__username="approver")
    for username, first, last, job, role in AGENTS:
        if not Person.objects.filter(user__username=username).exists():
            core_services.person_enroll(
                username=username,
                institution=louvre,
                roles=[role],
                password=None,
                password_hash=password_hash,
                first_name=first,
                last_name=last,
                email=f"{username}@demo.cimaise.invalid",
                job_title=job,
                home_site=palace,
                actor=ACTOR,
            )
    Person.objects.filter(user__username__in=[a[0] for a in AGENTS]).update(line_manager=approver)
    for number, name in enumerate(CCL_STAFF, start=1):
        username = f"ccl.{number:02d}"
        if not Person.objects.filter(user__username=username).exists():
            first, last = name.split(" ", 1)
            core_services.person_enroll(
                username=username,
                institution=louvre,
                roles=[],
                password=None,
                first_name=first,
                last_name=last,
                job_title="Agent du CCL",
                home_site=ccl,
                actor=ACTOR,
            )


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=PARIS)


def _shuttles(louvre: Institution, monday: dt.date) -> None:
    palace, ccl = (Site.objects.get(institution=louvre, code=c) for c in ("PAL", "CCL"))
    for offset in (0, 2, 4):
        day = monday + dt.timedelta(days=offset)
        for code, origin, destination, hour in (("OUT", palace, ccl, 7), ("BACK", ccl, palace, 17)):
            Shuttle.objects.get_or_create(
                institution=louvre,
                code=f"NAV-{day:%Y%m%d}-{code}",
                defaults={
                    "origin": origin,
                    "destination": destination,
                    "departs_at": _at(day, hour, 30),
                    "seats": 8,
                },
            )


def _actor(username: str) -> Actor:
    actor = actor_for(Person.objects.get(user__username=username).user)
    if actor is None:
        raise RuntimeError(f"demo user {username} is inactive")
    return actor


def _validate(code: str) -> None:
    orders.order_approve(actor=_actor("approver"), code=code, comment="Vu, bon pour mission.")
    orders.order_approve(actor=_actor("budget-manager"), code=code, comment="Crédits disponibles.")


def _file(username: str, request: OrderRequest) -> MissionOrder:
    return orders.order_file(actor=_actor(username), request=request)


def _convoy_code(louvre: Institution, monday: dt.date) -> str:
    convoy = (
        Convoy.objects.filter(institution=louvre, destination__code="CCL")
        .order_by("-planned_departure")
        .first()
    )
    return convoy.code if convoy else ""


def _missions(louvre: Institution, today: dt.date, monday: dt.date) -> None:
    convoy = _convoy_code(louvre, monday)
    reg = _file(
        "registrar",
        OrderRequest(
            travellers=["registrar"],
            destination="CCL",
            purpose="convoy" if convoy else "inventory",
            description="Accueil du convoi et récolement à l'arrivée",
            convoy=convoy,
            starts_at=_at(today, 7, 30),
            ends_at=_at(today, 18, 45),
            transport="train",
            host="reception",
            zones=["quai", "sas", "réserve 3"],
        ),
    )
    _validate(reg.code)
    photo = _file(
        "h.martin",
        OrderRequest(
            travellers=["h.martin", "c.dubois"],
            destination="CCL",
            purpose="condition-check",
            description="Campagne de constats d'état photographiques, peintures nordiques",
            starts_at=_at(monday + dt.timedelta(days=2), 7, 30),
            ends_at=_at(monday + dt.timedelta(days=3), 19, 15),
            transport="shuttle",
            lodging=True,
            host="reception",
            zones=["studio photo", "réserve 2"],
        ),
    )
    _validate(photo.code)
    shuttle = f"NAV-{monday + dt.timedelta(days=2):%Y%m%d}-OUT"
    for traveller in ("h.martin", "c.dubois"):
        bookings.shuttle_seat_book(
            actor=_actor("h.martin"), code=photo.code, shuttle=shuttle, traveller=traveller
        )
        hotel = bookings.booking_request(
            actor=_actor("h.martin"),
            code=photo.code,
            kind="hotel",
            first_day=monday + dt.timedelta(days=2),
            nights=1,
            details="Hôtel à Lens, près de la gare",
            traveller=traveller,
        )
        bookings.booking_decide(
            actor=_actor("budget-manager"), booking_id=hotel.pk, confirm=True, reference=f"HTL-{hotel.pk:05d}"
        )
    _file(
        "c.dubois",
        OrderRequest(
            travellers=["c.dubois"],
            destination="CCL",
            purpose="inventory",
            description="Récolement des dessins montés",
            starts_at=_at(monday + dt.timedelta(days=4), 8, 0),
            ends_at=_at(monday + dt.timedelta(days=4), 17, 30),
            transport="train",
            zones=["réserve 5"],
        ),
    )
    research = _file(
        "l.nguyen",
        OrderRequest(
            travellers=["l.nguyen"],
            destination="CCL",
            purpose="other",
            description="Étude de la collection d'objets d'art",
            starts_at=_at(monday + dt.timedelta(days=3), 9, 0),
            ends_at=_at(monday + dt.timedelta(days=3), 16, 0),
            transport="car",
            car_authorisation="AUT-VP-2026-014",
        ),
    )
    orders.order_refuse(
        actor=_actor("approver"), code=research.code, comment="Privilégier la navette du jeudi."
    )
    escort = _file(
        "escort",
        OrderRequest(
            travellers=["escort"],
            destination="CCL",
            purpose="convoy",
            description="Convoiements hebdomadaires Paris → Liévin",
            starts_at=_at(monday, 6, 0),
            ends_at=_at(monday, 20, 0),
            transport="shuttle",
            zones=["quai", "sas"],
            permanent=True,
            valid_from=monday,
            valid_until=monday + dt.timedelta(days=180),
        ),
    )
    _validate(escort.code)
    orders.trip_record(
        actor=_actor("escort"),
        code=escort.code,
        starts_at=_at(monday + dt.timedelta(days=1), 6, 0),
        ends_at=_at(monday + dt.timedelta(days=1), 19, 0),
        transport="shuttle",
    )
    claims.claim_open(actor=_actor("registrar"), code=reg.code)


def _reception(louvre: Institution, ccl: Site, today: dt.date) -> None:
    for n in range(1, BADGES + 1):
        Badge.objects.get_or_create(site=ccl, number=f"V-{n:02d}")
    visitor = MissionOrder.objects.filter(institution=louvre, agent__user__username="registrar").first()
    desk = _actor("reception")
    if today != timezone.localdate():
        return  # the visitor comes on a working day still ahead
    arrival = min(timezone.now(), _at(today, 9, 40))
    try:
        reception.badge_issue(
            actor=desk,
            site="CCL",
            badge="V-01",
            holder="registrar",
            order=visitor.code if visitor else "",
            now=arrival,
        )
        reception.access_record(actor=desk, site="CCL", person="registrar", direction="in", at=arrival)
    except DomainError:
        pass  # the badge is out already (the demo ran before today)


def load(ctx: DemoContext) -> None:
    default_rates_load()
    louvre = Institution.objects.get(code="louvre")
    palace, ccl = (Site.objects.get(institution=louvre, code=c) for c in ("PAL", "CCL"))
    if ccl.capacity is None:
        Site.objects.filter(pk=ccl.pk).update(capacity=CCL_CAPACITY)
    today = timezone.localdate()
    if today.weekday() >= 5:  # the centre is closed at weekends: the demo shows the coming week
        today += dt.timedelta(days=7 - today.weekday())
    monday = today - dt.timedelta(days=today.weekday())
    steps = ["people", "shuttles", "missions", "reception"]
    for step in ctx.progress(steps, desc="missions", total=len(steps)):
        if step == "people":
            _people(louvre, ccl, palace)
        elif step == "shuttles":
            _shuttles(louvre, monday)
        elif step == "missions" and not MissionOrder.objects.filter(institution=louvre).exists():
            _missions(louvre, today, monday)
        elif step == "reception":
            _reception(louvre, ccl, today)


register_loader(
    DemoLoader("missions.week", 80, load, "Missions to the conservation centre this week, with reception")
)
