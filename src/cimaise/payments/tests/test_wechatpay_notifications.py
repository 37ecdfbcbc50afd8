"""WeChat Pay's notifications (DESIGN §6.4): signed with the platform key of their serial within
5 minutes, the resource decrypted with our APIv3 key, taken once and answered 204; anything
forged, stale, undecryptable or not matching the payment gets 4xx ``{"code": "FAIL", …}`` and
changes nothing."""

from __future__ import annotations

import datetime as dt
import json
import uuid
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
from cimaise.payments.protocols import wechatpay
from cimaise.payments.tests import test_gateway_support as support
from cimaise.payments.tests.conftest import Shop, facts_of, start

pytestmark = pytest.mark.django_db
gateway_state, wallets = support.gateway_state, support.wallets  # the shared fixtures
NOTIFY = "/api/v1/payments/wechatpay/notify"


@pytest.fixture
def payment(cast: Cast, shop: Shop, wallets: GatewayState) -> Payment:
    return start(cast.institution_a, provider="wechatpay").payment


def transaction(state: GatewayState, payment: Payment, **changes: Any) -> dict[str, Any]:
    data = {
        "appid": state.wechat_appid, "mchid": state.wechat_mchid, "out_trade_no": payment.pk,
        "transaction_id": "4200000000201910240000000001", "trade_type": "NATIVE", "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功", "success_time": "2019-10-24T16:00:04+08:00",
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": 1250, "currency": "EUR", "payer_total": 9800, "payer_currency": "CNY"},
    }  # fmt: skip
    return data | changes


def notification(
    state: GatewayState,
    payment: Payment,
    *,
    key: bytes | None = None,
    signer: Any = None,
    now: dt.datetime | None = None,
    event_type: str = "TRANSACTION.SUCCESS",
    **changes: Any,
) -> tuple[bytes, dict[str, str]]:
    """What WeChat Pay posts once the payment is made: body and signed headers."""
    plaintext = json.dumps(transaction(state, payment, **changes), ensure_ascii=False).encode()
    resource = wechatpay.resource_encrypt(
        key or state.wechat_api_v3_key, plaintext, associated_data="transaction", original_type="transaction"
    )
    envelope = {
        "id": f"EV-{uuid.uuid4()}", "create_time": "2019-10-24T16:00:05+08:00",
        "resource_type": "encrypt-resource", "event_type": event_type, "summary": "支付成功",
        "resource": resource,
    }  # fmt: skip
    body = json.dumps(envelope, ensure_ascii=False).encode()
    headers = wechatpay.signed_headers(
        private_key=signer or state.wechat_platform_key, serial_no=state.wechat_platform_serial, body=body,
        now=now or dt.datetime.now(dt.UTC),
    )  # fmt: skip
    return body, headers


def deliver(body: bytes, headers: dict[str, str]) -> services.NotificationOutcome:
    return services.notification_receive(provider="wechatpay", body=body, headers=headers)


def snapshot(payment: Payment) -> tuple[object, ...]:
    payment.refresh_from_db()
    counted = Fact.objects.exclude(type="payments.notification.rejected").count()
    return (payment.state, payment.paid_at, Notification.objects.count(), counted)


def refused(outcome: services.NotificationOutcome, code: str) -> None:
    assert (outcome.status, outcome.accepted, outcome.code) == (400, False, code)
    assert json.loads(outcome.body)["code"] == "FAIL" and outcome.content_type == "application/json"


def test_a_signed_encrypted_notification_pays_once_and_is_answered_204(
    payment: Payment, shop: Shop, wallets: GatewayState
) -> None:
    outcome = deliver(*notification(wallets, payment))
    assert (outcome.status, outcome.body, outcome.accepted) == (204, b"", True)
    payment.refresh_from_db()
    assert (payment.state, payment.provider_reference) == ("paid", "4200000000201910240000000001")
    assert shop.paid == [(payment.pk, False)]
    stored = Notification.objects.get()
    assert (stored.amount, stored.currency) == (Decimal("12.50"), "EUR")
    assert stored.evidence["wechatpay-serial"] == wallets.wechat_platform_serial
    assert ledger_verify().ok


def test_a_notification_replayed_a_hundred_times_pays_once_with_one_fact(
    payment: Payment, shop: Shop, wallets: GatewayState
) -> None:
    body, headers = notification(wallets, payment)
    statuses = {deliver(body, headers).status for _ in range(100)}
    assert statuses == {204}
    assert shop.paid == [(payment.pk, False)]
    assert facts_of(payment).count("payments.payment.paid") == 1
    assert Notification.objects.count() == 1


