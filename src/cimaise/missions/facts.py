"""Fact types of missions: each order has its stream ``missions.order:<institution>:<code>``,
each site's reception ``missions.site:<institution>:<site>``, each shuttle run
``missions.shuttle:<institution>:<code>``."""

from __future__ import annotations

from collections.abc import Mapping

from cimaise.core.actors import Actor
from cimaise.ledger.services import FactDraft, facts_append
from cimaise.ledger.types import register

ORDER_FILED = register(
    "missions.order.filed",
    "A mission order was filed (code, agent, travellers, destination, purpose, convoy, start and "
    "end, transport, car authorisation, lodging, permanent and its validity, parent order).",
)
ORDER_CHANGED = register(
    "missions.order.changed",
    "The agent changed a draft or returned order (the same fields as when filed, as they now are).",
)
ORDER_SUBMITTED = register(
    "missions.order.submitted", "The agent submitted an order for validation (comment)."
)
ORDER_APPROVED = register(
    "missions.order.approved",
    "An order was approved at a level (manager or budget), by whom, with the comment.",
)
ORDER_REFUSED = register(
    "missions.order.refused",
    "An order was refused at a level and returned to the agent, by whom, with the comment.",
)
ORDER_CANCELLED = register("missions.order.cancelled", "The agent cancelled an order (comment).")
CLAIM_COMPUTED = register(
    "missions.claim.computed",
    "A traveller's allowances were computed for an order (meals, nights, rates used, total).",
)
EXPENSE_ADDED = register(
    "missions.claim.expense_added",
    "An expense was added to a claim (kind, label, amount, receipt file name if any).",
)
RECEIPT_ATTACHED = register(
    "missions.claim.receipt_attached", "A receipt was uploaded for an expense (expense, file name)."
)
CLAIM_PAID = register("missions.claim.paid", "A claim was marked paid once every receipt was in (amounts).")
BOOKING_REQUESTED = register(
    "missions.booking.requested",
    "A seat or hotel nights were requested for a traveller (kind, day, nights, shuttle and the "
    "seats it then had taken).",
)
BOOKING_DECIDED = register(
    "missions.booking.decided", "A booking was confirmed (with its reference) or cancelled."
)
BADGE_ISSUED = register(
    "missions.badge.issued", "A badge was handed to a named person (badge, holder, order, zones)."
)
BADGE_RETURNED = register("missions.badge.returned", "A badge was handed back (badge, holder).")
ACCESS_RECORDED = register(
    "missions.access.recorded",
    "A line of a site's access register: a person came in or went out, at what time, with which badge.",
)


def append(
    actor: Actor, kind: str, stream: str, body: Mapping[str, object], institution_id: int | None
) -> None:
    """Append one fact (inside the caller's transaction)."""
    facts_append(
        [FactDraft(type=kind, stream=stream, body=body, actor=actor.label, institution_id=institution_id)]
    )
