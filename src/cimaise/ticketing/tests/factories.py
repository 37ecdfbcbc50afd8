"""A small shop for the sales tests: the Louvre's hours, two entrances, a museum entry and an
exhibition entry sharing the exhibition's quota, and slots on a day in the future."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from cimaise.access.models import Entrance
from cimaise.core.models import Institution, Site
from cimaise.ticketing.capacity import PARIS, SlotPlan, slots_generate_unchecked
from cimaise.ticketing.models import (
    Exhibition,
    FreeCategory,
    OpeningException,
    OpeningHours,
    Product,
    Slot,
    Tariff,
)


def next_weekday(weekday: int, after: dt.date | None = None, weeks: int = 4) -> dt.date:
    """A date with this weekday (0 = Monday) at least ``weeks`` weeks from now."""
    day = (after or timezone.localdate()) + dt.timedelta(weeks=weeks)
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7)


@dataclass
class Shop:
    institution: Institution
    day: dt.date
    pyramide: Entrance
    richelieu: Entrance
    museum: Product
    leonardo: Product
    exhibition: Exhibition
    under_18: FreeCategory

    def slot(self, product: Product, hour: int, minute: int = 0, entrance: Entrance | None = None) -> Slot:
        start = dt.datetime.combine(self.day, dt.time(hour, minute), tzinfo=PARIS)
        return Slot.objects.get(product=product, entrance=entrance or self.pyramide, starts_at=start)


def hours(institution: Institution) -> None:
    """Open 9:00–18:00 (last entry 16:30) except Tuesday; until 21:45 on Wednesday and Friday."""
    for weekday in (0, 3, 5, 6):
        OpeningHours.objects.create(
            institution=institution,
            weekday=weekday,
            opens=dt.time(9),
            closes=dt.time(18),
            last_entry=dt.time(16, 30),
        )
    for weekday in (2, 4):
        OpeningHours.objects.create(
            institution=institution,
            weekday=weekday,
            opens=dt.time(9),
            closes=dt.time(21, 45),
            last_entry=dt.time(20),
        )


def catalogue(
    institution: Institution, exhibition: Exhibition, under_18: FreeCategory
) -> tuple[Product, Product]:
    museum = Product.objects.create(
        institution=institution,
        code="MUSEE",
        names={"en": "Museum", "fr": "Musée", "zh-hans": "博物馆"},
        max_per_order=10,
    )
    leonardo = Product.objects.create(
        institution=institution,
        code="LEONARD",
        kind=Product.Kind.EXHIBITION,
        exhibition=exhibition,
        names={"en": "Leonardo da Vinci", "fr": "Léonard de Vinci", "zh-hans": "列奥纳多·达·芬奇"},
        max_per_order=6,
    )
    for product in (museum, leonardo):
        Tariff.objects.create(
            product=product,
            code="FULL",
            names={"en": "Full price", "fr": "Plein tarif"},
            price=Decimal("17.00"),
        )
        Tariff.objects.create(
            product=product,
            code="U18",
            names={"en": "Under 18", "fr": "Moins de 18 ans"},
            price=0,
            free_category=under_18,
        )
        Tariff.objects.create(
            product=product,
            code="DESK",
            names={"en": "At the desk"},
            price=Decimal("15.00"),
            channels=["desk"],
        )
    return museum, leonardo


def make_shop(
    institution: Institution, site: Site, *, slot_capacity: int = 50, entrance_capacity: int = 500
) -> Shop:
    day = next_weekday(0)  # a Monday
    hours(institution)
    OpeningException.objects.create(
        institution=institution, date=day + dt.timedelta(days=3), closed=True, label="closed"
    )
    pyramide = Entrance.objects.create(institution=institution, site=site, code="PYR", name="Pyramide")
    richelieu = Entrance.objects.create(institution=institution, site=site, code="RIC", name="Richelieu")
    exhibition = Exhibition.objects.create(
        institution=institution,
        code="LDV",
        names={"en": "Leonardo"},
        opens_on=day,
        closes_on=day + dt.timedelta(days=60),
    )
    under_18 = FreeCategory.objects.create(
        institution=institution, code="U18", names={"en": "Under 18"}, proofs={"en": "An identity document"}
    )
    museum, leonardo = catalogue(institution, exhibition, under_18)
    for product, exhibition_capacity in ((museum, None), (leonardo, 80)):
        slots_generate_unchecked(
            institution=institution,
            plan=SlotPlan(
                product=product.code,
                entrances=["PYR", "RIC"],
                first_day=day,
                last_day=day + dt.timedelta(days=6),
                slot_capacity=slot_capacity,
                entrance_capacity=entrance_capacity,
                exhibition_capacity=exhibition_capacity,
            ),
            who="system:test",
        )
    return Shop(institution, day, pyramide, richelieu, museum, leonardo, exhibition, under_18)
