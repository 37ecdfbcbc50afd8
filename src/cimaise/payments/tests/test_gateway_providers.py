"""Our Alipay and WeChat Pay providers against the sandbox gateway (served in this process):
opening gives the gateway's QR code, a lost notification is recovered by ``payment_query``,
refunds are idempotent, an expired payment is closed at the gateway, and each side refuses the
other's bad signatures as the real gateways do."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import call_command

from cimaise.core.errors import Conflict
from cimaise.core.tests.personas import Cast
from cimaise.payments import services
from cimaise.payments.gateway.app import Running
from cimaise.payments.models import Notification, Payment
from cimaise.payments.protocols import private_pem, public_pem
from cimaise.payments.providers.base import ProviderFailed
from cimaise.payments.providers.wechatpay import WechatPayProvider
from cimaise.payments.tests import test_gateway_support as support
from cimaise.payments.tests.conftest import Shop, facts_of, start

pytestmark = pytest.mark.django_db
gateway_state, gateway = support.gateway_state, support.gateway  # the shared fixtures
PROVIDERS = ["alipay", "wechatpay"]


def opened(cast: Cast, provider: str, **changes: Any) -> tuple[Payment, str]:
    payment = start(cast.institution_a, provider=provider, **changes).payment
    qr = services.payment_open(payment_id=payment.pk).qr
    assert qr is not None
    return payment, qr


def pay(qr: str, action: str = "pay", *, notify: bool = True) -> int:
    support.get(qr)  # the wallet scans the code
    return support.post_form(qr, {"action": action, "notify": "1" if notify else "0"}).status


def refund(payment: Payment, amount: str, refund_id: str) -> Any:
    return services.payment_refund(
        payment=payment, amount=Decimal(amount), refund_id=refund_id, actor="user:finance"
    )


@pytest.mark.parametrize("provider", PROVIDERS)
def test_opening_asks_the_gateway_once_for_its_qr_code(
    cast: Cast, shop: Shop, gateway: Running, provider: str
) -> None:
    payment, qr = opened(cast, provider)
    assert qr == f"{gateway.base_url}/pay/{provider}/{payment.pk}"
    again = services.payment_open(payment_id=payment.pk)
    assert again.qr == qr and facts_of(payment).count("payments.payment.opened") == 1
    trade = support.trade_status(gateway.base_url, provider, payment.pk)["trade"]
    assert (trade["amount"], trade["currency"], trade["state"]) == ("12.50", "EUR", "CREATED")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_lost_notification_is_recovered_by_querying_once(
    cast: Cast, shop: Shop, gateway: Running, provider: str
) -> None:
    payment, qr = opened(cast, provider)
    assert services.payment_query(payment_id=payment.pk).state == "created"  # not scanned yet
    assert pay(qr, notify=False) == 303
    assert services.payment_query(payment_id=payment.pk).state == "paid"
    assert services.payment_query(payment_id=payment.pk).state == "paid"
    assert shop.paid == [(payment.pk, False)] and facts_of(payment).count("payments.payment.paid") == 1
    assert Notification.objects.get().notification_id.startswith("query:")


@pytest.mark.parametrize(("provider", "answered"), [("alipay", "succeeded"), ("wechatpay", "pending")])
def test_refunds_are_partial_and_idempotent_at_the_gateway(
    cast: Cast, shop: Shop, gateway: Running, provider: str, answered: str
) -> None:
    """Alipay refunds at once; WeChat Pay only accepts the refund, and the sweeper learns later
    that it is done."""
    payment, qr = opened(cast, provider)
    pay(qr, notify=False)
    services.payment_query(payment_id=payment.pk)
    first = refund(payment, "5.00", "A1B2-r1")
    again = refund(payment, "5.00", "A1B2-r1")
    assert (first.state, again.pk) == (answered, first.pk)
    refund(payment, "7.50", "A1B2-r2")
    report = services.payments_sweep(older_than=dt.timedelta(0))
    assert (report.refunds_checked, report.refunds_done) == ((2, 2) if answered == "pending" else (0, 0))
    assert services.payment_refund_check(refund_id="A1B2-r1").state == "succeeded"
    payment.refresh_from_db()
    assert (payment.state, payment.refunded_amount) == ("refunded", Decimal("12.50"))
    assert shop.refunded == [("A1B2-r1", Decimal("5.00")), ("A1B2-r2", Decimal("7.50"))]
    refunds = support.trade_status(gateway.base_url, provider, payment.pk)["refunds"]
    assert [row["refund_no"] for row in refunds] == ["A1B2-r1", "A1B2-r2"]


def test_a_refund_refused_in_the_end_fails_and_its_amount_can_be_refunded_again(
    monkeypatch: pytest.MonkeyPatch, cast: Cast, shop: Shop, gateway: Running
) -> None:
    payment, qr = opened(cast, "wechatpay")
    pay(qr, notify=False)
    services.payment_query(payment_id=payment.pk)
    assert refund(payment, "5.00", "A1B2-r1").state == "pending"
    monkeypatch.setattr(WechatPayProvider, "refund_query", lambda self, refund: "failed")
    failed = services.payment_refund_check(refund_id="A1B2-r1")
    payment.refresh_from_db()
    assert (failed.state, payment.state, payment.refunded_amount, shop.refunded) == (
        "failed",
        "paid",
        Decimal("0.00"),
        [],
    )
    assert facts_of(payment)[-1] == "payments.refund.failed"
    assert payment.refundable == Decimal("12.50")  # the 5.00 is refundable again
    assert refund(payment, "7.50", "A1B2-r2").state == "pending"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_expired_payment_is_closed_at_the_gateway_and_its_code_stops_working(
    cast: Cast, shop: Shop, gateway: Running, provider: str
) -> None:
    payment, qr = opened(cast, provider, expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30))
    report = services.payments_sweep(
        older_than=dt.timedelta(0), now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    )
    payment.refresh_from_db()
    assert (report.queried, report.closed, payment.state) == (1, 1, "expired")
    assert support.trade_status(gateway.base_url, provider, payment.pk)["trade"]["state"] == "CLOSED"
    assert pay(qr) == 409 and shop.paid == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_closing_a_payment_paid_meanwhile_takes_the_payment(
    cast: Cast, shop: Shop, gateway: Running, provider: str
) -> None:
    payment, qr = opened(cast, provider)
    pay(qr, notify=False)
    closed = services.payment_close(payment_id=payment.pk)
    assert closed.state == "paid" and shop.paid == [(payment.pk, False)]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_failed_payment_is_learned_by_querying(
    cast: Cast, shop: Shop, gateway: Running, provider: str
) -> None:
    payment, qr = opened(cast, provider)
    pay(qr, "fail", notify=False)
    assert services.payment_query(payment_id=payment.pk).state == "failed" and shop.failed == [payment.pk]


def test_a_payment_no_longer_awaiting_cannot_be_opened(cast: Cast, shop: Shop, gateway: Running) -> None:
    payment = start(cast.institution_a, provider="alipay").payment
    services.payment_cancel(payment=payment, actor="system:test")
    with pytest.raises(Conflict) as caught:
        services.payment_open(payment_id=payment.pk)
    assert caught.value.code == "not_awaiting"


def other_key(tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        public_pem(key.public_key()) if "public" in name or "certificate" in name else private_pem(key)
    )
    return str(path)


@pytest.mark.parametrize(
    ("provider", "option", "code", "detail"),
    [
        ("alipay", "private_key_file", "provider_refused", "isv.invalid-signature"),
        ("alipay", "app_id", "provider_refused", "isv.invalid-app-id"),
        ("wechatpay", "private_key_file", "provider_refused", "SIGN_ERROR"),
        ("wechatpay", "merchant_serial", "provider_refused", "SIGN_ERROR"),
        ("wechatpay", "mchid", "provider_refused", "SIGN_ERROR"),
    ],
)
def test_the_gateway_refuses_a_request_not_signed_as_the_merchant(
    settings: Any,
    tmp_path: Path,
    cast: Cast,
    shop: Shop,
    gateway: Running,
    provider: str,
    option: str,
    code: str,
    detail: str,
) -> None:
    payment = start(cast.institution_a, provider=provider).payment
    value = other_key(tmp_path, "merchant-private.pem") if option.endswith("_file") else "1234567890"
    settings.CIMAISE_PAYMENTS = settings.CIMAISE_PAYMENTS | {
        provider: settings.CIMAISE_PAYMENTS[provider] | {option: value}
    }
    with pytest.raises(ProviderFailed) as caught:
        services.payment_open(payment_id=payment.pk)
    assert caught.value.code == code and detail in str(caught.value.details)
    assert "payments.payment.opened" not in facts_of(payment)


@pytest.mark.parametrize(
    ("provider", "option"), [("alipay", "alipay_public_key_file"), ("wechatpay", "platform_serial")]
)
def test_we_refuse_an_answer_not_signed_by_the_gateway(
    settings: Any, tmp_path: Path, cast: Cast, shop: Shop, gateway: Running, provider: str, option: str
) -> None:
    payment = start(cast.institution_a, provider=provider).payment
    value = other_key(tmp_path, "alipay-public.pem") if option.endswith("_file") else "00AA"
    settings.CIMAISE_PAYMENTS = settings.CIMAISE_PAYMENTS | {
        provider: settings.CIMAISE_PAYMENTS[provider] | {option: value}
    }
    with pytest.raises(ProviderFailed) as caught:
        services.payment_open(payment_id=payment.pk)
    assert caught.value.code == "provider_bad_answer"


def test_an_unreachable_gateway_is_a_provider_failure_and_changes_nothing(
    settings: Any, cast: Cast, shop: Shop, gateway: Running
) -> None:
    payment = start(cast.institution_a, provider="wechatpay").payment
    settings.CIMAISE_PAYMENTS = settings.CIMAISE_PAYMENTS | {
        "wechatpay": settings.CIMAISE_PAYMENTS["wechatpay"]
        | {"base_url": support.NOWHERE, "timeout_seconds": 2}
    }
    with pytest.raises(ProviderFailed) as caught:
        services.payment_open(payment_id=payment.pk)
    assert caught.value.code == "provider_unreachable"
    payment.refresh_from_db()
    assert payment.state == "created" and "payments.payment.opened" not in facts_of(payment)


def test_ops_query_a_payment_and_the_sweep_runs_with_housekeeping(
    cast: Cast, shop: Shop, gateway: Running
) -> None:
    payment, qr = opened(cast, "alipay")
    pay(qr, notify=False)
    out = io.StringIO()
    call_command("payments", "query", payment.pk, stdout=out)
    assert out.getvalue().strip() == f"payment {payment.pk}: paid"
    out = io.StringIO()
    call_command("housekeeping", "--list", stdout=out)
    assert "payments.sweep: every 120 s" in out.getvalue()
    out = io.StringIO()
    call_command("payments", "sweep", "--older-than-minutes", "0", stdout=out)
    assert out.getvalue().startswith("queried 0 payments") and "0 errors" in out.getvalue()
