"""A real browser (the system Chromium through Playwright): sign in, home, switch to French."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cimaise.core.demo import DemoContext, demo_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(transactional_db: Any) -> None:
    demo_run(DemoContext(scale="small", quiet=True))


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()


def test_a_registrar_signs_in_sees_home_and_switches_to_french(
    page: Page, live_server: Any, demo: None
) -> None:
    sign_in(page, live_server.url, "registrar")
    expect(page.get_by_role("heading", name="Welcome, Claire Moreau")).to_be_visible()
    expect(page.get_by_role("heading", name="Sites and places")).to_be_visible()
    page.set_viewport_size({"width": 360, "height": 740})
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the home page scrolls sideways by {overflow}px at 360px"
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.get_by_text("Centre de conservation du Louvre")).to_be_visible()
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Change").click()
    expect(page.get_by_role("heading", name="Bienvenue, Claire Moreau")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("button", name="Se déconnecter (registrar)")).to_be_visible()


def test_the_place_tree_expands_on_a_360px_handheld(page: Page, live_server: Any, demo: None) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, live_server.url, "registrar")
    page.get_by_role("link", name="Places").click()
    toggle = page.get_by_role("button", name="Show what is in CCL-B1", exact=True)
    toggle.click()
    expect(page.get_by_text("Rez-de-chaussée")).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px at 360px"
