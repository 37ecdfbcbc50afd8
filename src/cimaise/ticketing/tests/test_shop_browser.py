"""A real browser (the system Chromium through Playwright) on a 360 px phone: a visitor switches
the shop to Simplified Chinese, buys two full-price tickets for the Léonard de Vinci exhibition
with the sandbox card, comes back to the confirmation page with two QR codes, and opens the PDF.
No page scrolls sideways on the way."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cimaise.ticketing.models import Order, Tariff
from cimaise.ticketing.tests.factories import Shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FULL_NAMES = {"en": "Full price", "fr": "Plein tarif", "zh-hans": "全价票"}


def overflow(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def fits(page: Page, step: str) -> None:
    assert overflow(page) <= 0, f"{step} scrolls sideways by {overflow(page)}px at 360px"


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.fail("needs pdftotext (Debian poppler-utils)")
    source = tmp_path / "tickets.pdf"
    source.write_bytes(pdf)
    return subprocess.run(
        [tool, "-layout", str(source), "-"], capture_output=True, check=True
    ).stdout.decode()


def test_a_visitor_buys_two_tickets_in_chinese_on_a_phone_and_opens_the_pdf(
    page: Page, live_server: Any, shop: Shop, tmp_path: Path
) -> None:
    Tariff.objects.filter(product=shop.leonardo, code="FULL").update(names=FULL_NAMES)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server.url}/shop/")
    fits(page, "the shop's home page")

    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", level=1)).to_contain_text("门票")
    fits(page, "the home page in Chinese")

    page.locator("section.product", has_text="列奥纳多·达·芬奇").get_by_role("link", name="选择日期").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("列奥纳多·达·芬奇")
    fits(page, "the calendar")
    page.locator(f'a.day[href="?date={shop.day:%Y-%m-%d}#slots"]').click()
    slots = page.locator("#slots")
    expect(slots).to_contain_text("剩余 50 个名额")
    fits(page, "the day's slots")

    slots.locator("a.slot").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("需要几张门票？")
    page.get_by_label("全价票").select_option("2")
    expect(page.locator("#total")).to_contain_text("34.00")  # the htmx fragment, in the page's language
    fits(page, "the tickets page")
    page.get_by_role("button", name="继续").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("您的预订")
    expect(page.locator("#countdown")).to_have_text(re.compile(r"^(30:00|29:\d\d)$"))
    page.get_by_label("电子邮箱").fill("li.wei@example.cn")
    expect(page.get_by_label("银行卡")).to_be_checked()
    fits(page, "the cart")
    page.get_by_role("button", name=re.compile("^支付")).click()

    expect(page).to_have_url(re.compile(r"/payments/sandbox/[^/]+/$"))
    fits(page, "the sandbox card page")
    page.locator('button[name="action"][value="pay"]').click()

    expect(page).to_have_url(re.compile(r"/shop/orders/[^/]+/\?key="))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("status").first).to_contain_text("已付款")
    expect(page.locator("svg.qr")).to_have_count(2)
    expect(page.locator("main")).to_contain_text("我们已将门票发送至 li.wei@example.cn")
    fits(page, "the confirmation page")

    order = Order.objects.get()
    assert order.state == Order.State.PAID and order.language == "zh-hans" and order.tickets.count() == 2
    link = page.get_by_role("link", name="下载门票（PDF）")
    pdf = page.request.get(f"{live_server.url}{link.get_attribute('href')}")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    text = pdf_text(pdf.body(), tmp_path)
    assert order.reference in text and "列奥纳多·达·芬奇" in text
