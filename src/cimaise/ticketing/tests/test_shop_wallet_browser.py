"""A real browser (the system Chromium through Playwright) on a 360 px phone, paying with a wallet
through the sandbox gateway: ``cimaise payments sandbox`` runs as a subprocess on a free loopback
port, notifying the live test server, and the shop's Alipay or WeChat Pay provider talks to it.
A visitor switches the shop to Simplified Chinese, orders two full-price tickets for the Léonard
de Vinci exhibition with the wallet, and gets the order page with the wallet's QR code, awaiting
payment. The phone "scans" the code (zxing-cpp reads it off the screen) and pays on the gateway's
page in a second tab; the gateway notifies the shop (then once more, on purpose), and the order
page, refreshing itself, turns paid with two ticket QR codes. No page scrolls sideways."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zxingcpp  # a dev dependency: decodes the QR the way a phone would
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from cimaise.payments.models import Notification, Payment
from cimaise.payments.tests import test_gateway_support as support
from cimaise.ticketing.models import Order, Tariff
from cimaise.ticketing.tests.factories import Shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FULL_NAMES = {"en": "Full price", "fr": "Plein tarif", "zh-hans": "全价票"}
#: The wallet as the shop names it in Chinese, and what its order page asks the visitor to do.
WALLETS = {
    "alipay": ("支付宝", "请用支付宝扫描此二维码付款。"),
    "wechatpay": ("微信支付", "请用微信扫描此二维码付款。"),
}
PAID_WITHIN_MS = 30_000


def overflow(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def fits(page: Page, step: str) -> None:
    assert overflow(page) <= 0, f"{step} scrolls sideways by {overflow(page)}px at 360px"


def scanned(code: Locator) -> list[str]:
    """The QR codes zxing-cpp reads on a screenshot of ``code``, as a phone's camera would."""
    with Image.open(io.BytesIO(code.screenshot())) as image:
        return [found.text for found in zxingcpp.read_barcodes(image) if found.format.name == "QRCode"]


