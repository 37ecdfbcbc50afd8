"""Paid orders built directly with the ORM, for the e-ticket tests (no sales service involved):
an entrance, a product with a full, a reduced and a free tariff, a slot with its quota, a cart
and its lines, and the order, paid."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from cimaise.access.models import Entrance
from cimaise.core.models import Institution, Site
from cimaise.ticketing.models import (
    Cart,
    CartLine,
    FreeCategory,
    Order,
    Product,
    Quota,
    QuotaKey,
    Slot,
    Tariff,
)

PARIS = ZoneInfo("Europe/Paris")
T0 = dt.datetime(2019, 10, 24, 9, 0, tzinfo=PARIS)  # opening day of the Léonard de Vinci exhibition
PAID_AT = T0 - dt.timedelta(days=20)

PRODUCT_NAMES = {"en": "Museum entry", "fr": "Entrée au musée", "zh-hans": "博物馆门票"}


@dataclass
class Catalogue:
    institution: Institution
    entrance: Entrance
    product: Product
    tariffs: dict[str, Tariff]
    category: FreeCategory


def make_catalogue(institution: Institution, site: Site) -> Catalogue:
    entrance = Entrance.objects.create(institution=institution, site=site, code="PYR", name="Pyramide")
    product = Product.objects.create(institution=institution, code="MUSEE", names=PRODUCT_NAMES)
    category = FreeCategory.objects.create(
        institution=institution,
        code="U26",
        names={"en": "Under 26 (EEA)", "fr": "Moins de 26 ans (EEE)", "zh-hans": "26岁以下(欧洲经济区)"},
        proofs={"en": "An identity card", "fr": "Une pièce d'identité", "zh-hans": "身份证件"},
    )
    tariffs = {
        "full": Tariff.objects.create(
            product=product, code="FULL", price=Decimal("17.00"), names={"en": "Full", "fr": "Plein tarif"}
        ),
        "reduced": Tariff.objects.create(
            product=product, code="RED", price=Decimal("11.00"), names={"en": "Reduced", "fr": "Réduit"}
        ),
        "free": Tariff.objects.create(
            product=product,
            code="U26",
            price=Decimal("0.00"),
            free_category=category,
            names={"en": "Free, under 26", "fr": "Gratuit, moins de 26 ans", "zh-hans": "免费(26岁以下)"},
        ),
    }
    return Catalogue(institution, entrance, product, tariffs, category)


def catalogue_for(institution: Institution, site: Site) -> Catalogue:
    """The institution's test catalogue, made on first use."""
    product = Product.objects.filter(institution=institution, code="MUSEE").first()
    if product is None:
        return make_catalogue(institution, site)
    tariffs = {t.code: t for t in product.tariffs.all()}
    return Catalogue(
        institution=institution,
        entrance=Entrance.objects.get(institution=institution, code="PYR"),
        product=product,
        tariffs={"full": tariffs["FULL"], "reduced": tariffs["RED"], "free": tariffs["U26"]},
        category=FreeCategory.objects.get(institution=institution, code="U26"),
    )


def slot_for(catalogue: Catalogue, starts_at: dt.datetime = T0) -> Slot:
    """The catalogue's slot starting then, made on first use."""
    slot = Slot.objects.filter(product=catalogue.product, starts_at=starts_at).first()
    return slot or make_slot(catalogue, starts_at)


def make_slot(catalogue: Catalogue, starts_at: dt.datetime = T0, *, capacity: int = 100) -> Slot:
    ends_at = starts_at + dt.timedelta(minutes=30)
    key = QuotaKey.slot(catalogue.product, catalogue.entrance, starts_at.isoformat())
    quota = Quota.objects.create(
        institution=catalogue.institution,
        kind=Quota.Kind.SLOT,
        key=key,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
    )
    slot = Slot.objects.create(
        institution=catalogue.institution,
        product=catalogue.product,
        entrance=catalogue.entrance,
        starts_at=starts_at,
        ends_at=ends_at,
        own_quota=quota,
    )
    slot.quotas.add(quota)
    return slot


def make_paid_order(
    catalogue: Catalogue,
    slot: Slot,
    *,
    lines: Sequence[tuple[str, int]] = (("full", 2), ("reduced", 1)),
    language: str = "en",
    email: str = "visitor@example.org",
    name: str = "Ada Lovelace",
) -> Order:
    """A paid order of ``lines`` (tariff key in the catalogue, quantity) in ``slot``."""
    chosen = [(catalogue.tariffs[key], quantity) for key, quantity in lines]
    quantity = sum(q for _, q in chosen)
    total = sum((tariff.price * q for tariff, q in chosen), Decimal("0.00"))
    cart = Cart.objects.create(
        institution=catalogue.institution,
        slot=slot,
        state=Cart.State.ORDERED,
        quantity=quantity,
        total=total,
        created_at=PAID_AT - dt.timedelta(minutes=5),
        expires_at=PAID_AT + dt.timedelta(minutes=25),
    )
    CartLine.objects.bulk_create(
        CartLine(cart=cart, tariff=tariff, quantity=q, unit_price=tariff.price) for tariff, q in chosen
    )
    slot.own_quota.taken += quantity
    slot.own_quota.save()
    return Order.objects.create(
        code=f"CM-{secrets.token_hex(4).upper()}",
        institution=catalogue.institution,
        cart=cart,
        slot=slot,
        channel=cart.channel,
        provider="sandbox",
        state=Order.State.PAID,
        email=email,
        name=name,
        language=language,
        total=total,
        access_key=secrets.token_urlsafe(24),
        created_by="anonymous",
        created_at=PAID_AT - dt.timedelta(minutes=2),
        paid_at=PAID_AT,
    )
