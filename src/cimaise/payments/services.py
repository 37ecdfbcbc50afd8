"""Payment writes: ask for a payment, record one taken at the desk, cancel one, refund one.
Receiving a provider's notification is in ``notifications`` (re-exported here).

Every function here works inside the caller's transaction (a ticket order and its payment are
created atomically) and appends its facts in it; each locks the payment row before the purpose's
hooks run and appends the facts last.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_supported_language_variant

from cimaise.core import housekeeping
from cimaise.core.errors import Conflict, DomainError, InvalidInput, NotFound
from cimaise.core.models import Institution
from cimaise.ledger.models import Fact
from cimaise.ledger.services import FactDraft, facts_append
from cimaise.ledger.types import register
from cimaise.payments import facts, hooks, settle
from cimaise.payments.models import PAID_STATES, Payment, PaymentState, Refund
from cimaise.payments.money import amount_check, amount_text, currency_check
from cimaise.payments.notifications import (
    NotificationOutcome,
    notification_receive,
    outside_transactions,
    payment_query,
)
from cimaise.payments.providers import provider_get
from cimaise.payments.providers.base import PaymentStart, Provider
from cimaise.payments.selectors import payment_get

__all__ = [
    "NotificationOutcome",
    "PaymentStart",
    "notification_receive",
    "payment_cancel",
    "payment_close",
    "payment_create",
    "payment_open",
    "payment_query",
    "payment_record_desk",
    "payment_refund",
    "payment_refund_check",
    "payments_sweep",
]

logger = logging.getLogger("cimaise.payments")
# Registered here rather than in ``facts`` because it belongs to opening (below) alone.
PAYMENT_OPENED = register(
    "payments.payment.opened",
    "A payment was opened at its provider, which said how the visitor pays (QR payload or page).",
)
REFUND_FAILED = register(
    "payments.refund.failed",
    "A pending refund was refused by its provider in the end: nothing was given back and the amount "
    "can be refunded again (refund id, amount).",
)

_KEY = re.compile(r"^[A-Za-z0-9._:/-]{1,64}$")
_DESK_METHODS = ("cash", "card")


def payment_create(
    *,
    institution: Institution,
    purpose: str,
    reference: str,
    amount: Decimal,
    currency: str,
    provider: str,
    return_url: str,
    description: str = "",
    language: str = "en",
    expires_at: dt.datetime | None = None,
    actor: str,
    now: dt.datetime | None = None,
) -> PaymentStart:
    """Ask for a payment through ``provider`` and say how the visitor goes on paying.

    The payment awaits its provider's notification (``notification_receive``). Through the
    ``desk`` provider it awaits the cashier instead: ``payment_record_desk`` settles it.
    """
    now = now or timezone.now()
    gateway = _provider(provider)
    fields = {
        "institution": institution,
        "purpose": _key(purpose, "purpose"),
        "reference": _key(reference, "reference"),
        "provider": gateway.name,
        "amount": amount_check(amount, allow_zero=gateway.allows_zero),
        "currency": currency_check(currency),
        "return_url": _return_url(return_url),
        "description": _description(description),
        "language": _language(language),
        "expires_at": _expiry(expires_at),
    }
    _purpose_known(purpose)
    with transaction.atomic():
        payment = Payment.objects.create(created_at=now, **fields)
        start = gateway.start(payment)
        facts_append([_created(payment, actor)], now=now)
    return start


def payment_record_desk(
    *,
    institution: Institution,
    purpose: str,
    reference: str,
    amount: Decimal,
    currency: str,
    method: str,
    actor: str,
    now: dt.datetime | None = None,
) -> Payment:
    """A payment a cashier took at the desk (``cash`` or ``card`` on our own terminal): stored
    paid at once and the purpose's ``on_paid`` called, in the caller's transaction. It settles
    the desk payment awaiting the cashier for this purpose and reference, if there is one with
    this amount; otherwise it makes one."""
    now = now or timezone.now()
    gateway = _provider("desk")
    if method not in _DESK_METHODS:
        raise InvalidInput("method must be cash or card", field="method")
    amount = amount_check(amount, allow_zero=gateway.allows_zero)
    currency = currency_check(currency)
    _key(purpose, "purpose")
    _key(reference, "reference")
    _purpose_known(purpose)
    with transaction.atomic():
        payment = _awaiting_desk(institution, purpose, reference, amount, currency)
        drafts: list[FactDraft] = []
        if payment is None:
            payment = Payment.objects.create(
                institution=institution, purpose=purpose, reference=reference, provider="desk",
                amount=amount, currency=currency, created_at=now,
            )  # fmt: skip
            drafts.append(_created(payment, actor))
        previous = settle.paid_mark(payment, now=now, method=method)
        settle.on_paid(payment, now)
        body = {"provider": "desk", "method": method, "previous_state": previous, "late": payment.late}
        drafts.append(settle.draft(payment, facts.PAYMENT_PAID, body | settle.money(payment), actor=actor))
        facts_append(drafts, now=now)
    return payment


def payment_cancel(
    *, payment: Payment, actor: str, expired: bool = False, reason: str = "", now: dt.datetime | None = None
) -> Payment:
    """Close a payment still awaiting payment (its order was cancelled or has expired), so the
    sandbox page refuses it. Already failed, expired or cancelled: unchanged. Already paid:
    ``Conflict`` ``already_paid`` (refund it instead). A notification that it was paid after all
    is still taken, and flags the payment ``late``."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _locked(payment)
        if locked.state in PAID_STATES:
            raise Conflict(f"payment {locked.pk} is already paid; refund it", code="already_paid")
        if locked.state == PaymentState.CREATED:
            state = PaymentState.EXPIRED if expired else PaymentState.CANCELLED
            settle.closed_mark(locked, state=state, now=now)
            body = {"state": str(state), "reason": reason[:200]}
            facts_append([settle.draft(locked, facts.PAYMENT_CANCELLED, body, actor=actor)], now=now)
    payment.refresh_from_db()
    return payment


