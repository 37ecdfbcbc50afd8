"""The payments API: provider notifications (no authentication: the signature is the proof) and
the finance view of one payment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Router, Schema, Status, UploadedFile

from cimaise.core.auth import request_actor
from cimaise.core.errors import InvalidInput
from cimaise.payments import reconciliation
from cimaise.payments.access import access_payment
from cimaise.payments.models import Payment, ReconciliationRun
from cimaise.payments.notifications import notification_receive
from cimaise.payments.statements import MAX_BYTES

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


# Reconciliation of provider statements (finance; see ``reconciliation``). Declared before
# ``/payments/{payment_id}``, whose pattern would otherwise take ``/payments/reconciliations``.


class ReconciliationLineOut(Schema):
    kind: str
    transaction: str
    out_trade_no: str
    refund_id: str
    provider_reference: str
    statement_line: int | None
    occurred_at: dt.datetime | None
    provider_amount: Decimal | None
    provider_currency: str
    provider_status: str
    our_amount: Decimal | None
    our_currency: str
    our_state: str
    note: str


class ReconciliationTotalOut(Schema):
    currency: str
    provider_payments: Decimal
    provider_refunds: Decimal
    our_payments: Decimal
    our_refunds: Decimal


class ReconciliationRunOut(Schema):
    id: int
    provider: str
    day: dt.date
    window_start: dt.datetime
    window_end: dt.datetime
    filename: str
    sha256: str
    provider_payments: int
    provider_refunds: int
    our_payments: int
    our_refunds: int
    matched: int
    differences: int
    totals: list[ReconciliationTotalOut]
    created_by: str
    created_at: dt.datetime
    lines: list[ReconciliationLineOut]


def reconciliation_out(run: ReconciliationRun) -> dict[str, Any]:
    fields = (
        "provider day window_start window_end filename sha256 provider_payments provider_refunds "
        "our_payments our_refunds matched differences created_by created_at"
    ).split()
    return {
        "id": run.pk,
        **{name: getattr(run, name) for name in fields},
        "totals": reconciliation.reconciliation_totals(run=run),
        "lines": reconciliation.reconciliation_lines(run=run),
    }


@router.post(
    "/payments/reconciliations",
    response={201: ReconciliationRunOut},
    summary="Reconcile a provider's statement of a day (multipart: provider, day, statement)",
    description=(
        "`provider` is `alipay`, `wechatpay` or `sandbox`; `day` the statement's day "
        "(YYYY-MM-DD, on the provider's clock: Beijing for Alipay and WeChat Pay); `statement` the "
        "file (Alipay trade bill CSV or zip, WeChat Pay trade bill, sandbox CSV). Needs "
        "`payments.add_reconciliationrun`. A file that cannot be read is a 422 naming `statement` "
        "with `details.line`; nothing is stored."
    ),
)
def reconciliation_create(
    request: HttpRequest, provider: Form[str], day: Form[dt.date], statement: File[UploadedFile]
) -> Status[dict[str, Any]]:
    actor = request_actor(request)
    if (statement.size or 0) > MAX_BYTES:
        raise InvalidInput(f"statement: larger than {MAX_BYTES // 2**20} MB", field="statement")
    run = reconciliation.reconciliation_run(
        actor=actor, provider=provider, day=day, statement=statement.read(), filename=statement.name or ""
    )
    return Status(201, reconciliation_out(run))


@router.get(
    "/payments/reconciliations/{run_id}",
    response=ReconciliationRunOut,
    summary="A reconciliation run with its totals and differences (payments.view_reconciliationrun)",
)
def reconciliation_detail(request: HttpRequest, run_id: int) -> dict[str, Any]:
    run = reconciliation.access_reconciliation_run(request_actor(request), run_id)
    return reconciliation_out(run)


@router.get(
    "/payments/{payment_id}",
    response=PaymentOut,
    summary="A payment with its notifications and refunds (staff with payments.view_payment)",
)
def payment_detail(request: HttpRequest, payment_id: str) -> dict[str, Any]:
    payment = access_payment(request_actor(request), payment_id)
    return payment_out(payment)
