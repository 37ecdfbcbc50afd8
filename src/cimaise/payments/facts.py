"""Fact types recorded by payments. Each payment's facts share the stream
``payments.payment:<institution>:<payment id>``, its refunds included."""

from cimaise.ledger.types import register

PAYMENT_CREATED = register(
    "payments.payment.created",
    "A payment was asked for (purpose, reference, provider, amount, currency, expiry).",
)
PAYMENT_PAID = register(
    "payments.payment.paid",
    "A payment was marked paid, from a verified notification or at the desk (provider, notification "
    "or method, amount, currency, previous state, late: paid after it had failed, expired or been "
    "cancelled).",
)
PAYMENT_FAILED = register(
    "payments.payment.failed",
    "A verified notification said the payment failed (provider, notification, amount, currency).",
)
PAYMENT_CANCELLED = register(
    "payments.payment.cancelled",
    "A payment awaiting payment was closed by its purpose: cancelled or expired (state, reason).",
)
NOTIFICATION_IGNORED = register(
    "payments.notification.ignored",
    "A verified notification changed nothing: its payment was already settled (status, outcome).",
)
NOTIFICATION_REJECTED = register(
    "payments.notification.rejected",
    "A notification with a valid signature was refused and changed nothing (code, claimed payment, "
    "amount, currency, SHA-256 of the body). Stream: the provider's notification id, written once.",
)
REFUND_REQUESTED = register(
    "payments.refund.requested",
    "A refund was asked for (refund id, amount, reason).",
)
REFUND_SUCCEEDED = register(
    "payments.refund.succeeded",
    "A refund was completed by the provider (refund id, amount, total refunded, new payment state).",
)
