"""The gate through which staff reach a payment."""

from __future__ import annotations

from cimaise.core.access import own_institution, require_permission
from cimaise.core.actors import Actor
from cimaise.core.errors import NotFound
from cimaise.payments import selectors
from cimaise.payments.models import Payment


def access_payment(actor: Actor, payment_id: str) -> Payment:
    """A payment of the actor's institution (others' look absent), for holders of
    ``payments.view_payment``."""
    institution = own_institution(actor)
    payment = selectors.payment_get(payment_id=payment_id)
    if payment.institution_id != institution.pk:
        raise NotFound("no such payment", field="payment")
    require_permission(actor, "payments.view_payment")
    return payment
