"""What a payment provider is: how a payment starts, how its notifications are verified and
answered, how a refund is made. One module per provider (``sandbox``, ``desk``; later ``alipay``
with RSA2 signatures and ``wechatpay`` with RSA signatures and AES-GCM bodies)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from cimaise.core.errors import DomainError
from cimaise.payments.models import Payment, Refund


@dataclass(frozen=True)
class PaymentStart:
    """How the visitor goes on paying: a page to send their browser to, or a QR payload to show."""

    payment: Payment
    redirect_url: str | None
    qr: str | None


@dataclass(frozen=True)
class VerifiedNotification:
    """A provider's message whose signature checked out, parsed. ``merchant`` is who the provider
    says it is paying (an institution code); ``evidence`` is what it takes to verify it again
    (signature headers), kept with the notification."""

    notification_id: str
    payment_id: str
    status: Literal["paid", "failed"]
    amount: Decimal
    currency: str
    merchant: str
    occurred_at: dt.datetime
    provider_reference: str = ""
    evidence: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    """What the notification endpoint sends back to the provider."""

    status: int
    body: bytes
    content_type: str


class NotificationRejected(DomainError):
    """A notification refused: ``code`` says why (``bad_signature``, ``malformed``,
    ``unknown_payment``, ``merchant_mismatch``, ``provider_mismatch``, ``amount_mismatch``,
    ``currency_mismatch``). It changes no payment."""

    status = 400
    code = "rejected"


RefundResult = Literal["succeeded", "pending"]
RefundState = Literal["succeeded", "pending", "failed"]


class ProviderFailed(DomainError):
    """The provider could not be reached, or refused or garbled a call (``code`` says which:
    ``provider_unreachable``, ``provider_refused``, ``provider_bad_answer``). Nothing was
    changed on our side; the call can be made again."""

    status = 502
    code = "provider_failed"


@dataclass(frozen=True)
class QueryAnswer:
    """What the provider says of a payment when asked: a verified, settled answer taken through
    the same path as a notification, with the answer's exact bytes kept as evidence."""

    verified: VerifiedNotification
    body: bytes


class Provider(ABC):
    """A payment provider, made from its options (``payments.conf``)."""

    #: may a payment through this provider be of 0 (a free ticket at the desk)?
    allows_zero = False
    #: does it send notifications to ``POST /api/v1/payments/{name}/notify``?
    notifies = True
    #: does the payment live at a remote gateway too (opened, queried and closed over the network)?
    remote = False

    def __init__(self, name: str, options: Mapping[str, Any]) -> None:
        self.name = name
        self.options = dict(options)

    @abstractmethod
    def start(self, payment: Payment) -> PaymentStart:
        """Open the payment at the provider (inside the creating transaction; no slow calls)."""

    @abstractmethod
    def verify_notification(self, body: bytes, headers: Mapping[str, str]) -> VerifiedNotification:
        """Check the signature of the exact body and parse it; raise ``NotificationRejected``
        (``bad_signature`` or ``malformed``). ``headers`` have lower-case names."""

    @abstractmethod
    def refund(self, refund: Refund) -> RefundResult:
        """Ask for the refund: ``succeeded`` if done at once, ``pending`` if the provider will
        confirm it later."""

    def open(self, payment: Payment) -> PaymentStart:
        """Open the payment at the provider and say how the visitor pays (a QR code…). May call
        the network: called outside any transaction, after the payment is committed. The same
        payment opened again gets the same answer. By default, what ``start`` said."""
        return self.start(payment)

    def query(self, payment: Payment) -> QueryAnswer | None:
        """Ask the provider whether the payment was paid or has failed (network, outside any
        transaction); None while it still awaits the visitor, or when the provider cannot say."""
        return None

    def refund_query(self, refund: Refund) -> RefundState:
        """Ask the provider what became of a refund it left ``pending`` (network, outside any
        transaction): done, still under way, or refused in the end."""
        return "pending"

    def close(self, payment: Payment) -> bool:
        """Close the unpaid payment at the provider so it can no longer be paid (network, outside
        any transaction). False if the provider says it cannot (it was paid meanwhile)."""
        return True

    def accepted(self) -> Answer:
        """The answer to a notification taken (or a resend of one)."""
        return json_answer(200, {"status": "ok"})

    def rejected(self, error: NotificationRejected) -> Answer:
        """The answer to a notification refused."""
        return json_answer(error.status, {"error": error.as_dict()})


def query_notification_id(reference: str, state: str) -> str:
    """The notification id under which a query's answer is stored: one per provider transaction
    and state, so asking again is a resend (nothing written twice)."""
    text = f"query:{reference}:{state}"
    return text if len(text) <= 64 else f"query:{hashlib.sha256(text.encode()).hexdigest()[:58]}"


def json_answer(status: int, body: dict[str, Any]) -> Answer:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Answer(status=status, body=text.encode(), content_type="application/json")
