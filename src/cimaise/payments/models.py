"""Payments, the provider notifications that settle them, and refunds."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import ClassVar

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cimaise.core.models import Institution


def payment_id_new() -> str:
    """A public, unguessable id (122 random bits, 32 hex digits): it is also the provider's
    ``out_trade_no``, which WeChat Pay limits to 32 characters."""
    return uuid.uuid4().hex


class PaymentState(models.TextChoices):
    CREATED = "created", _("Awaiting payment")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")


PAID_STATES = frozenset({PaymentState.PAID, PaymentState.PARTIALLY_REFUNDED, PaymentState.REFUNDED})
CLOSED_STATES = frozenset({PaymentState.FAILED, PaymentState.EXPIRED, PaymentState.CANCELLED})


class Payment(models.Model):
    """What a purpose (e.g. a ticket order) asks a visitor to pay through one provider.

    ``purpose`` and ``reference`` say what is paid for (``ticketing.order`` / the order code);
    the purpose's hooks are told when it is paid, failed or refunded. ``late`` marks a payment
    that became paid after it had failed, expired or been cancelled: its purpose may refund it.
    """

    id = models.CharField(primary_key=True, max_length=32, default=payment_id_new, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="payments")
    purpose = models.CharField(max_length=64)
    reference = models.CharField(max_length=64)
    provider = models.CharField(max_length=32)
    method = models.CharField(max_length=16, blank=True, help_text=_("At the desk: cash or card."))
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    state = models.CharField(max_length=20, choices=PaymentState.choices, default=PaymentState.CREATED)
    return_url = models.CharField(max_length=2000, blank=True)
    description = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=10, default="en")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text=_("When it failed or was cancelled."))
    late = models.BooleanField(default=False)
    provider_reference = models.CharField(max_length=128, blank=True)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))

    class Meta:
        ordering: ClassVar = ["-created_at"]
        indexes: ClassVar = [models.Index(fields=["purpose", "reference"], name="payment_purpose_ref")]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0, refunded_amount__lte=F("amount")),
                name="payment_refunds_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.amount} {self.currency} ({self.state})"

    @property
    def refundable(self) -> Decimal:
        return self.amount - self.refunded_amount if self.state in PAID_STATES else Decimal("0.00")


class Notification(models.Model):
    """A provider's verified message about a payment, kept once per provider notification id.

    Rejected messages (bad signature, unknown payment, wrong amount…) are never stored here, so
    a forged copy can never take the id of a genuine one; see ``payments.notification.rejected``.
    """

    class Outcome(models.TextChoices):
        PAID = "paid", _("Marked the payment paid")
        FAILED = "failed", _("Marked the payment failed")
        IGNORED = "ignored", _("Changed nothing (the payment was already settled)")

    provider = models.CharField(max_length=32)
    notification_id = models.CharField(max_length=64)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="notifications")
    received_at = models.DateTimeField()
    verified = models.BooleanField(default=True)
    status = models.CharField(max_length=16, help_text=_("What the provider said: paid or failed."))
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    body = models.TextField(help_text=_("The message as received."))
    evidence = models.JSONField(default=dict, help_text=_("The signature headers, to verify it again."))
    answer_status = models.PositiveSmallIntegerField()
    answer_body = models.TextField()
    answer_content_type = models.CharField(max_length=100)

    class Meta:
        ordering: ClassVar = ["received_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["provider", "notification_id"], name="notification_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.notification_id} → {self.outcome}"


class Refund(models.Model):
    """Money given back on a paid payment; ``refund_id`` is the caller's idempotency key."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    refund_id = models.CharField(max_length=64, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    reason = models.CharField(max_length=200, blank=True)
    requested_by = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["created_at"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.refund_id} {self.amount} ({self.state})"


# Reconciliation and exchange rates (``reconciliation.py``, ``statements.py``, ``rates.py``).


