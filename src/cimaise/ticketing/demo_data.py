"""The demo shop: the Louvre's four entrances and opening hours, the museum ticket and the
Léonard de Vinci exhibition (booking compulsory, 30-minute slots, its own quota), the free
admission categories, slots for the coming weeks, a waiting room ready for the on-sale, and
orders already sold on the web (paid by the sandbox card through signed notifications) and at
the desk, one of them partly cancelled and refunded."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from cimaise.access.models import Entrance, Lane
from cimaise.core.actors import actor_for
from cimaise.core.demo import DemoContext, DemoLoader, register_loader
from cimaise.core.errors import DomainError
from cimaise.core.models import Institution, Site
from cimaise.payments.models import Payment
from cimaise.payments.notifications import notification_receive
from cimaise.payments.providers.sandbox import notification_sign
from cimaise.ticketing import orders, waiting
from cimaise.ticketing.capacity import SlotPlan, slots_generate_unchecked
from cimaise.ticketing.models import (
    Exhibition,
    FreeCategory,
    OpeningException,
    OpeningHours,
    Product,
    Slot,
    Tariff,
)
from cimaise.ticketing.services import CartRequest, Item, OrderRequest, cart_create, order_create

ENTRANCES = (
    ("PYR", "Pyramide"),
    ("RIC", "Passage Richelieu"),
    ("CAR", "Carrousel"),
    ("PDL", "Porte des Lions"),
)
ENTRANCE_CAPACITY = {"PYR": 1200, "RIC": 600, "CAR": 600, "PDL": 200}
FREE = (
    (
        "U18",
        {"en": "Under 18", "fr": "Moins de 18 ans", "zh-hans": "18岁以下"},
        {"en": "An identity document", "fr": "Une pièce d'identité", "zh-hans": "身份证件"},
    ),
    (
        "EEA26",
        {
            "en": "EEA resident under 26",
            "fr": "Résident de l'EEE de moins de 26 ans",
            "zh-hans": "26岁以下欧洲经济区居民",
        },
        {
            "en": "Identity document and proof of residence",
            "fr": "Pièce d'identité et justificatif de résidence",
            "zh-hans": "身份证件及居住证明",
        },
    ),
    (
        "DISABLED",
        {
            "en": "Disabled visitor and companion",
            "fr": "Visiteur handicapé et accompagnateur",
            "zh-hans": "残障访客及陪同人员",
        },
        {
            "en": "A disability card",
            "fr": "Une carte d'invalidité ou mobilité inclusion",
            "zh-hans": "残障证明",
        },
    ),
    (
        "TEACHER",
        {
            "en": "Teacher (Pass Éducation)",
            "fr": "Enseignant (Pass Éducation)",
            "zh-hans": "教师（教育通行证）",
        },
        {
            "en": "A valid Pass Éducation",
            "fr": "Un Pass Éducation en cours de validité",
            "zh-hans": "有效的教育通行证",
        },
    ),
    (
        "JOBSEEKER",
        {"en": "Job-seeker", "fr": "Demandeur d'emploi", "zh-hans": "求职者"},
        {
            "en": "A certificate less than 6 months old",
            "fr": "Une attestation de moins de 6 mois",
            "zh-hans": "六个月内的证明",
        },
    ),
)
FULL_NAMES = {"en": "Full price", "fr": "Plein tarif", "zh-hans": "全价票"}
DESK_NAMES = {"en": "Full price (desk)", "fr": "Plein tarif (caisse)", "zh-hans": "全价票（售票处）"}


def _hours(louvre: Institution, today: dt.date) -> None:
    """Closed on Tuesdays; until 21:45 on Wednesdays and Fridays; closed 1 January, 1 May and 25 December."""
    for weekday in (0, 3, 5, 6):
        OpeningHours.objects.get_or_create(
            institution=louvre,
            weekday=weekday,
            defaults={"opens": dt.time(9), "closes": dt.time(18), "last_entry": dt.time(16, 30)},
        )
    for weekday in (2, 4):
        OpeningHours.objects.get_or_create(
            institution=louvre,
            weekday=weekday,
            defaults={"opens": dt.time(9), "closes": dt.time(21, 45), "last_entry": dt.time(20)},
        )
    for year in (today.year, today.year + 1):
        for month, day, label in ((1, 1, "Jour de l'an"), (5, 1, "Fête du travail"), (12, 25, "Noël")):
            OpeningException.objects.get_or_create(
                institution=louvre, date=dt.date(year, month, day), defaults={"closed": True, "label": label}
            )


def _catalogue(louvre: Institution, today: dt.date) -> tuple[Product, Product]:
    categories = []
    for code, names, proofs in FREE:
        category, _ = FreeCategory.objects.get_or_create(
            institution=louvre, code=code, defaults={"names": names, "proofs": proofs}
        )
        categories.append(category)
    exhibition, _ = Exhibition.objects.get_or_create(
        institution=louvre,
        code="LDV",
        defaults={
            "names": {"en": "Leonardo da Vinci", "fr": "Léonard de Vinci", "zh-hans": "列奥纳多·达·芬奇"},
            "opens_on": today - dt.timedelta(days=7),
            "closes_on": today + dt.timedelta(days=110),
        },
    )
    museum, _ = Product.objects.get_or_create(
        institution=louvre,
        code="MUSEE",
        defaults={
            "names": {
                "en": "Museum (permanent collections)",
                "fr": "Musée (collections permanentes)",
                "zh-hans": "博物馆（常设展）",
            },
            "max_per_order": 10,
            "sort": 1,
        },
    )
    leonardo, _ = Product.objects.get_or_create(
        institution=louvre,
        code="LEONARD",
        defaults={
            "names": {
                "en": "Leonardo da Vinci exhibition and museum",
                "fr": "Exposition Léonard de Vinci et musée",
                "zh-hans": "列奥纳多·达·芬奇特展及博物馆",
            },
            "kind": Product.Kind.COMBINED,
            "exhibition": exhibition,
            "max_per_order": 6,
            "sort": 0,
            "age_notes": {
                "en": "Booking compulsory for everyone, including free visitors.",
                "fr": "Réservation obligatoire pour tous, y compris les gratuits.",
                "zh-hans": "所有观众（包括免费观众）均须预约。",
            },
        },
    )
    for product in (museum, leonardo):
        Tariff.objects.get_or_create(
            product=product,
            code="FULL",
            defaults={"names": FULL_NAMES, "price": Decimal("17.00"), "channels": ["web", "reseller"]},
        )
        Tariff.objects.get_or_create(
            product=product,
            code="DESK",
            defaults={"names": DESK_NAMES, "price": Decimal("15.00"), "channels": ["desk"], "sort": 1},
        )
        for index, category in enumerate(categories, start=2):
            Tariff.objects.get_or_create(
                product=product,
                code=category.code,
                defaults={
                    "names": category.names,
                    "price": Decimal(0),
                    "free_category": category,
                    "sort": index,
                },
            )
    Tariff.objects.get_or_create(  # one code for a guided group of ten (the desk sells it)
        product=museum,
        code="GROUP10",
        defaults={
            "names": {"en": "Group of 10", "fr": "Groupe de 10", "zh-hans": "10人团体"},
            "price": Decimal("150.00"),
            "channels": ["desk"],
            "party_size": 10,
            "sort": 9,
        },
    )
    return museum, leonardo


def _slots(louvre: Institution, museum: Product, leonardo: Product, today: dt.date, days: int) -> None:
    last = today + dt.timedelta(days=days)
    for code, _ in ENTRANCES:
        slots_generate_unchecked(
            institution=louvre,
            plan=SlotPlan(
                product="MUSEE",
                entrances=[code],
                first_day=today,
                last_day=last,
                slot_capacity=ENTRANCE_CAPACITY[code] // 2,
                entrance_capacity=ENTRANCE_CAPACITY[code],
            ),
            who="system:demo",
        )
    slots_generate_unchecked(
        institution=louvre,
        plan=SlotPlan(
            product="LEONARD",
            entrances=["PYR"],
            first_day=today,
            last_day=last,
            slot_capacity=250,
            entrance_capacity=ENTRANCE_CAPACITY["PYR"],
            exhibition_capacity=250,
        ),
        who="system:demo",
    )


def _pay(order_code: str) -> None:
    from cimaise.ticketing.models import Order

    order = Order.objects.get(code=order_code)
    payment = Payment.objects.get(pk=order.payment_id)
    body, headers = notification_sign(payment=payment, status="paid", now=timezone.now())
    notification_receive(provider="sandbox", body=body, headers=headers)


def _sell(ctx: DemoContext, louvre: Institution, count: int) -> None:
    rng = random.Random(1793)  # noqa: S311  (demo data, repeatable; the Louvre opened in 1793)
    slots = list(
        Slot.objects.filter(institution=louvre, starts_at__gte=timezone.now()).order_by("starts_at")[:400]
    )
    cashier = User.objects.filter(username="ticketing-manager").first()
    desk = actor_for(cashier) if cashier is not None else None
    sold: list[Any] = []
    for n in ctx.progress(range(count), desc="ticketing: orders", total=count):
        slot = rng.choice(slots[:120] if rng.random() < 0.7 else slots)
        at_desk = desk is not None and n % 5 == 0
        items = [Item("DESK" if at_desk else "FULL", rng.randint(1, 3))]
        if rng.random() < 0.3:
            items.append(Item(rng.choice(["U18", "EEA26", "DISABLED", "TEACHER"]), rng.randint(1, 2)))
        try:
            cart = cart_create(
                institution=louvre,
                request=CartRequest(slot.pk, items, channel="desk" if at_desk else "web"),
                owner=cashier if at_desk else None,
                who=desk.label if at_desk and desk else "visitor",
            )
            email = "" if at_desk else f"visitor{n}@example.org"
            language = rng.choice(["en", "fr", "zh-hans"])
            started = order_create(
                request=OrderRequest(
                    cart=cart, provider="desk" if at_desk else "sandbox", email=email, language=language
                ),
                who=desk.label if at_desk and desk else "visitor",
                desk=at_desk,
            )
        except DomainError:
            continue
        if started.payment is not None and rng.random() < 0.9:  # a few leave without paying
            _pay(started.order.code)
        sold.append(started.order)
    paid = [o for o in sold if o.tickets.count() > 1]
    if paid and desk is not None:
        order = paid[0]
        orders.order_cancel(
            order=order,
            ticket_ids=[order.tickets.first().pk],
            reason="Visitor could not come",
            who=desk.label,
        )


def _lanes(entrance: Entrance, *, turnstiles: int) -> None:
    """Turnstiles in, one way out, and a handheld for the agents (the gate scans go there)."""
    for n in range(1, turnstiles + 1):
        Lane.objects.get_or_create(entrance=entrance, code=f"T{n}", defaults={"direction": Lane.Direction.IN})
    Lane.objects.get_or_create(entrance=entrance, code="OUT", defaults={"direction": Lane.Direction.OUT})
    Lane.objects.get_or_create(
        entrance=entrance, code="H1", defaults={"kind": Lane.Kind.HANDHELD, "direction": Lane.Direction.BOTH}
    )


def load_ticketing(ctx: DemoContext) -> None:
    louvre = Institution.objects.get(code="louvre")
    site = Site.objects.get(institution=louvre, code="PAL")
    today = timezone.localdate()
    for code, name in ENTRANCES:
        entrance, _ = Entrance.objects.get_or_create(
            institution=louvre, code=code, defaults={"site": site, "name": name}
        )
        _lanes(entrance, turnstiles=6 if code == "PYR" else 2)
    _hours(louvre, today)
    museum, leonardo = _catalogue(louvre, today)
    _slots(louvre, museum, leonardo, today, 60 if ctx.full else 21)
    manager = User.objects.filter(username="ticketing-manager").first()
    actor = actor_for(manager) if manager is not None else None
    if actor is not None:
        waiting.room_configure(
            actor=actor,
            code="ONSALE",
            active=False,
            opens_at=timezone.now() + dt.timedelta(days=7),
            rate_per_minute=600,
            burst=100,
            session_minutes=20,
        )
    _sell(ctx, louvre, 1500 if ctx.full else 120)


register_loader(
    DemoLoader(
        "ticketing.shop",
        70,
        load_ticketing,
        "The shop: entrances, hours, products, slots, a waiting room, orders",
    )
)
