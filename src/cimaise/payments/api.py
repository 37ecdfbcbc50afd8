"""The payments API: provider notifications (no authentication: the signature is the proof) and
the finance view of one payment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from cimaise.core.auth import request_actor
from cimaise.payments.access import access_payment
from cimaise.payments.models import Payment
from cimaise.payments.notifications import notification_receive

router = Router(tags=["payments"])


@router.post(
    "/payments/{provider}/notify",
    auth=None,
    response={200: None, 400: None},
    summary="A provider's notification (signature verified, idempotent by notification id)",
    description=(
        "The raw body as the provider sends it, with its signature headers (sandbox: "
        "`X-Sandbox-Signature: <key id>:<base64url Ed25519 signature>` over the exact body). "
        'The answer is what the provider expects; sandbox: `{"status": "ok"}` when taken or '
        "already taken, else 400 with an error code such as `bad_signature`, `unknown_payment`, "
        "`amount_mismatch`, `currency_mismatch`. An unknown provider is a 404."
    ),
)
def notify(request: HttpRequest, provider: str) -> HttpResponse:
    outcome = notification_receive(provider=provider, body=request.body, headers=request.headers)
    return HttpResponse(outcome.body, status=outcome.status, content_type=outcome.content_type)


class RefundOut(Schema):
    refund_id: str
    amount: Decimal
    state: str
    reason: str
    created_at: dt.datetime
    completed_at: dt.datetime | None


class NotificationOut(Schema):
    provider: str
    notification_id: str
    status: str
    outcome: str
    received_at: dt.datetime


class PaymentOut(Schema):
    id: str
    purpose: str
    reference: str
    provider: str
    method: str
    amount: Decimal
    currency: str
    state: str
    late: bool
    refunded_amount: Decimal
    created_at: dt.datetime
    expires_at: dt.datetime | None
    paid_at: dt.datetime | None
    provider_reference: str
    refunds: list[RefundOut]
    notifications: list[NotificationOut]


def payment_out(payment: Payment) -> dict[str, Any]:
    fields = (
        "id purpose reference provider method amount currency state late refunded_amount created_at "
        "expires_at paid_at provider_reference"
    ).split()
    return {
        **{name: getattr(payment, name) for name in fields},
        "refunds": list(payment.refunds.all()),
        "notifications": list(payment.notifications.all()),
    }


@router.get(
    "/payments/{payment_id}",
    response=PaymentOut,
    summary="A payment with its notifications and refunds (staff with payments.view_payment)",
)
def payment_detail(request: HttpRequest, payment_id: str) -> dict[str, Any]:
    payment = access_payment(request_actor(request), payment_id)
    return payment_out(payment)