def _iso_4217(code: str) -> bool:
    return len(code) == 3 and code.isascii() and code.isalpha() and code.isupper()


class ExchangeRate(models.Model):
    """A dated exchange rate: from ``valid_from`` until the pair's next rate, one ``base`` unit
    is worth ``rate`` ``quote`` units. Indicative only (a price shown in yuan next to the euro
    price); nothing is ever charged with it."""

    base = models.CharField(max_length=3, default="EUR", help_text=_("ISO 4217 code, e.g. EUR."))
    quote = models.CharField(max_length=3, default="CNY", help_text=_("ISO 4217 code, e.g. CNY."))
    rate = models.DecimalField(max_digits=12, decimal_places=6)
    valid_from = models.DateField()
    source = models.TextField(blank=True, help_text=_("Where the rate comes from (publisher, date read)."))

    class Meta:
        ordering: ClassVar = ["base", "quote", "-valid_from"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["base", "quote", "valid_from"], name="exchange_rate_unique_day"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"1 {self.base} = {self.rate} {self.quote} from {self.valid_from}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError  # local: this block is appended

        wrong = [name for name in ("base", "quote") if not _iso_4217(getattr(self, name))]
        if wrong:
            raise ValidationError(
                {name: _("Enter an ISO 4217 code of three capitals, e.g. EUR.") for name in wrong}
            )


class ReconciliationRun(models.Model):
    """One provider statement (a day's transactions at Alipay, WeChat Pay or the sandbox)
    compared with our payments and refunds of that day; its differences are its lines.

    ``day`` is the statement's day on the provider's clock (``window_start``–``window_end``);
    ``totals`` maps each side (``provider``, ``ours``) to ``{currency: {"payments", "refunds"}}``
    amounts written as text."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="reconciliation_runs")
    provider = models.CharField(max_length=32)
    day = models.DateField()
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, help_text=_("SHA-256 of the statement file, in hex."))
    provider_payments = models.PositiveIntegerField(default=0)
    provider_refunds = models.PositiveIntegerField(default=0)
    our_payments = models.PositiveIntegerField(default=0)
    our_refunds = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    differences = models.PositiveIntegerField(default=0)
    totals = models.JSONField(default=dict)
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField()

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["institution", "provider", "day"], name="reconciliation_run_day"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.day} ({self.differences} differences)"


class ReconciliationLine(models.Model):
    """One difference between a provider's statement and our records."""

    class Kind(models.TextChoices):
        MISSING_HERE = "missing_here", _("Listed by the provider, unknown here")
        MISSING_THERE = "missing_there", _("Paid here, not listed by the provider")
        AMOUNT_MISMATCH = "amount_mismatch", _("Amounts differ")
        CURRENCY_MISMATCH = "currency_mismatch", _("Currencies differ")
        STATUS_MISMATCH = "status_mismatch", _("States differ")
        REFUND_MISSING_HERE = "refund_missing_here", _("Refund listed by the provider, unknown here")
        REFUND_MISSING_THERE = "refund_missing_there", _("Refund made here, not listed by the provider")
        DUPLICATE = "duplicate", _("Listed twice by the provider")

    class Transaction(models.TextChoices):
        PAYMENT = "payment", _("Payment")
        REFUND = "refund", _("Refund")

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    transaction = models.CharField(max_length=8, choices=Transaction.choices)
    out_trade_no = models.CharField(max_length=64, blank=True, help_text=_("Our payment id."))
    refund_id = models.CharField(max_length=64, blank=True)
    provider_reference = models.CharField(max_length=128, blank=True)
    statement_line = models.PositiveIntegerField(null=True, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    provider_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    provider_currency = models.CharField(max_length=3, blank=True)
    provider_status = models.CharField(max_length=32, blank=True)
    our_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    our_currency = models.CharField(max_length=3, blank=True)
    our_state = models.CharField(max_length=20, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering: ClassVar = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.out_trade_no or self.refund_id}"