def payment_refund(
    *,
    payment: Payment,
    amount: Decimal,
    refund_id: str,
    reason: str = "",
    actor: str,
    now: dt.datetime | None = None,
) -> Refund:
    """Give back ``amount`` of a paid payment, in the caller's transaction.

    Idempotent by ``refund_id``: the same id again returns the first refund (another amount or
    payment under that id is a ``Conflict``). Never more than paid minus already refunded
    (``InvalidInput`` on ``amount``). The sandbox and desk complete refunds at once.
    """
    now = now or timezone.now()
    refund_id = _key(refund_id, "refund_id")
    amount = amount_check(amount)
    with transaction.atomic():
        locked = _locked(payment)
        existing = Refund.objects.filter(refund_id=refund_id).first()
        if existing is not None:
            return _refund_again(existing, locked, amount)
        _refundable(locked, amount)
        refund = Refund.objects.create(
            payment=locked, refund_id=refund_id, amount=amount, reason=reason[:200],
            requested_by=actor, created_at=now,
        )  # fmt: skip
        requested = {"refund": refund_id, "amount": amount_text(amount), "reason": refund.reason}
        drafts = [settle.draft(locked, facts.REFUND_REQUESTED, requested, actor=actor)]
        if _provider_for_refund(locked).refund(refund) == "succeeded":
            drafts.append(_refund_complete(locked, refund, actor=actor, now=now))
        facts_append(drafts, now=now)
    payment.refresh_from_db()
    return refund


