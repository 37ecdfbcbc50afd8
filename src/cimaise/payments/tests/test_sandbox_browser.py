"""A real browser (the system Chromium) on a 360 px phone: the sandbox card page fits the screen,
shows a bad card number next to its field, and pays."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cimaise.core.tests.personas import Cast
from cimaise.payments.models import Payment
from cimaise.payments.tests.conftest import Shop, start

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def overflow(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def test_a_visitor_pays_on_a_phone_in_their_language(
    page: Page, live_server: Any, cast: Cast, shop: Shop
) -> None:
    payment = start(cast.institution_a, language="zh-hans", return_url="").payment
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server.url}/payments/sandbox/{payment.pk}/")
    expect(page.get_by_role("heading", name="银行卡支付")).to_be_visible()
    assert overflow(page) <= 0, f"the sandbox page scrolls sideways by {overflow(page)}px at 360px"

    page.get_by_label("卡号").fill("4242 4242 4242 4241")
    page.get_by_role("button", name="支付 12.50 EUR").click()
    expect(page.get_by_role("alert")).to_contain_text("卡号：此卡号无效")
    page.get_by_label("卡号").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="支付 12.50 EUR").click()
    expect(page.get_by_role("status")).to_contain_text("此笔付款已支付。")
    payment.refresh_from_db()
    assert payment.state == "paid" and shop.paid == [(payment.pk, False)]
    assert Payment.objects.count() == 1
