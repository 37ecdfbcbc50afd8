"""The register in a real browser on a 360 px phone: it fits the screen, the gap is highlighted,
and a contract opens from the coverage table."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cimaise.purchasing import services
from cimaise.purchasing.tests.conftest import Register, make_spec

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def overflow(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def test_the_register_fits_a_phone_and_highlights_the_gaps(
    page: Page, live_server: Any, register: Register
) -> None:
    services.contract_save(actor=register.officer.actor, spec=make_spec())
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("User name").fill(register.officer.username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/purchasing/?on=2025-06-01")
    expect(page.get_by_role("heading", name="Needs and their coverage")).to_be_visible()
    gap = page.locator("tr[data-need=N-CLEAN]")
    expect(gap).to_have_attribute("data-status", "gap")
    expect(gap.locator(".badge")).to_have_text("gap")
    expect(gap.locator(".badge")).to_have_css("color", "rgb(164, 22, 26)")  # the theme's --bad
    expect(page.locator("tr[data-need=N-TRANSPORT] .badge")).to_have_text("covered")
    expect(page.locator("svg.indicators-chart")).to_be_visible()
    assert overflow(page) <= 0, f"the register scrolls sideways by {overflow(page)}px at 360px"
    page.locator("tr[data-need=N-TRANSPORT]").get_by_role("link", name="C-1").click()
    expect(page.get_by_role("heading", name="C-1 Transport of works")).to_be_visible()
    expect(page.locator("[data-renewal-on]")).to_have_text("31/12/2026")
    assert overflow(page) <= 0, f"the contract page scrolls sideways by {overflow(page)}px at 360px"
    page.goto(f"{live_server.url}/purchasing/import/")
    assert overflow(page) <= 0
    page.goto(f"{live_server.url}/purchasing/needs/new/")
    assert overflow(page) <= 0
    # in French too (longer words)
    page.context.add_cookies([{"name": "django_language", "value": "fr", "url": live_server.url}])
    page.goto(f"{live_server.url}/purchasing/?on=2025-06-01")
    expect(page.get_by_role("heading", name="Besoins et leur couverture")).to_be_visible()
    expect(page.locator("tr[data-need=N-CLEAN] .badge")).to_have_text("non couvert")
    assert overflow(page) <= 0, f"the French register scrolls sideways by {overflow(page)}px at 360px"
    page.goto(f"{live_server.url}/purchasing/contracts/C-1/")
    assert overflow(page) <= 0, f"the French contract page scrolls sideways by {overflow(page)}px at 360px"
    page.wait_for_load_state("networkidle")
