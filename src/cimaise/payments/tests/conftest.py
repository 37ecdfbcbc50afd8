"""A test purpose (``test.order``) whose hooks record every call, and helpers that make payments
and sign sandbox notifications, tampered with or not."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cimaise.core import keys
from cimaise.core.models import Institution
from cimaise.core.tests.personas import Cast
from cimaise.ledger.models import Fact
from cimaise.payments import hooks, services
from cimaise.payments.models import Payment, Refund
from cimaise.payments.providers import sandbox

PURPOSE = "test.order"
RETURN_URL = "https://shop.example/orders/A1B2/done"


@dataclass
class Shop:
    """The test purpose: what its hooks were told, in order."""

    paid: list[tuple[str, bool]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    refunded: list[tuple[str, Decimal]] = field(default_factory=list)

    def on_paid(self, payment: Payment, now: dt.datetime) -> None:
        self.paid.append((payment.pk, payment.late))

    def on_failed(self, payment: Payment, now: dt.datetime) -> None:
        self.failed.append(payment.pk)

    def on_refunded(self, refund: Refund, now: dt.datetime) -> None:
        self.refunded.append((refund.refund_id, refund.amount))


@pytest.fixture
def shop() -> Iterator[Shop]:
    recorder = Shop()
    hooks.register(
        PURPOSE,
        hooks.PurposeHooks(
            on_paid=recorder.on_paid, on_failed=recorder.on_failed, on_refunded=recorder.on_refunded
        ),
    )
    yield recorder
    hooks.unregister(PURPOSE)


def start(institution: Institution, **changes: Any) -> services.PaymentStart:
    """A sandbox payment of 12.50 EUR for order A1B2 (any argument can be changed)."""
    arguments: dict[str, Any] = {
        "institution": institution,
        "purpose": PURPOSE,
        "reference": "A1B2",
        "amount": Decimal("12.50"),
        "currency": "EUR",
        "provider": "sandbox",
        "return_url": RETURN_URL,
        "description": "2 × Full price, 24 Oct 2019 10:00",
        "actor": "user:visitor-test",
    }
    return services.payment_create(**(arguments | changes))


@pytest.fixture
def payment(cast: Cast, shop: Shop) -> Payment:
    return start(cast.institution_a).payment


def signed(
    payment: Payment,
    status: str = "paid",
    /,
    *,
    signer: Ed25519PrivateKey | None = None,
    kid: str | None = None,
    **changes: Any,
) -> tuple[bytes, dict[str, str]]:
    """A sandbox notification about ``payment``, with fields changed *before* signing (so the
    signature is good) and, optionally, signed by another key or under another key id."""
    body, headers = sandbox.notification_sign(payment=payment, status="paid", now=dt.datetime.now(dt.UTC))
    data = json.loads(body) | {"status": status} | changes
    raw = json.dumps(data, separators=(",", ":")).encode()
    key = keys.signing_key_current(institution=payment.institution, purpose=sandbox.KEY_PURPOSE)
    signature = keys.b64url(signer.sign(raw)) if signer else keys.sign(key, raw)
    return raw, {sandbox.SIGNATURE_HEADER: f"{kid or key.kid}:{signature}"}


def deliver(body: bytes, headers: dict[str, str]) -> services.NotificationOutcome:
    return services.notification_receive(provider="sandbox", body=body, headers=headers)


def facts_of(payment: Payment) -> list[str]:
    """The types of the facts on the payment's stream, in order."""
    stream = f"payments.payment:{payment.institution.code}:{payment.pk}"
    return list(Fact.objects.filter(stream=stream).order_by("seq").values_list("type", flat=True))