def payment_open(*, payment_id: str, now: dt.datetime | None = None) -> PaymentStart:
    """Open a payment at its provider (Alipay precreate, WeChat Pay Native order) and say how the
    visitor pays (``qr``: the payload of the QR code to show; ``redirect_url``: a page).

    Call it outside any transaction, once the payment is committed: the provider is called over
    the network and may notify at once. What it answered is stored (``payments.payment.opened``);
    opening again returns that without calling it again. A payment not awaiting payment that was
    never opened is a ``Conflict`` (``not_awaiting``); a provider that fails is ``ProviderFailed``.
    """
    now = now or timezone.now()
    payment = payment_get(payment_id=payment_id)
    gateway = _provider_for_refund(payment)
    stored = _opened(payment)
    if stored is not None:
        return stored
    if payment.state != PaymentState.CREATED:
        raise Conflict(f"payment {payment.pk} is {payment.state}, not awaiting payment", code="not_awaiting")
    outside_transactions()
    start = gateway.open(payment)
    with transaction.atomic(durable=True):
        locked = _locked(payment)
        if _opened(locked) is None:
            body = {
                "provider": locked.provider,
                "qr": start.qr or "",
                "redirect_url": start.redirect_url or "",
            }
            draft = settle.draft(locked, PAYMENT_OPENED, body, actor=f"provider:{locked.provider}")
            facts_append([draft], now=now)
    return _opened(locked) or start


def payment_close(*, payment_id: str, reason: str = "expired", now: dt.datetime | None = None) -> Payment:
    """Close a payment that will no longer be paid for (its time is over): ask the provider first
    (a payment made meanwhile is taken), close it there so its QR code stops working, then mark
    it ``expired`` (``payment_cancel``). Outside any transaction. A payment paid meanwhile is
    returned paid; one the provider says it cannot close is asked about again."""
    now = now or timezone.now()
    payment = payment_query(payment_id=payment_id, now=now)
    if payment.state != PaymentState.CREATED:
        return payment
    if not _provider_for_refund(payment).close(payment):
        return payment_query(payment_id=payment_id, now=now)
    with transaction.atomic(durable=True):
        return payment_cancel(
            payment=payment, actor=f"provider:{payment.provider}", expired=True, reason=reason, now=now
        )


def payment_refund_check(*, refund_id: str, now: dt.datetime | None = None) -> Refund:
    """Ask the provider what became of a ``pending`` refund (outside any transaction) and settle
    it: done, the payment's refunded amount grows and the purpose's ``on_refunded`` runs; refused
    in the end, the refund is ``failed`` and its amount can be refunded again. A refund no longer
    pending, or still under way, is returned as it is."""
    now = now or timezone.now()
    refund = Refund.objects.select_related("payment__institution").filter(refund_id=refund_id).first()
    if refund is None:
        raise NotFound(f"no refund {refund_id!r}", field="refund_id")
    if refund.state != Refund.State.PENDING:
        return refund
    outside_transactions()
    result = _provider_for_refund(refund.payment).refund_query(refund)
    if result != "pending":
        with transaction.atomic(durable=True):
            payment = _locked(refund.payment)
            locked = Refund.objects.select_for_update().get(pk=refund.pk)
            if locked.state == Refund.State.PENDING:
                actor = f"provider:{payment.provider}"
                done = result == "succeeded"
                draft = (_refund_complete if done else _refund_fail)(payment, locked, actor=actor, now=now)
                facts_append([draft], now=now)
    refund.refresh_from_db()
    return refund


def _refund_fail(payment: Payment, refund: Refund, *, actor: str, now: dt.datetime) -> FactDraft:
    refund.state, refund.completed_at = Refund.State.FAILED, now
    refund.save(update_fields=["state", "completed_at"])
    body = {"refund": refund.refund_id, "amount": amount_text(refund.amount)}
    return settle.draft(payment, REFUND_FAILED, body, actor=actor)


@dataclass
class SweepReport:
    """What ``payments_sweep`` did: payments asked about, found paid or failed, closed, and
    those it could not handle (logged)."""

    queried: int = 0
    paid: int = 0
    failed: int = 0
    closed: int = 0
    refunds_checked: int = 0
    refunds_done: int = 0
    errors: int = 0