def tampered_body(state: GatewayState, payment: Payment) -> tuple[bytes, dict[str, str]]:
    body, headers = notification(state, payment)
    return body.replace(b'"summary"', b'"Summary"'), headers


def foreign_signature(state: GatewayState, payment: Payment) -> tuple[bytes, dict[str, str]]:
    return notification(state, payment, signer=rsa.generate_private_key(public_exponent=65537, key_size=2048))


def unknown_serial(state: GatewayState, payment: Payment) -> tuple[bytes, dict[str, str]]:
    body, headers = notification(state, payment)
    return body, headers | {"Wechatpay-Serial": "5157F09EFDC096DE15EBE81A47057A72"}


def stale(state: GatewayState, payment: Payment) -> tuple[bytes, dict[str, str]]:
    return notification(state, payment, now=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=6))


def unsigned(state: GatewayState, payment: Payment) -> tuple[bytes, dict[str, str]]:
    return notification(state, payment)[0], {}


@pytest.mark.parametrize("forge", [tampered_body, foreign_signature, unknown_serial, stale, unsigned])
def test_a_forged_stale_or_tampered_notification_is_refused_and_writes_nothing(
    payment: Payment, shop: Shop, wallets: GatewayState, forge: Any
) -> None:
    before = snapshot(payment)
    refused(deliver(*forge(wallets, payment)), "bad_signature")
    assert snapshot(payment) == before and shop.paid == []
    assert not Fact.objects.filter(type="payments.notification.rejected").exists()


def test_a_resource_not_encrypted_with_our_apiv3_key_is_refused(
    payment: Payment, shop: Shop, wallets: GatewayState
) -> None:
    before = snapshot(payment)
    refused(deliver(*notification(wallets, payment, key=b"Z" * 32)), "decrypt_failed")
    assert snapshot(payment) == before and shop.paid == []


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"amount": {"total": 1249, "currency": "EUR"}}, "amount_mismatch"),
        ({"amount": {"total": 1250, "currency": "CNY"}}, "currency_mismatch"),
        ({"out_trade_no": "0" * 32}, "unknown_payment"),
        ({"mchid": "1900000999"}, "merchant_mismatch"),
        ({"appid": "wx0000000000000000"}, "merchant_mismatch"),
        ({"trade_state": "NOTPAY"}, "not_final"),
        ({"amount": {"total": "1250"}}, "malformed"),
        ({"event_type": "REFUND.SUCCESS"}, "not_supported"),
    ],
)
def test_a_signed_notification_that_does_not_match_is_refused_and_changes_nothing(
    payment: Payment, shop: Shop, wallets: GatewayState, changes: dict[str, Any], code: str
) -> None:
    before = snapshot(payment)
    refused(deliver(*notification(wallets, payment, **changes)), code)
    assert snapshot(payment) == before and shop.paid == []


def test_a_notification_before_the_payment_is_committed_is_refused_then_taken_when_sent_again(
    monkeypatch: pytest.MonkeyPatch, cast: Cast, shop: Shop, wallets: GatewayState
) -> None:
    future_id = "e" * 32
    body, headers = notification(wallets, Payment(pk=future_id))
    refused(deliver(body, headers), "unknown_payment")
    monkeypatch.setattr(Payment._meta.get_field("id"), "_get_default", lambda: future_id)
    payment = start(cast.institution_a, provider="wechatpay").payment
    again = deliver(body, headers)  # WeChat Pay's retry (re-signed or not, the same notification)
    payment.refresh_from_db()
    assert (again.status, payment.state, shop.paid) == (204, "paid", [(future_id, False)])


def test_a_payment_after_expiry_is_taken_late_and_handed_to_the_purpose(
    payment: Payment, shop: Shop, wallets: GatewayState
) -> None:
    services.payment_cancel(payment=payment, actor="system:test", expired=True)
    outcome = deliver(*notification(wallets, payment))
    payment.refresh_from_db()
    assert (outcome.status, payment.state, payment.late, shop.paid) == (
        204,
        "paid",
        True,
        [(payment.pk, True)],
    )


def test_over_http_wechatpay_gets_204_or_a_fail_json(
    payment: Payment, shop: Shop, wallets: GatewayState
) -> None:
    client = Client(enforce_csrf_checks=True)
    body, headers = notification(wallets, payment)
    for _ in range(2):
        response = client.post(NOTIFY, body, content_type="application/json", headers=headers)
        assert (response.status_code, response.content) == (204, b"")
    response = client.post(
        NOTIFY, *tampered_body(wallets, payment)[:1], content_type="application/json", headers=headers
    )
    assert response.status_code == 400 and response.json()["code"] == "FAIL"
    payment.refresh_from_db()
    assert payment.state == "paid" and len(shop.paid) == 1
