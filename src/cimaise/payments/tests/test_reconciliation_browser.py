"""The reconciliation pages in a real browser (the system Chromium) on a 360 px handheld: the
manager uploads a statement, lands on its run, and no page scrolls sideways (the wide tables
scroll inside their wrapper)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cimaise.core.tests.personas import Cast
from cimaise.payments.tests.factories_reconciliation import (
    STATEMENTS,
    grants_sync,
    paid_payment,
    paris,
    sandbox_day,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def overflow(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def test_the_manager_reconciles_a_statement_on_a_handheld(page: Page, live_server: Any, cast: Cast) -> None:
    grants_sync()
    sandbox_day(cast.institution_a)
    paid_payment(
        cast.institution_a, pk="d" * 32, provider="sandbox", amount="8.00", currency="EUR", paid_at=paris(11)
    )
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("User name").fill(cast.ticketing_manager_a.username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()

    page.goto(f"{live_server.url}/payments/reconciliation/")
    expect(page.get_by_role("heading", name="Reconcile a statement")).to_be_visible()
    assert overflow(page) <= 0, f"the runs page scrolls sideways by {overflow(page)}px at 360px"
    page.get_by_label("Provider").select_option("sandbox")
    page.get_by_label("Day of the statement").fill("2020-01-02")
    page.get_by_label("Statement file").set_input_files(str(STATEMENTS / "sandbox_statement.csv"))
    page.get_by_role("button", name="Reconcile", exact=True).click()

    expect(page.get_by_role("status")).to_contain_text("1 difference found.")
    expect(page.get_by_role("link", name="Download the differences (CSV)")).to_be_visible()
    assert overflow(page) <= 0, f"the run page scrolls sideways by {overflow(page)}px at 360px"
    expect(page.locator("tr[data-kind=missing_there]")).to_contain_text("8.00 EUR")
