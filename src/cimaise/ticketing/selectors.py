"""Reading the catalogue, the slots with their places left, and orders."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from cimaise.core.conf import setting
from cimaise.core.errors import InvalidInput, NotFound
from cimaise.core.models import Institution
from cimaise.ticketing import holds
from cimaise.ticketing.capacity import PARIS
from cimaise.ticketing.models import Order, Product, Quota, Slot, Tariff


@dataclass(frozen=True)
class SlotView:
    slot: Slot
    capacity: int
    left: int
    tariffs: list[Tariff]


def visitor_institution() -> Institution:
    """The institution whose shop this server runs (``CIMAISE_INSTITUTION``): visitors have none."""
    institution = Institution.objects.filter(code=setting("INSTITUTION")).first()
    if institution is None:
        raise NotFound("this server sells no tickets yet")
    return institution


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    if not 1900 <= day.year <= 9000:
        raise InvalidInput("choose a date between 1900 and 9000", field="date")
    start = dt.datetime.combine(day, dt.time.min, tzinfo=PARIS)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=PARIS)


def slots_available(
    *,
    institution: Institution,
    day: dt.date,
    product: str | None = None,
    entrance: str | None = None,
    channel: str | None = None,
    now: dt.datetime | None = None,
) -> list[SlotView]:
    """The slots of a day with the places each has left (its tightest quota, counting holds
    that have run out as free). Read without locks: the sale decides under its lock."""
    now = now or timezone.now()
    start, end = day_bounds(day)
    slots = Slot.objects.filter(
        institution=institution, starts_at__gte=start, starts_at__lt=end, product__active=True
    )
    if product:
        slots = slots.filter(product__code=product)
    if entrance:
        slots = slots.filter(entrance__code=entrance)
    chosen = list(
        slots.select_related("product", "entrance", "own_quota").order_by(
            "starts_at", "entrance__code", "product__sort"
        )
    )
    links = Slot.quotas.through.objects.filter(slot_id__in=[s.pk for s in chosen]).values_list(
        "slot_id", "quota_id"
    )
    quota_ids: dict[int, list[int]] = defaultdict(list)
    for slot_id, quota_id in links:
        quota_ids[slot_id].append(quota_id)
    all_ids = {q for ids in quota_ids.values() for q in ids}
    quotas = {q.pk: q for q in Quota.objects.filter(pk__in=all_ids)}
    stale = holds.expired_live(list(all_ids), now)
    tariffs = _tariffs({s.product_id for s in chosen}, channel)
    views = []
    for slot in chosen:
        free = [quotas[q].capacity - quotas[q].taken + stale.get(q, 0) for q in quota_ids[slot.pk]]
        left = 0 if slot.closed or slot.ends_at <= now else max(min(free, default=0), 0)
        views.append(SlotView(slot, slot.own_quota.capacity, left, tariffs.get(slot.product_id, [])))
    return views


def _tariffs(product_ids: set[int], channel: str | None) -> dict[int, list[Tariff]]:
    found: dict[int, list[Tariff]] = defaultdict(list)
    for tariff in Tariff.objects.filter(product_id__in=product_ids, active=True).select_related(
        "free_category"
    ):
        if channel is None or channel in tariff.channels:
            found[tariff.product_id].append(tariff)
    return found


def products_on_sale(*, institution: Institution, channel: str) -> list[Product]:
    return [p for p in Product.objects.filter(institution=institution, active=True) if channel in p.channels]


def order_by_code(*, institution: Institution, code: str) -> Order | None:
    return (
        Order.objects.select_related("slot__product", "slot__entrance", "institution", "cart")
        .filter(institution=institution, code=code.strip().upper())
        .first()
    )


def orders_search(*, institution: Institution, q: str, limit: int = 50) -> QuerySet[Order]:
    """Orders for the desk: by code, e-mail or name (newest first)."""
    orders = Order.objects.filter(institution=institution).select_related("slot__product", "slot__entrance")
    q = q.strip()
    if q:
        orders = orders.filter(
            Q(code__iexact=q) | Q(code__icontains=q.upper()) | Q(email__iexact=q) | Q(name__icontains=q)
        )
    return orders.order_by("-created_at")[:limit]
