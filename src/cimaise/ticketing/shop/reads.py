"""Reads the shop needs beyond ``ticketing.selectors`` (candidates to move there): which days are
open and have slots on sale, one slot with its places left, a cart's lines, an order by its cart
or by its code and secret key."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from cimaise.core.models import Institution
from cimaise.ticketing import selectors
from cimaise.ticketing.capacity import PARIS, opening_days
from cimaise.ticketing.models import Cart, CartLine, Channel, Order, Product, Slot
from cimaise.ticketing.selectors import SlotView, day_bounds


def open_days(*, institution: Institution, first: dt.date, last: dt.date) -> set[dt.date]:
    return {day.day for day in opening_days(institution, first, last)}


def days_on_sale(*, product: Product, first: dt.date, last: dt.date) -> set[dt.date]:
    """Days with at least one slot of the product open to sale (full or not)."""
    start, end = day_bounds(first)[0], day_bounds(last)[1]
    slots = Slot.objects.filter(
        institution_id=product.institution_id,
        product=product,
        closed=False,
        starts_at__gte=start,
        starts_at__lt=end,
    )
    return {moment.date() for moment in slots.datetimes("starts_at", "day", tzinfo=PARIS)}


def product_on_sale(*, institution: Institution, code: str) -> Product | None:
    products = selectors.products_on_sale(institution=institution, channel=Channel.WEB)
    return next((p for p in products if p.code == code), None)


def slot_view(*, institution: Institution, product: Product, slot_id: int) -> SlotView | None:
    """The slot of this product with its places left and web tariffs, or None."""
    slot = Slot.objects.filter(institution=institution, product=product, pk=slot_id).first()
    if slot is None:
        return None
    views = selectors.slots_available(
        institution=institution,
        day=slot.starts_at.astimezone(PARIS).date(),
        product=product.code,
        entrance=slot.entrance.code,
        channel=Channel.WEB,
    )
    return next((v for v in views if v.slot.pk == slot.pk), None)


def cart_lines(cart: Cart) -> list[CartLine]:
    return list(cart.lines.select_related("tariff__free_category"))


def order_for_cart(*, institution: Institution, cart_id: uuid.UUID) -> Order | None:
    return Order.objects.filter(institution=institution, cart_id=cart_id).first()


def order_with_key(*, institution: Institution, code: str, key: str) -> Order | None:
    """The order if ``key`` is its access key (compared in constant time), else None."""
    order = selectors.order_by_code(institution=institution, code=code)
    if order is None or not key or not secrets.compare_digest(order.access_key.encode(), key.encode()):
        return None
    return order