def payments_sweep(
    *, older_than: dt.timedelta = dt.timedelta(minutes=2), now: dt.datetime | None = None
) -> SweepReport:
    """The sweeper (``cimaise payments sweep``, every few minutes): each payment through a
    remote provider (Alipay, WeChat Pay) still awaiting ``older_than`` after its creation is
    asked about (``payment_query``), and closed (``payment_close``) once past its expiry; each
    refund still pending after ``older_than`` is checked (``payment_refund_check``)."""
    now = now or timezone.now()
    report = SweepReport()
    payments = Payment.objects.filter(state=PaymentState.CREATED, created_at__lte=now - older_than)
    for payment in payments.order_by("created_at", "pk"):
        if _remote(payment.provider):
            try:
                _sweep_payment(payment, now, report)
            except DomainError as exc:
                _sweep_failed(report, payment.pk, exc)
    refunds = Refund.objects.filter(state=Refund.State.PENDING, created_at__lte=now - older_than)
    for refund in refunds.select_related("payment").order_by("created_at", "pk"):
        if _remote(refund.payment.provider):
            try:
                _sweep_refund(refund, now, report)
            except DomainError as exc:
                _sweep_failed(report, refund.refund_id, exc)
    return report


def _remote(provider: str) -> bool:
    gateway = provider_get(provider)
    return gateway is not None and gateway.remote


def _sweep_failed(report: SweepReport, name: str, exc: DomainError) -> None:
    """A provider's failure is logged and counted, and the sweep goes on."""
    report.errors += 1
    logger.warning("payments: sweeping %s failed: %s", name, exc.message)


def _sweep_refund(refund: Refund, now: dt.datetime, report: SweepReport) -> None:
    report.refunds_checked += 1
    checked = payment_refund_check(refund_id=refund.refund_id, now=now)
    report.refunds_done += checked.state != Refund.State.PENDING


def _sweep_payment(payment: Payment, now: dt.datetime, report: SweepReport) -> None:
    report.queried += 1
    overdue = payment.expires_at is not None and payment.expires_at <= now
    after = (payment_close if overdue else payment_query)(payment_id=payment.pk, now=now)
    report.paid += after.state in PAID_STATES
    report.failed += after.state == PaymentState.FAILED
    report.closed += after.state == PaymentState.EXPIRED


def _opened(payment: Payment) -> PaymentStart | None:
    fact = (
        Fact.objects.filter(stream=settle.payment_stream(payment), type=PAYMENT_OPENED.name)
        .order_by("-seq")
        .first()
    )
    if fact is None:
        return None
    body = json.loads(fact.body)
    return PaymentStart(payment=payment, redirect_url=body["redirect_url"] or None, qr=body["qr"] or None)


def _refund_complete(payment: Payment, refund: Refund, *, actor: str, now: dt.datetime) -> FactDraft:
    refund.state, refund.completed_at = Refund.State.SUCCEEDED, now
    refund.save(update_fields=["state", "completed_at"])
    payment.refunded_amount += refund.amount
    full = payment.refunded_amount == payment.amount
    payment.state = PaymentState.REFUNDED if full else PaymentState.PARTIALLY_REFUNDED
    payment.save(update_fields=["refunded_amount", "state"])
    settle.on_refunded(refund, now)
    body = {
        "refund": refund.refund_id,
        "amount": amount_text(refund.amount),
        "refunded": amount_text(payment.refunded_amount),
        "state": payment.state,
    }
    return settle.draft(payment, facts.REFUND_SUCCEEDED, body, actor=actor)


def _refund_again(existing: Refund, payment: Payment, amount: Decimal) -> Refund:
    if existing.payment_id != payment.pk or existing.amount != amount:
        raise Conflict(
            f"refund id {existing.refund_id!r} was already used for {existing.amount} on another request",
            code="refund_id_reused",
            field="refund_id",
        )
    return existing


