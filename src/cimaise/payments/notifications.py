"""Receiving a provider's notification: the only way a payment becomes paid (DESIGN §6.4).

1. The provider's module checks the signature over the exact body bytes, then parses it. A bad
   signature or body is answered and nothing is written (the sender is unknown).
2. In one durable transaction: lock the payment; a notification id already stored gets the
   answer stored with it and nothing is written; otherwise provider, merchant, amount and
   currency must match the payment. Then the payment is marked paid or failed, once, the
   purpose's hook called, the notification stored with its answer, and the fact appended.
3. A signed notification refused at step 2 changes nothing; the refusal is appended as a
   ``payments.notification.rejected`` fact in a transaction of its own, once per notification id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from cimaise.core.errors import Conflict, NotFound
from cimaise.ledger.models import Fact
from cimaise.ledger.services import FactDraft, fact_append, facts_append, ledger_lock
from cimaise.payments import facts, settle
from cimaise.payments.models import PAID_STATES, Notification, Payment, PaymentState
from cimaise.payments.money import amount_text
from cimaise.payments.providers import provider_get
from cimaise.payments.providers.base import (
    Answer,
    NotificationRejected,
    Provider,
    ProviderFailed,
    VerifiedNotification,
)
from cimaise.payments.selectors import payment_get

logger = logging.getLogger("cimaise.payments")


@dataclass(frozen=True)
class NotificationOutcome:
    """What the endpoint answers (``status``, ``body``, ``content_type``) and what happened:
    ``accepted`` (taken now, or ``duplicate``: taken before), else refused with ``code``."""

    status: int
    body: bytes
    content_type: str
    accepted: bool
    duplicate: bool = False
    code: str | None = None
    message: str = ""
    payment: Payment | None = None
    notification: Notification | None = None


def notification_receive(
    *, provider: str, body: bytes, headers: Mapping[str, str], now: dt.datetime | None = None
) -> NotificationOutcome:
    """Take a provider's notification (see the module's docstring). An unknown or disabled
    provider, or one that sends no notifications, is ``NotFound`` (code ``unknown_provider``)."""
    now = now or timezone.now()
    gateway = provider_get(provider)
    if gateway is None or not gateway.notifies:
        raise NotFound(f"no payment provider {provider!r} takes notifications", code="unknown_provider")
    try:
        verified = gateway.verify_notification(body, {k.lower(): v for k, v in headers.items()})
    except NotificationRejected as exc:
        logger.warning("payments: %s notification refused before reading it: %s", provider, exc.message)
        return _refused(gateway, exc)
    return notification_apply(gateway=gateway, verified=verified, body=body, now=now)


def notification_apply(
    *, gateway: Provider, verified: VerifiedNotification, body: bytes, now: dt.datetime
) -> NotificationOutcome:
    """Steps 2 and 3 of the module's docstring for a message whose signature checked out: a
    notification, or a provider's signed answer to ``payment_query`` (the same path, so a lost
    notification is recovered exactly as if it had arrived)."""
    try:
        return _take(gateway, verified, body, now)
    except NotificationRejected as exc:
        logger.warning(
            "payments: %s notification %s refused: %s", gateway.name, verified.notification_id, exc
        )
        _rejection_record(gateway.name, verified, body, exc, now)
        return _refused(gateway, exc)


def _take(
    gateway: Provider, verified: VerifiedNotification, body: bytes, now: dt.datetime
) -> NotificationOutcome:
    with transaction.atomic(durable=True):
        payment = settle.payment_locked(verified.payment_id)
        if payment is None:
            raise NotificationRejected(f"no payment {verified.payment_id}", code="unknown_payment")
        stored = Notification.objects.filter(
            provider=gateway.name, notification_id=verified.notification_id
        ).first()
        if stored is not None:
            return _replay(stored, payment)
        _match(gateway.name, payment, verified)
        outcome, draft = _settle(payment, verified, actor=f"provider:{gateway.name}", now=now)
        answer = gateway.accepted()
        notification = _store(gateway.name, payment, verified, body, outcome, answer, now)
        facts_append([draft], now=now)
    return NotificationOutcome(
        status=answer.status, body=answer.body, content_type=answer.content_type, accepted=True,
        payment=payment, notification=notification,
    )  # fmt: skip


def _match(provider: str, payment: Payment, verified: VerifiedNotification) -> None:
    """The notification must be about this payment as we asked for it."""
    if payment.provider != provider:
        raise NotificationRejected(
            f"payment {payment.pk} is not paid through {provider}", code="provider_mismatch"
        )
    if verified.merchant != payment.institution.code:
        raise NotificationRejected(
            f"payment {payment.pk} is not {verified.merchant}'s", code="merchant_mismatch"
        )
    if verified.amount != payment.amount:
        raise NotificationRejected(
            f"amount {verified.amount} differs from the payment's {payment.amount}", code="amount_mismatch"
        )
    if verified.currency != payment.currency:
        raise NotificationRejected(
            f"currency {verified.currency} differs from the payment's {payment.currency}",
            code="currency_mismatch",
        )


def _settle(
    payment: Payment, verified: VerifiedNotification, *, actor: str, now: dt.datetime
) -> tuple[str, FactDraft]:
    """Change the payment's state once, call the purpose's hook, and say what to record."""
    body = {
        "provider": payment.provider,
        "notification": verified.notification_id,
        "status": verified.status,
        "provider_reference": verified.provider_reference,
        **settle.money(payment),
    }
    when = verified.occurred_at
    if verified.status == "paid" and payment.state not in PAID_STATES:
        previous = settle.paid_mark(payment, now=now, provider_reference=verified.provider_reference)
        settle.on_paid(payment, now)
        payment.refresh_from_db()  # the hook may have refunded it (a late payment)
        paid = body | {"previous_state": previous, "late": payment.late}
        return Notification.Outcome.PAID, settle.draft(
            payment, facts.PAYMENT_PAID, paid, actor=actor, occurred_at=when
        )
    if verified.status == "failed" and payment.state == PaymentState.CREATED:
        settle.closed_mark(
            payment, state=PaymentState.FAILED, now=now, provider_reference=verified.provider_reference
        )
        settle.on_failed(payment, now)
        return Notification.Outcome.FAILED, settle.draft(
            payment, facts.PAYMENT_FAILED, body, actor=actor, occurred_at=when
        )
    ignored = body | {"payment_state": payment.state}
    return Notification.Outcome.IGNORED, settle.draft(
        payment, facts.NOTIFICATION_IGNORED, ignored, actor=actor, occurred_at=when
    )


def _store(
    provider: str,
    payment: Payment,
    verified: VerifiedNotification,
    body: bytes,
    outcome: str,
    answer: Answer,
    now: dt.datetime,
) -> Notification:
    return Notification.objects.create(
        provider=provider, notification_id=verified.notification_id, payment=payment, received_at=now,
        verified=True, status=verified.status, amount=verified.amount, currency=verified.currency,
        outcome=outcome, body=body.decode("utf-8", errors="replace"), evidence=verified.evidence,
        answer_status=answer.status, answer_body=answer.body.decode(),
        answer_content_type=answer.content_type,
    )  # fmt: skip


def _replay(stored: Notification, payment: Payment) -> NotificationOutcome:
    """A resend: the first answer again, and nothing written."""
    return NotificationOutcome(
        status=stored.answer_status, body=stored.answer_body.encode(),
        content_type=stored.answer_content_type, accepted=True, duplicate=True, payment=payment,
        notification=stored,
    )  # fmt: skip


def _refused(gateway: Provider, exc: NotificationRejected) -> NotificationOutcome:
    answer = gateway.rejected(exc)
    return NotificationOutcome(
        status=answer.status, body=answer.body, content_type=answer.content_type, accepted=False,
        code=exc.code, message=exc.message,
    )  # fmt: skip


def _rejection_record(
    provider: str, verified: VerifiedNotification, body: bytes, exc: NotificationRejected, now: dt.datetime
) -> None:
    """For the finance audit: a signed notification we refused, once per notification id."""
    stream = f"payments.rejected:{provider}:{verified.notification_id}"
    with transaction.atomic(durable=True):
        ledger_lock()  # so two copies arriving together are recorded once
        if Fact.objects.filter(stream=stream).exists():
            return
        owner = (
            Payment.objects.filter(pk=verified.payment_id).values_list("institution_id", flat=True).first()
        )
        fact_body = {
            "provider": provider,
            "notification": verified.notification_id,
            "payment": verified.payment_id,
            "status": verified.status,
            "amount": amount_text(verified.amount),
            "currency": verified.currency,
            "code": exc.code,
            "message": exc.message,
            "body_sha256": hashlib.sha256(body).hexdigest(),
        }
        fact_append(
            type=facts.NOTIFICATION_REJECTED.name, stream=stream, body=fact_body,
            actor=f"provider:{provider}", institution_id=owner, occurred_at=verified.occurred_at, now=now,
        )  # fmt: skip


def payment_query(*, payment_id: str, now: dt.datetime | None = None) -> Payment:
    """Ask the payment's provider what became of it, and take a settled answer through the same
    path as a verified notification (``notification_apply``): a lost notification is recovered,
    and asking again writes nothing. Outside any transaction. A paid payment is not asked about;
    a provider that cannot say (sandbox, desk) changes nothing. Returns the payment as it is now.
    """
    now = now or timezone.now()
    payment = payment_get(payment_id=payment_id)
    if payment.state in PAID_STATES:
        return payment
    gateway = _provider_of(payment)
    outside_transactions()
    try:
        answer = gateway.query(payment)
    except NotificationRejected as exc:
        raise ProviderFailed(
            f"{gateway.name}'s answer is unreadable: {exc.message}", code="provider_bad_answer"
        ) from exc
    if answer is not None:
        outcome = notification_apply(gateway=gateway, verified=answer.verified, body=answer.body, now=now)
        if not outcome.accepted:
            logger.warning(
                "payments: %s's answer about %s refused: %s", gateway.name, payment.pk, outcome.code
            )
    payment.refresh_from_db()
    return payment


def _provider_of(payment: Payment) -> Provider:
    gateway = provider_get(payment.provider)
    if gateway is None:
        raise Conflict(f"provider {payment.provider!r} is not enabled", code="provider_unavailable")
    return gateway


def outside_transactions() -> None:
    """Refuse to call a provider over the network from inside a transaction (a durable block
    cannot nest in another one)."""
    with transaction.atomic(durable=True):
        pass
