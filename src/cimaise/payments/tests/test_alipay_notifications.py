"""Alipay's asynchronous notifications (DESIGN §6.4): signed by Alipay's key over the form, taken
once, answered ``success`` only once stored; anything forged, tampered with or not matching the
payment is answered ``fail`` and changes nothing."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from cimaise.core.tests.personas import Cast
from cimaise.ledger.models import Fact
from cimaise.ledger.verify import ledger_verify
from cimaise.payments import services
from cimaise.payments.gateway.state import GatewayState
from cimaise.payments.models import Notification, Payment
from cimaise.payments.protocols import alipay
from cimaise.payments.tests import test_gateway_support as support
from cimaise.payments.tests.conftest import Shop, facts_of, start

pytestmark = pytest.mark.django_db
gateway_state, wallets = support.gateway_state, support.wallets  # the shared fixtures
NOTIFY = "/api/v1/payments/alipay/notify"


@pytest.fixture
def payment(cast: Cast, shop: Shop, wallets: GatewayState) -> Payment:
    return start(cast.institution_a, provider="alipay").payment


def notification(
    state: GatewayState, payment: Payment, *, signer: Any = None, **changes: str | None
) -> bytes:
    """What Alipay posts when the payment is made (fields changed before signing; None drops one)."""
    fields = {
        "notify_time": "2019-10-24 16:00:05", "notify_type": "trade_status_sync",
        "notify_id": f"2019{secrets.token_hex(15)}", "charset": "utf-8", "version": "1.0",
        "app_id": state.alipay_app_id, "auth_app_id": state.alipay_app_id,
        "seller_id": state.alipay_seller_id,
        "trade_no": "2019102422001400000000000001", "out_trade_no": payment.pk, "subject": "Léonard",
        "trade_status": "TRADE_SUCCESS", "total_amount": "12.50", "trans_currency": "EUR",
        "settle_currency": "EUR", "gmt_payment": "2019-10-24 16:00:04",
    }  # fmt: skip
    fields = {name: value for name, value in (fields | changes).items() if value is not None}
    return alipay.form_encode(alipay.notification_sign(fields, signer or state.alipay_private_key))


def deliver(body: bytes) -> services.NotificationOutcome:
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    return services.notification_receive(provider="alipay", body=body, headers=headers)


def snapshot(payment: Payment) -> tuple[object, ...]:
    payment.refresh_from_db()
    return (
        payment.state,
        payment.paid_at,
        Notification.objects.count(),
        Fact.objects.exclude(type="payments.notification.rejected").count(),
    )


def test_a_signed_notification_pays_once_and_is_answered_success(
    payment: Payment, shop: Shop, wallets: GatewayState
) -> None:
    outcome = deliver(notification(wallets, payment))
    assert (outcome.status, outcome.body, outcome.accepted) == (200, b"success", True)
    payment.refresh_from_db()
    assert (payment.state, payment.late, payment.provider_reference) == (
        "paid",
        False,
        "2019102422001400000000000001",
    )
    assert shop.paid == [(payment.pk, False)]
    stored = Notification.objects.get()
    assert (stored.provider, stored.amount, stored.currency, stored.answer_body) == (
        "alipay",
        Decimal("12.50"),
        "EUR",
        "success",
    )
    assert ledger_verify().ok


def test_a_notification_replayed_a_hundred_times_pays_once_with_one_fact(
    payment: Payment, shop: Shop, wallets: GatewayState
) -> None:
    body = notification(wallets, payment)
    answers = {deliver(body).body for _ in range(100)}
    assert answers == {b"success"}
    assert shop.paid == [(payment.pk, False)]
    assert facts_of(payment).count("payments.payment.paid") == 1
    assert Notification.objects.count() == 1


def tampered_body(state: GatewayState, payment: Payment) -> bytes:
    return notification(state, payment).replace(b"total_amount=12.50", b"total_amount=0.01")


def foreign_signature(state: GatewayState, payment: Payment) -> bytes:
    return notification(state, payment, signer=rsa.generate_private_key(public_exponent=65537, key_size=2048))


def old_rsa_sign_type(state: GatewayState, payment: Payment) -> bytes:
    return notification(state, payment).replace(b"sign_type=RSA2", b"sign_type=RSA")


def unsigned(state: GatewayState, payment: Payment) -> bytes:
    fields = alipay.form_parse(notification(state, payment))
    return alipay.form_encode({name: value for name, value in fields.items() if name != "sign"})


@pytest.mark.parametrize("forge", [tampered_body, foreign_signature, old_rsa_sign_type, unsigned])
def test_a_forged_or_tampered_notification_is_answered_fail_and_writes_nothing(
    payment: Payment, shop: Shop, wallets: GatewayState, forge: Any
) -> None:
    before = snapshot(payment)
    outcome = deliver(forge(wallets, payment))
    assert (outcome.status, outcome.body, outcome.code) == (200, b"fail", "bad_signature")
    assert snapshot(payment) == before and shop.paid == []
    assert not Fact.objects.filter(type="payments.notification.rejected").exists()  # sender unknown


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"total_amount": "12.49"}, "amount_mismatch"),
        ({"trans_currency": "CNY", "settle_currency": "CNY"}, "currency_mismatch"),
        ({"trans_currency": None, "settle_currency": None}, "currency_mismatch"),  # absent: CNY
        ({"out_trade_no": "0" * 32}, "unknown_payment"),
        ({"app_id": "2021009999999999", "auth_app_id": "2021009999999999"}, "merchant_mismatch"),
        ({"seller_id": "2088009999999999"}, "merchant_mismatch"),
        ({"trade_status": "WAIT_BUYER_PAY"}, "not_final"),
        ({"trade_status": "TRADE_REFUNDED"}, "malformed"),
        ({"notify_id": None}, "malformed"),
        ({"total_amount": "12,50"}, "malformed"),
    ],
)
def test_a_signed_notification_that_does_not_match_is_answered_fail_and_changes_nothing(
    payment: Payment, shop: Shop, wallets: GatewayState, changes: dict[str, str | None], code: str
) -> None:
    before = snapshot(payment)
    outcome = deliver(notification(wallets, payment, **changes))
    assert (outcome.status, outcome.body, outcome.accepted, outcome.code) == (200, b"fail", False, code)
    assert snapshot(payment) == before and shop.paid == []


def test_without_a_configured_institution_no_notification_pays(
    settings: Any, payment: Payment, shop: Shop, wallets: GatewayState
) -> None:
    settings.CIMAISE_PAYMENTS = settings.CIMAISE_PAYMENTS | {
        "alipay": settings.CIMAISE_PAYMENTS["alipay"] | {"institution": ""}
    }
    assert deliver(notification(wallets, payment)).code == "merchant_mismatch"


def test_a_notification_before_the_payment_is_committed_is_refused_then_taken_when_sent_again(
    monkeypatch: pytest.MonkeyPatch, cast: Cast, shop: Shop, wallets: GatewayState
) -> None:
    """The race: Alipay is faster than our commit. We answer ``fail``, so Alipay sends it again;
    by then the payment exists and the same notification is taken."""
    future_id = "f" * 32
    early = Payment(pk=future_id)
    body = notification(wallets, early)
    first = deliver(body)
    assert (first.body, first.code) == (b"fail", "unknown_payment") and not Notification.objects.exists()
    monkeypatch.setattr(Payment._meta.get_field("id"), "_get_default", lambda: future_id)
    payment = start(cast.institution_a, provider="alipay").payment
    assert payment.pk == future_id
    again = deliver(body)
    payment.refresh_from_db()
    assert (again.body, payment.state, shop.paid) == (b"success", "paid", [(future_id, False)])


def test_a_payment_after_expiry_is_taken_late_and_handed_to_the_purpose(
    payment: Payment, shop: Shop, wallets: GatewayState
) -> None:
    services.payment_cancel(payment=payment, actor="system:test", expired=True)
    outcome = deliver(notification(wallets, payment))
    payment.refresh_from_db()
    assert (outcome.body, payment.state, payment.late) == (b"success", "paid", True)
    assert shop.paid == [(payment.pk, True)]


def test_a_closed_trade_fails_an_awaiting_payment_but_never_unpays(
    payment: Payment, shop: Shop, wallets: GatewayState
) -> None:
    deliver(notification(wallets, payment))
    closed = deliver(notification(wallets, payment, trade_status="TRADE_CLOSED"))
    payment.refresh_from_db()
    assert closed.body == b"success" and payment.state == "paid" and shop.failed == []
    assert closed.notification is not None and closed.notification.outcome == "ignored"


def test_a_closed_trade_notification_fails_the_payment(
    payment: Payment, shop: Shop, wallets: GatewayState
) -> None:
    outcome = deliver(notification(wallets, payment, trade_status="TRADE_CLOSED", gmt_payment=None))
    payment.refresh_from_db()
    assert outcome.body == b"success" and payment.state == "failed" and shop.failed == [payment.pk]


def test_over_http_alipay_reads_success_or_fail(payment: Payment, shop: Shop, wallets: GatewayState) -> None:
    client = Client(enforce_csrf_checks=True)
    form = "application/x-www-form-urlencoded; charset=utf-8"
    body = notification(wallets, payment)
    for _ in range(2):
        response = client.post(NOTIFY, body, content_type=form)
        assert (response.status_code, response.content) == (200, b"success")
    response = client.post(NOTIFY, tampered_body(wallets, payment), content_type=form)
    assert (response.status_code, response.content) == (200, b"fail")
    payment.refresh_from_db()
    assert payment.state == "paid" and len(shop.paid) == 1


def test_the_payment_is_created_without_calling_alipay(cast: Cast, shop: Shop, wallets: GatewayState) -> None:
    """``payment_create`` runs inside the order's transaction: no network (nothing listens at the
    configured gateway here), no QR code until ``payment_open`` (see test_gateway_*)."""
    started = start(cast.institution_a, provider="alipay")
    assert (started.payment.state, started.qr, started.redirect_url) == ("created", None, None)


def test_an_expired_payment_is_flagged_late_by_time_as_well(
    cast: Cast, shop: Shop, wallets: GatewayState
) -> None:
    soon = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    payment = start(cast.institution_a, provider="alipay", expires_at=soon).payment
    deliver(notification(wallets, payment))
    payment.refresh_from_db()
    assert payment.state == "paid" and payment.late