def _refundable(payment: Payment, amount: Decimal) -> None:
    if payment.state not in PAID_STATES:
        raise Conflict(f"payment {payment.pk} is not paid (it is {payment.state})", code="not_paid")
    pending = sum((r.amount for r in payment.refunds.filter(state=Refund.State.PENDING)), Decimal("0"))
    left = payment.amount - payment.refunded_amount - pending
    if amount > left:
        raise InvalidInput(f"amount: at most {left} {payment.currency} can still be refunded", field="amount")


def _provider_for_refund(payment: Payment) -> Provider:
    gateway = provider_get(payment.provider)
    if gateway is None:
        raise Conflict(f"provider {payment.provider!r} is not enabled", code="provider_unavailable")
    return gateway


def _created(payment: Payment, actor: str) -> FactDraft:
    body = {
        "purpose": payment.purpose,
        "reference": payment.reference,
        "provider": payment.provider,
        "expires_at": payment.expires_at,
        **settle.money(payment),
    }
    return settle.draft(payment, facts.PAYMENT_CREATED, body, actor=actor)


def _locked(payment: Payment) -> Payment:
    locked = settle.payment_locked(payment.pk)
    if locked is None:
        raise NotFound(f"no payment {payment.pk}", field="payment")
    return locked


def _awaiting_desk(
    institution: Institution, purpose: str, reference: str, amount: Decimal, currency: str
) -> Payment | None:
    rows = Payment.objects.select_for_update(of=("self",)).select_related("institution")
    return rows.filter(
        institution=institution, purpose=purpose, reference=reference, provider="desk",
        state=PaymentState.CREATED, amount=amount, currency=currency,
    ).first()  # fmt: skip


def _provider(name: str) -> Provider:
    gateway = provider_get(name) if isinstance(name, str) else None
    if gateway is None:
        raise InvalidInput(f"provider: no enabled payment provider {name!r}", field="provider")
    return gateway


def _purpose_known(purpose: str) -> None:
    if hooks.hooks_for(purpose) is None:
        raise InvalidInput(f"purpose: {purpose!r} has no payment hooks registered", field="purpose")


def _key(value: str, field: str) -> str:
    if not isinstance(value, str) or not _KEY.match(value):
        raise InvalidInput(f"{field}: 1 to 64 letters, digits or . _ : / -", field=field)
    return value


def _return_url(url: str) -> str:
    if not url:
        return ""  # the sandbox page then shows the outcome itself
    absolute = re.match(r"^https?://[^\s/\\]+(/[^\s]*)?$", url or "")
    local = re.match(r"^/(?![/\\])[^\s]*$", url or "")
    if not (absolute or local) or len(url) > 2000:
        raise InvalidInput("return_url must be an http(s) URL or a path starting with /", field="return_url")
    return url


def _description(text: str) -> str:
    if len(text) > 200 or "\n" in text:
        raise InvalidInput("description: one line of 200 characters at most", field="description")
    return text


def _language(language: str) -> str:
    try:
        return get_supported_language_variant(language.replace("_", "-").lower())
    except (LookupError, AttributeError):
        raise InvalidInput(f"language: {language!r} is not offered", field="language") from None


def _expiry(expires_at: dt.datetime | None) -> dt.datetime | None:
    if expires_at is not None and timezone.is_naive(expires_at):
        raise InvalidInput("expires_at must be timezone-aware", field="expires_at")
    return expires_at


def sweep_summary(report: SweepReport) -> str:
    """One line saying what a sweep did (the housekeeping log, the command's output)."""
    return (
        f"queried {report.queried} payments: {report.paid} paid, {report.failed} failed, "
        f"{report.closed} closed as expired; checked {report.refunds_checked} pending refunds, "
        f"{report.refunds_done} settled; {report.errors} errors"
    )


# The sweep runs with the other periodic jobs (``cimaise housekeeping``, started by ``cimaise serve``).
housekeeping.register(housekeeping.Job("payments.sweep", 120, lambda: sweep_summary(payments_sweep())))
