"""A wallet's checkout (Alipay, WeChat Pay): the order's payment is opened at the gateway once
the order is committed, the API answers its QR, and the shop's order page shows the QR and
refreshes itself until paid. The gateway here is a stand-in provider; the real protocols and
their sandbox gateway are tested in the payments app."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from cimaise.payments.models import Payment, Refund
from cimaise.payments.providers.base import (
    NotificationRejected,
    PaymentStart,
    Provider,
    RefundResult,
    VerifiedNotification,
)
from cimaise.ticketing.models import Order
from cimaise.ticketing.tests.factories import Shop

pytestmark = pytest.mark.django_db
OPENED: list[tuple[str, bool]] = []


class StandInWallet(Provider):
    """Opens a trade "at the gateway" (records that it was not inside a transaction) and
    answers a QR payload, as Alipay's precreate does."""

    remote = True

    def start(self, payment: Payment) -> PaymentStart:
        return PaymentStart(payment=payment, redirect_url=None, qr=None)

    def open(self, payment: Payment) -> PaymentStart:
        OPENED.append((payment.pk, transaction.get_connection().in_atomic_block))
        return PaymentStart(payment=payment, redirect_url=None, qr=f"https://qr.example/{payment.pk}")

    def verify_notification(self, body: bytes, headers: Mapping[str, str]) -> VerifiedNotification:
        """This stand-in is paid through no notification: anything sent to it is refused."""
        raise NotificationRejected("the stand-in wallet sends no notifications", code="bad_signature")

    def refund(self, refund: Refund) -> RefundResult:
        return "succeeded"


@pytest.fixture
def wallet(settings: Any) -> None:
    settings.CIMAISE_PAYMENTS = {
        "alipay": {"class": "cimaise.ticketing.tests.test_wallet_checkout.StandInWallet", "enabled": True}
    }
    OPENED.clear()


def test_the_api_answers_the_wallets_qr_opened_outside_the_transaction(
    wallet: None, anon_client: Client, shop: Shop
) -> None:
    body = {"slot": shop.slot(shop.museum, 9).pk, "items": [{"tariff": "FULL", "quantity": 2}]}
    cart = anon_client.post("/api/v1/carts", json.dumps(body), content_type="application/json").json()
    answer = anon_client.post(
        "/api/v1/orders",
        json.dumps(
            {"cart": cart["id"], "email": "li@example.org", "provider": "alipay", "language": "zh-hans"}
        ),
        content_type="application/json",
    ).json()
    payment = answer["payment"]
    assert payment["qr"] == f"https://qr.example/{payment['id']}" and payment["redirect_url"] is None
    # in tests the whole test runs in a transaction, so "outside" means not in a new atomic block
    # of the sale: the sale's durable block has ended when the gateway is asked
    assert [pk for pk, _ in OPENED] == [payment["id"]]


def test_the_order_page_shows_the_qr_and_refreshes_until_paid(wallet: None, shop: Shop) -> None:
    client = Client(headers={"Accept-Language": "zh-hans"})
    body = {"slot": shop.slot(shop.museum, 9).pk, "items": [{"tariff": "FULL", "quantity": 1}]}
    cart = client.post("/api/v1/carts", json.dumps(body), content_type="application/json").json()
    client.post(
        "/api/v1/orders",
        json.dumps({"cart": cart["id"], "email": "li@example.org", "provider": "alipay"}),
        content_type="application/json",
    )
    order = Order.objects.get()
    page = client.get(f"/shop/orders/{order.code}/?key={order.access_key}").content.decode()
    assert "<svg" in page and 'http-equiv="refresh"' in page
    assert "支付宝" in page, "the instruction is in Chinese"
    assert len(OPENED) == 1, "the page shows the stored answer; the gateway is asked once"
