"""The sandbox card provider: our own page plays the card gateway (``/payments/sandbox/<id>/``).

Protocol, both halves here so they cannot drift apart:

- the gateway signs the exact bytes of a JSON body with the institution's Ed25519
  ``payments-sandbox`` key (private half in a file under ``KEY_DIR``, never in the database) and
  sends ``X-Sandbox-Signature: <key id>:<base64url signature>``;
- the body is ``{"v": 1, "merchant", "payment", "notification", "transaction", "status":
  "paid"|"failed", "amount": "12.00", "currency", "time"}`` (time ISO 8601 with offset);
- the shop answers ``{"status": "ok"}`` (200) when it took it, or an error (400).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from django.urls import reverse

from cimaise.core import keys
from cimaise.core.models import SigningKey
from cimaise.payments.models import Payment, Refund
from cimaise.payments.money import CURRENCY, amount_parse, amount_text
from cimaise.payments.providers.base import (
    NotificationRejected,
    PaymentStart,
    Provider,
    RefundResult,
    VerifiedNotification,
)

KEY_PURPOSE = "payments-sandbox"
SIGNATURE_HEADER = "X-Sandbox-Signature"
NOTIFICATION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_TEXT_FIELDS = ("merchant", "payment", "notification", "transaction", "status", "amount", "currency", "time")


class SandboxProvider(Provider):
    def start(self, payment: Payment) -> PaymentStart:
        page = reverse("payments:sandbox", args=[payment.pk])
        return PaymentStart(
            payment=payment, redirect_url=f"{self.options.get('base_url', '')}{page}", qr=None
        )

    def verify_notification(self, body: bytes, headers: Mapping[str, str]) -> VerifiedNotification:
        header = headers.get(SIGNATURE_HEADER.lower(), "")
        key = _signing_key(header)
        _verified(key, body, header)  # before reading a byte of the body
        data = _parse(body)
        if data["merchant"] != key.institution.code:
            raise NotificationRejected("the signing key is not the merchant's", code="bad_signature")
        return VerifiedNotification(
            notification_id=data["notification"],
            payment_id=data["payment"],
            status=data["status"],
            amount=data["amount"],
            currency=data["currency"],
            merchant=data["merchant"],
            occurred_at=data["time"],
            provider_reference=data["transaction"],
            evidence={SIGNATURE_HEADER: header},
        )

    def refund(self, refund: Refund) -> RefundResult:
        return "succeeded"  # the pretend bank gives the money back at once


def _signing_key(header: str) -> SigningKey:
    kid, _sep, signature = header.partition(":")
    if not kid or not signature:
        raise NotificationRejected(f"missing or malformed {SIGNATURE_HEADER} header", code="bad_signature")
    key = SigningKey.objects.select_related("institution").filter(kid=kid, purpose=KEY_PURPOSE).first()
    if key is None:
        raise NotificationRejected(f"unknown sandbox key {kid[:64]!r}", code="bad_signature")
    return key


def _verified(key: SigningKey, body: bytes, header: str) -> None:
    if not keys.verify(key, body, header.partition(":")[2]):
        raise NotificationRejected("the signature does not match the body", code="bad_signature")


def _parse(body: bytes) -> dict[str, Any]:
    """The body's fields, checked and typed; ``malformed`` names the first bad one."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise NotificationRejected("the body is not JSON", code="malformed") from None
    if not isinstance(data, dict) or data.get("v") != 1:
        raise NotificationRejected("the body is not a version 1 sandbox notification", code="malformed")
    for name in _TEXT_FIELDS:
        if not isinstance(data.get(name), str):
            raise NotificationRejected(f"{name} is missing or not text", code="malformed", field=name)
    _check_codes(data)
    return {**data, "amount": _amount(data["amount"]), "time": _time(data["time"])}


def _check_codes(data: dict[str, Any]) -> None:
    if data["status"] not in ("paid", "failed"):
        raise NotificationRejected("status must be paid or failed", code="malformed", field="status")
    if not CURRENCY.match(data["currency"]):
        raise NotificationRejected("currency must be an ISO 4217 code", code="malformed", field="currency")
    for name in ("notification", "payment", "transaction"):
        if not NOTIFICATION_ID.match(data[name]):
            raise NotificationRejected(f"{name} is not a valid id", code="malformed", field=name)


def _amount(text: str) -> Decimal:
    amount = amount_parse(text)
    if amount is None:
        raise NotificationRejected("amount must be a decimal such as 12.50", code="malformed", field="amount")
    return amount


def _time(text: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise NotificationRejected("time must be ISO 8601 with an offset", code="malformed", field="time")
    return when


def notification_sign(
    *, payment: Payment, status: Literal["paid", "failed"], now: dt.datetime
) -> tuple[bytes, dict[str, str]]:
    """The gateway's half: a signed notification about ``payment`` (body, headers)."""
    key = keys.signing_key_current(institution=payment.institution, purpose=KEY_PURPOSE)
    body = {
        "v": 1,
        "merchant": payment.institution.code,
        "payment": payment.pk,
        "notification": f"sbx_{secrets.token_hex(12)}",
        "transaction": f"sbx_txn_{secrets.token_hex(8)}",
        "status": status,
        "amount": amount_text(payment.amount),
        "currency": payment.currency,
        "time": now.astimezone(dt.UTC).isoformat(),
    }
    raw = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
    return raw, {SIGNATURE_HEADER: f"{key.kid}:{keys.sign(key, raw)}"}
