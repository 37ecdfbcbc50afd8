"""What every path that settles a payment shares: the row lock, the state change, the purpose's
hooks, the fact drafts. Used by ``services`` and ``notifications`` only."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from cimaise.ledger.services import FactDraft
from cimaise.ledger.types import FactType
from cimaise.payments import hooks
from cimaise.payments.models import CLOSED_STATES, Payment, PaymentState, Refund
from cimaise.payments.money import amount_text

logger = logging.getLogger("cimaise.payments")


def payment_stream(payment: Payment) -> str:
    return f"payments.payment:{payment.institution.code}:{payment.pk}"


def payment_locked(payment_id: str) -> Payment | None:
    """The payment, its row locked until the caller's transaction ends (lock it before anything
    the purpose's hooks lock, and before the ledger head)."""
    rows = Payment.objects.select_for_update(of=("self",)).select_related("institution")
    return rows.filter(pk=payment_id).first()


def draft(
    payment: Payment,
    fact_type: FactType,
    body: Mapping[str, Any],
    *,
    actor: str,
    occurred_at: dt.datetime | None = None,
) -> FactDraft:
    """A fact about ``payment`` on its stream; the body always names the payment."""
    return FactDraft(
        type=fact_type.name,
        stream=payment_stream(payment),
        body={"payment": payment.pk, **body},
        actor=actor,
        institution_id=payment.institution_id,
        occurred_at=occurred_at,
    )


def money(payment: Payment) -> dict[str, str]:
    return {"amount": amount_text(payment.amount), "currency": payment.currency}


def paid_mark(payment: Payment, *, now: dt.datetime, provider_reference: str = "", method: str = "") -> str:
    """Mark the (locked) payment paid; returns the state it left. Paid after it had failed,
    expired or been cancelled, or after its expiry time, it is flagged ``late``."""
    previous = payment.state
    overdue = payment.expires_at is not None and now > payment.expires_at
    payment.late = previous in CLOSED_STATES or overdue
    payment.state = PaymentState.PAID
    payment.paid_at = now
    payment.provider_reference = provider_reference or payment.provider_reference
    payment.method = method or payment.method
    payment.save(update_fields=["state", "paid_at", "late", "provider_reference", "method"])
    return previous


def closed_mark(
    payment: Payment, *, state: PaymentState, now: dt.datetime, provider_reference: str = ""
) -> None:
    """Mark the (locked) payment failed, expired or cancelled."""
    payment.state = state
    payment.closed_at = now
    payment.provider_reference = provider_reference or payment.provider_reference
    payment.save(update_fields=["state", "closed_at", "provider_reference"])


def on_paid(payment: Payment, now: dt.datetime) -> None:
    registered = hooks.hooks_for(payment.purpose)
    if registered is None:
        logger.warning("payment %s paid for purpose %r, which has no hooks", payment.pk, payment.purpose)
        return
    registered.on_paid(payment, now)


def on_failed(payment: Payment, now: dt.datetime) -> None:
    registered = hooks.hooks_for(payment.purpose)
    if registered is not None and registered.on_failed is not None:
        registered.on_failed(payment, now)


def on_refunded(refund: Refund, now: dt.datetime) -> None:
    registered = hooks.hooks_for(refund.payment.purpose)
    if registered is not None and registered.on_refunded is not None:
        registered.on_refunded(refund, now)