@pytest.fixture
def gateway(transactional_db: None, live_server: Any, tmp_path: Path) -> Iterator[support.SandboxProcess]:
    """``cimaise payments sandbox`` as a real process on a free loopback port, notifying the live
    server, with short retry intervals; stopped after the test (by itself after 5 minutes at most)."""
    directory = tmp_path / "sandbox"
    directory.mkdir()
    log = directory / "sandbox.log"
    command = [
        sys.executable, "-m", "cimaise.config.cli", "payments", "sandbox", "--listen", "127.0.0.1:0",
        "--notify-base", live_server.url, "--state", str(directory),
        "--retry-schedule", "0.3,0.6,1.2,2.4", "--max-seconds", "300",
    ]  # fmt: skip
    env = {
        **os.environ,
        "CIMAISE_VAR_DIR": str(directory / "var"),
        "DJANGO_SETTINGS_MODULE": "cimaise.config.settings",
    }
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
    try:
        settings_file = directory / "settings.json"
        support.eventually(lambda: settings_file.exists() or process.poll() is not None, seconds=60)
        assert process.poll() is None, log.read_text()
        written = json.loads(settings_file.read_text())
        assert support.get(f"{written['base_url']}/health").body == b"ok"
        yield support.SandboxProcess(
            base_url=written["base_url"], payments=written["CIMAISE_PAYMENTS"], log=log
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.parametrize("provider", ["alipay", "wechatpay"])
def test_a_visitor_pays_two_tickets_with_a_wallet_through_the_sandbox_in_chinese_on_a_phone(
    page: Page, settings: Any, live_server: Any, gateway: support.SandboxProcess, shop: Shop, provider: str
) -> None:
    # the shop's provider against the gateway, its notifications to the live server
    support.configure(settings, {provider: gateway.payments[provider]}, notify_base=live_server.url)
    Tariff.objects.filter(product=shop.leonardo, code="FULL").update(names=FULL_NAMES)
    wallet, instruction = WALLETS[provider]
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server.url}/shop/")
    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", level=1)).to_contain_text("门票")

    page.locator("section.product", has_text="列奥纳多·达·芬奇").get_by_role("link", name="选择日期").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("列奥纳多·达·芬奇")
    page.locator(f'a.day[href="?date={shop.day:%Y-%m-%d}#slots"]').click()
    slots = page.locator("#slots")
    expect(slots).to_contain_text("剩余 50 个名额")
    slots.locator("a.slot").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("需要几张门票？")
    page.get_by_label("全价票").select_option("2")
    expect(page.locator("#total")).to_contain_text("34.00")
    page.get_by_role("button", name="继续").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("您的预订")
    page.get_by_label("电子邮箱").fill("li.wei@example.cn")
    methods = page.locator("fieldset.methods label.method")
    expect(methods.first).to_have_text(wallet)  # in Chinese the wallet comes before the card
    page.get_by_label(wallet, exact=True).check()
    expect(page.get_by_label(wallet, exact=True)).to_be_checked()
    fits(page, "the cart")
    page.get_by_role("button", name=re.compile("^支付")).click()

    # the order page: the wallet's QR, awaiting payment, refreshing itself
    expect(page).to_have_url(re.compile(r"/shop/orders/[^/?]+/\?key="))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("p.state[role=status]")).to_have_text("等待付款。")
    expect(page.locator("main")).to_contain_text(instruction)
    wallet_code = page.locator("div.qr.wallet svg")
    expect(wallet_code).to_have_count(1)
    expect(page.locator("div.qr-box svg")).to_have_count(0)
    fits(page, "the order page awaiting payment")

    order = Order.objects.get()
    assert (order.state, order.provider, order.language) == (
        Order.State.AWAITING_PAYMENT,
        provider,
        "zh-hans",
    )
    pay_url = f"{gateway.base_url}/pay/{provider}/{order.payment_id}"
    assert scanned(wallet_code) == [pay_url], "the QR holds the gateway's page for this trade"

    # the phone's wallet, in a second tab of the same browser
    wallet_page = page.context.new_page()
    wallet_page.set_viewport_size({"width": 360, "height": 740})
    wallet_page.goto(pay_url)
    expect(wallet_page.get_by_role("status")).to_have_text("Awaiting payment")
    expect(wallet_page.locator("body")).to_contain_text("34.00 EUR")
    wallet_page.get_by_role("button", name="Pay", exact=True).click()
    expect(wallet_page.get_by_role("status")).to_have_text("Paid")
    wallet_page.close()

    # back on the order page: it refreshes itself into the paid state
    tickets = page.locator("ol.tickets div.qr-box svg")
    expect(tickets).to_have_count(2, timeout=PAID_WITHIN_MS)
    expect(page.locator("p.state[role=status]")).to_have_text("已付款：您的门票已准备好。")
    expect(page.locator("main")).to_contain_text("我们已将门票发送至 li.wei@example.cn")
    expect(page.locator("div.qr.wallet")).to_have_count(0)
    expect(page.locator('meta[http-equiv="refresh"]')).to_have_count(0)
    fits(page, "the paid order page")

    # the notification, then its deliberate duplicate: both acknowledged, the order paid once
    def delivered_twice() -> bool:
        rows = support.trade_status(gateway.base_url, provider, str(order.payment_id))["deliveries"]
        return [row["acknowledged"] for row in rows] == [1, 1]

    support.eventually(delivered_twice, seconds=30)
    order.refresh_from_db()
    payment = Payment.objects.get(pk=order.payment_id)
    assert (order.state, payment.state, payment.provider) == (Order.State.PAID, "paid", provider)
    assert Notification.objects.filter(payment=payment).count() == 1
    codes = sorted(order.tickets.values_list("code", flat=True))
    assert len(codes) == 2
    page.reload()
    expect(tickets).to_have_count(2)
    assert sorted(text for ticket in tickets.all() for text in scanned(ticket)) == codes
