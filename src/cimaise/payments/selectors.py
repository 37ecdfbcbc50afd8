"""Payment reads."""

from __future__ import annotations

import re

from cimaise.core.errors import NotFound
from cimaise.payments.models import Payment

_PAYMENT_ID = re.compile(r"^[0-9a-f]{32}$")


def payment_get(*, payment_id: str) -> Payment:
    """The payment with this public id, or ``NotFound``."""
    payment = None
    if isinstance(payment_id, str) and _PAYMENT_ID.match(payment_id):
        payment = Payment.objects.select_related("institution").filter(pk=payment_id).first()
    if payment is None:
        raise NotFound("no such payment", field="payment")
    return payment


def payments_for(*, purpose: str, reference: str) -> list[Payment]:
    """Every payment asked for this purpose and reference, oldest first."""
    rows = Payment.objects.select_related("institution").filter(purpose=purpose, reference=reference)
    return list(rows.order_by("created_at", "pk"))
