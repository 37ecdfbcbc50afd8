"""Taking places from quotas and giving them back: the only code that changes ``Quota.taken``.

Every function here runs inside the caller's transaction. Those that change a quota's counter
(``take``, ``give_back``, ``reclaim``) run after :func:`lock_quotas` has locked it. An
allocation's expiry is changed (``held`` then ``keep``) under the allocation rows' own locks,
without the quota's: ``reclaim`` skips rows locked that way, so an order being placed or paid
never waits for, nor is undone by, a sale of the same slot.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence

from django.db.models import F, Sum

from cimaise.core.errors import Conflict
from cimaise.ledger.services import FactDraft
from cimaise.ticketing import facts
from cimaise.ticketing.models import Allocation, Cart, Order, Quota, Slot


def slot_quota_ids(slot: Slot) -> list[int]:
    return sorted(Slot.quotas.through.objects.filter(slot_id=slot.pk).values_list("quota_id", flat=True))


def expired_live(quota_ids: Sequence[int], now: dt.datetime) -> dict[int, int]:
    """Places still counted in ``taken`` whose hold has run out, per quota."""
    rows = (
        Allocation.objects.filter(quota_id__in=quota_ids, released_at__isnull=True, expires_at__lte=now)
        .values("quota_id")
        .annotate(n=Sum("quantity"))
    )
    return {row["quota_id"]: int(row["n"]) for row in rows}


def reclaim(quotas: Sequence[Quota], now: dt.datetime, *, stream: str, who: str) -> list[FactDraft]:
    """Give back to these (locked) quotas the places whose hold ran out; carts and orders left
    with nothing held become expired. Returns the facts to append with the caller's."""
    ids = [q.pk for q in quotas]
    stale = list(
        Allocation.objects.select_for_update(skip_locked=True).filter(
            quota_id__in=ids, released_at__isnull=True, expires_at__lte=now
        )
    )
    if not stale:
        return []
    per_quota: dict[int, int] = defaultdict(int)
    for allocation in stale:
        per_quota[allocation.quota_id] += allocation.quantity
    Allocation.objects.filter(pk__in=[a.pk for a in stale]).update(released_at=now)
    for quota in quotas:
        if per_quota.get(quota.pk):
            quota.taken -= per_quota[quota.pk]
            Quota.objects.filter(pk=quota.pk).update(taken=F("taken") - per_quota[quota.pk])
    expired = _expire_emptied({a.cart_id for a in stale})
    body = {
        "allocations": [{"cart": str(a.cart_id), "quota": a.quota_id, "quantity": a.quantity} for a in stale],
        "orders_expired": expired,
    }
    return [FactDraft(type=facts.PLACES_RECLAIMED.name, stream=stream, body=body, actor=who)]


def _expire_emptied(cart_ids: set[uuid.UUID]) -> list[str]:
    """Carts and unpaid orders left holding nothing become expired; returns the orders' codes.
    Rows another transaction holds (an order being placed or paid at this instant) are skipped,
    not waited for: that transaction finds the places gone and answers accordingly, and the
    sweeper records the state later."""
    still = set(
        Allocation.objects.filter(cart_id__in=cart_ids, released_at__isnull=True).values_list(
            "cart_id", flat=True
        )
    )
    gone = cart_ids - still
    carts = Cart.objects.select_for_update(skip_locked=True, of=("self",)).filter(
        pk__in=gone, state=Cart.State.OPEN
    )
    Cart.objects.filter(pk__in=[c.pk for c in carts]).update(state=Cart.State.EXPIRED)
    unpaid = list(
        Order.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            cart_id__in=gone, state=Order.State.AWAITING_PAYMENT
        )
    )
    Order.objects.filter(pk__in=[o.pk for o in unpaid]).update(state=Order.State.EXPIRED)
    return sorted(o.code for o in unpaid)


def left(quota: Quota) -> int:
    return quota.capacity - quota.taken


def take(quotas: Sequence[Quota], cart: Cart, quantity: int, expires_at: dt.datetime | None) -> None:
    """Take ``quantity`` places of each (locked) quota for the cart, or refuse as ``sold_out``."""
    short = [q for q in quotas if left(q) < quantity]
    if short:
        remaining = min(left(q) for q in quotas)
        raise Conflict(
            f"only {max(remaining, 0)} places left" if remaining > 0 else "sold out",
            code="sold_out",
            details={"field": "items", "left": max(remaining, 0), "quota": short[0].key},
        )
    Allocation.objects.bulk_create(
        [Allocation(quota=q, cart=cart, quantity=quantity, expires_at=expires_at) for q in quotas]
    )
    Quota.objects.filter(pk__in=[q.pk for q in quotas]).update(taken=F("taken") + quantity)
    for quota in quotas:
        quota.taken += quantity


def give_back(cart: Cart, quantity: int | None, now: dt.datetime) -> int:
    """Give back ``quantity`` places (None: all) of each of the cart's live allocations; the
    quotas must be locked. Returns how many places per quota went back."""
    live = list(Allocation.objects.filter(cart=cart, released_at__isnull=True))
    returned = 0
    for allocation in live:
        n = allocation.quantity if quantity is None else min(quantity, allocation.quantity)
        allocation.quantity -= n
        if allocation.quantity == 0:
            allocation.quantity = n  # keep what the allocation held, for the record
            allocation.released_at = now
        allocation.save(update_fields=["quantity", "released_at"])
        Quota.objects.filter(pk=allocation.quota_id).update(taken=F("taken") - n)
        returned = n
    return returned


def held(cart: Cart) -> bool:
    """Lock the cart's allocations; True when every one still holds its places (none was
    reclaimed), so that ``keep`` may extend them."""
    allocations = list(Allocation.objects.select_for_update().filter(cart=cart).order_by("pk"))
    return bool(allocations) and all(a.released_at is None for a in allocations)


def keep(cart: Cart, expires_at: dt.datetime | None) -> bool:
    """Extend (or, with None, make permanent) the cart's live allocations; False when they
    were released meanwhile."""
    return Allocation.objects.filter(cart=cart, released_at__isnull=True).update(expires_at=expires_at) > 0
