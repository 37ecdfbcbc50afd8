"""End to end, with real processes: ``cimaise payments sandbox`` runs as a subprocess on a free
loopback port; the shop is a live Django test server. A payment is created, ``payment_open`` gets
the QR code from the gateway, the visitor pays on the gateway's page, the gateway delivers its
signed (WeChat Pay: encrypted) notification to the live server, then a deliberate duplicate:
the payment is paid once. Then refunds, through the gateway, idempotent by refund id."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from cimaise.core.tests.personas import Cast
from cimaise.payments import services
from cimaise.payments.models import Notification, Payment
from cimaise.payments.tests import test_gateway_support as support
from cimaise.payments.tests.conftest import Shop, facts_of, start

pytestmark = pytest.mark.django_db(transaction=True)
sandbox_process = support.sandbox_process  # the shared fixture


@pytest.mark.parametrize(("provider", "acknowledgement"), [("alipay", "success"), ("wechatpay", "")])
def test_a_payment_through_the_sandbox_process_is_paid_once_despite_the_duplicate(
    settings: Any,
    live_server: Any,
    sandbox_process: support.SandboxProcess,
    cast: Cast,
    shop: Shop,
    provider: str,
    acknowledgement: str,
) -> None:
    support.configure(settings, sandbox_process.payments, notify_base=live_server.url)
    payment = start(cast.institution_a, provider=provider).payment
    qr = services.payment_open(payment_id=payment.pk).qr
    assert qr == f"{sandbox_process.base_url}/pay/{provider}/{payment.pk}"

    assert support.get(qr).status == 200  # the visitor scans the code
    assert support.post_form(qr, {"action": "pay"}).status == 303

    def delivered_twice() -> bool:
        rows = support.trade_status(sandbox_process.base_url, provider, payment.pk)["deliveries"]
        return [row["acknowledged"] for row in rows] == [1, 1]

    support.eventually(delivered_twice, seconds=30)
    rows = support.trade_status(sandbox_process.base_url, provider, payment.pk)["deliveries"]
    assert [row["answers"][-1][1] for row in rows] == [acknowledgement, acknowledgement]
    payment.refresh_from_db()
    assert (payment.state, payment.late) == ("paid", False)
    assert shop.paid == [(payment.pk, False)]
    assert facts_of(payment).count("payments.payment.paid") == 1
    assert Notification.objects.filter(payment=payment).count() == 1

    first = services.payment_refund(
        payment=payment, amount=Decimal("2.50"), refund_id="E2E-r1", actor="user:finance"
    )
    again = services.payment_refund(
        payment=payment, amount=Decimal("2.50"), refund_id="E2E-r1", actor="user:finance"
    )
    assert again.pk == first.pk
    assert services.payment_refund_check(refund_id="E2E-r1").state == "succeeded"  # WeChat Pay: learned later
    payment.refresh_from_db()
    assert (payment.state, payment.refunded_amount) == ("partially_refunded", Decimal("2.50"))
    refunds = support.trade_status(sandbox_process.base_url, provider, payment.pk)["refunds"]
    assert [row["refund_no"] for row in refunds] == ["E2E-r1"]


def test_a_notification_lost_on_the_way_is_recovered_by_the_sweeper(
    settings: Any, live_server: Any, sandbox_process: support.SandboxProcess, cast: Cast, shop: Shop
) -> None:
    support.configure(settings, sandbox_process.payments, notify_base=live_server.url)
    payment = start(cast.institution_a, provider="wechatpay").payment
    qr = services.payment_open(payment_id=payment.pk).qr
    assert qr is not None
    support.post_form(qr, {"action": "pay", "notify": "0"})
    report = services.payments_sweep(older_than=dt.timedelta(0))
    payment = Payment.objects.get(pk=payment.pk)
    assert (report.queried, report.paid, payment.state) == (1, 1, "paid")
    assert shop.paid == [(payment.pk, False)]
