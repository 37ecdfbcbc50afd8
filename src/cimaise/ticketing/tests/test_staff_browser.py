"""The ticketing staff pages in a real browser (the system Chromium) on a 360 px handheld: a
cashier sells two tickets at the desk and lands on the order page; the manager previews a
capacity edit through htmx. No page scrolls sideways."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cimaise.core.tests.personas import Cast
from cimaise.ticketing.models import Order, Quota, Ticket
from cimaise.ticketing.tests.factories import Shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()


def overflow(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def test_a_cashier_sells_two_tickets_at_the_desk_on_a_handheld(
    page: Page, live_server: Any, cast: Cast, shop: Shop
) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, live_server.url, cast.ticketing_manager_a.username)
    page.goto(f"{live_server.url}/ticketing/desk/?date={shop.day}")
    expect(page.get_by_role("heading", name="Sell at the desk")).to_be_visible()
    assert overflow(page) <= 0, f"the desk scrolls sideways by {overflow(page)}px at 360px"

    museum = page.locator("section", has=page.get_by_role("heading", name="Museum", exact=True))
    museum.get_by_role("link", name="09:00 Pyramide").click()
    expect(page.get_by_role("button", name="Paid (card)")).to_be_visible()
    assert overflow(page) <= 0, f"the sale form scrolls sideways by {overflow(page)}px"
    page.get_by_label("Full price").fill("2")
    page.get_by_label("Name (optional)").fill("Ada Lovelace")
    page.get_by_role("button", name="Paid (card)").click()

    expect(page.get_by_role("status")).to_contain_text("Paid: 2 tickets, 34.00 EUR.")
    expect(page.get_by_role("link", name="Print tickets")).to_be_visible()
    order = Order.objects.get()
    assert page.url == f"{live_server.url}/ticketing/orders/{order.code}/"
    assert order.state == Order.State.PAID and order.name == "Ada Lovelace"
    assert order.tickets.filter(state=Ticket.State.VALID).count() == 2
    assert overflow(page) <= 0, f"the order page scrolls sideways by {overflow(page)}px"


def test_the_manager_previews_a_capacity_edit_on_a_handheld(
    page: Page, live_server: Any, cast: Cast, shop: Shop
) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, live_server.url, cast.ticketing_manager_a.username)
    page.goto(f"{live_server.url}/ticketing/?date={shop.day}")
    expect(page.get_by_role("heading", name="Pyramide")).to_be_visible()
    assert overflow(page) <= 0, f"the overview scrolls sideways by {overflow(page)}px"

    page.goto(f"{live_server.url}/ticketing/capacity/?date={shop.day}")
    assert overflow(page) <= 0, f"the capacity page scrolls sideways by {overflow(page)}px"
    edit = page.locator("section", has=page.get_by_role("heading", name="Change capacities"))
    edit.get_by_label("Entrance").select_option("PYR")
    edit.get_by_label("Product").select_option("MUSEE")
    edit.get_by_label("From time").fill("09:00")
    edit.get_by_label("Until (excluded)").fill("10:00")
    edit.get_by_label("New capacity").fill("30")
    edit.get_by_label("New capacity").dispatch_event("change")
    expect(page.locator("#capacity-preview")).to_contain_text("2 quotas would change")
    # each change above posted a preview; let them all finish before the test reads the database
    # (the live server shares SQLite's in-memory connection with this thread)
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/ticketing/capacity/?date={shop.day}"), "htmx swapped the preview in place"
    assert set(Quota.objects.filter(kind="slot").values_list("capacity", flat=True)) == {50}
    edit.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status")).to_contain_text("2 quotas changed.")
    assert overflow(page) <= 0
