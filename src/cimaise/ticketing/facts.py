"""Fact types recorded by the catalogue, capacity and sales of ticketing, and how their drafts
are made (one stream per institution: ``ticketing:<code>``)."""

from __future__ import annotations

from collections.abc import Mapping

from cimaise.core.models import Institution
from cimaise.ledger.services import FactDraft
from cimaise.ledger.types import register


def stream(institution: Institution) -> str:
    return f"ticketing:{institution.code}"


def draft(institution: Institution, kind: str, body: Mapping[str, object], who: str) -> FactDraft:
    return FactDraft(
        type=kind, stream=stream(institution), body=body, actor=who, institution_id=institution.pk
    )


SLOTS_GENERATED = register(
    "ticketing.slots.generated",
    "Slots were opened for sale (product, entrance, days, times, capacities).",
)
CAPACITY_CHANGED = register(
    "ticketing.capacity.changed",
    "A ticketing manager changed capacities (quotas with old and new capacity).",
)
SLOTS_CLOSED = register(
    "ticketing.slots.closed",
    "Slots were closed to sale or opened again (slots, closed or not, reason).",
)
CART_HELD = register(
    "ticketing.cart.held",
    "A cart holds places of a slot (cart, slot, lines, quotas taken, until when).",
)
CART_RELEASED = register(
    "ticketing.cart.released",
    "A cart gave its places back (abandoned by the visitor, or expired).",
)
PLACES_RECLAIMED = register(
    "ticketing.places.reclaimed",
    "Places held past their expiry went back to their quota (allocations, quantities, and the "
    "unpaid orders that expired with them).",
)
ORDER_CREATED = register(
    "ticketing.order.created",
    "A cart became an order awaiting payment (code, total, provider, payment id).",
)
ORDER_PAID = register(
    "ticketing.order.paid",
    "An order was paid (its payment), and its places became sold.",
)
ORDER_EXPIRED = register(
    "ticketing.order.expired",
    "An order was not paid in time; its places went back.",
)
ORDER_CANCELLED = register(
    "ticketing.order.cancelled",
    "Tickets of an order were cancelled (which, why, the refund asked, places given back).",
)
ORDER_PAID_LATE = register(
    "ticketing.order.paid_late",
    "A payment arrived for an order whose places had gone back and could not be taken again; "
    "the payment is refunded.",
)
