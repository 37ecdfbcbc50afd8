"""The pass network's pages in a real browser at 360 px, in English and French: nothing scrolls
sideways (the holder's pass, the operator's network view, a partner's portal)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from cimaise.core.tests.personas import make_cast
from cimaise.passnet.tests.conftest import make_network

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def overflow(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill("pw")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_pass_pages_fit_a_360_px_phone(page: Page, live_server: Any, language: str) -> None:
    network = make_network(make_cast())
    passes = network.issue(quantity=2, holder_name="Jeanne Martin")
    now = timezone.now()
    network.scan("ORSAY", passes[0].code, now - dt.timedelta(minutes=30))
    network.scan("VERSAILLES", passes[0].code, now - dt.timedelta(minutes=20))
    network.scan("ORSAY", "junk", now - dt.timedelta(minutes=10))
    page.set_viewport_size({"width": 360, "height": 740})
    page.set_extra_http_headers({"Accept-Language": language})
    base = live_server.url
    page.goto(f"{base}/passnet/p/{passes[0].code_id}/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator(".qr svg")).to_be_visible()
    assert overflow(page) <= 0
    sign_in(page, base, network.pass_operator.username)
    page.goto(f"{base}/passnet/")
    page.wait_for_load_state("networkidle")
    expect(page.locator('[data-kind="impossible_travel"]')).to_have_count(1)
    assert overflow(page) <= 0, f"network view scrolls sideways by {overflow(page)}px"
    page.context.clear_cookies()
    sign_in(page, base, network.cast.partner_b.username)
    page.goto(f"{base}/passnet/site/")
    page.wait_for_load_state("networkidle")
    expect(page.locator('[data-reason="forged"]')).to_have_count(1)
    assert overflow(page) <= 0, f"portal scrolls sideways by {overflow(page)}px"
