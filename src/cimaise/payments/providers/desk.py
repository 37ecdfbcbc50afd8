"""The desk: a cashier takes cash or a card on the museum's own terminal. No notification
comes from anywhere; the cashier's own record (``payment_record_desk``) marks it paid, and a
refund is money handed back over the counter."""

from __future__ import annotations

from collections.abc import Mapping

from cimaise.payments.models import Payment, Refund
from cimaise.payments.providers.base import (
    NotificationRejected,
    PaymentStart,
    Provider,
    RefundResult,
    VerifiedNotification,
)


class DeskProvider(Provider):
    allows_zero = True
    notifies = False

    def start(self, payment: Payment) -> PaymentStart:
        return PaymentStart(payment=payment, redirect_url=None, qr=None)

    def verify_notification(self, body: bytes, headers: Mapping[str, str]) -> VerifiedNotification:
        raise NotificationRejected("the desk sends no notifications", code="not_supported")

    def refund(self, refund: Refund) -> RefundResult:
        return "succeeded"
