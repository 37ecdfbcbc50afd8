"""A real browser (the system Chromium through Playwright) on a 360 px handheld: a work's custody
page fits the screen, and an anomaly is resolved through the htmx form without leaving the page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cimaise.core.tests.personas import Cast
from cimaise.ledger.models import Fact
from cimaise.moves.models import Anomaly
from cimaise.moves.services import custody_capture
from cimaise.moves.tests.factories import Transfer, full_journey, object_event, place

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def anomaly(cast: Cast, transfer: Transfer) -> Anomaly:
    """The whole transfer, then INV 7523 seen in Paris ten minutes after it was shelved at Liévin."""
    actor = cast.registrar_a.actor
    custody_capture(actor=actor, payload=full_journey(transfer))
    late = object_event([transfer.work(3)], "cycle_counting", 1710, readPoint=place(transfer.pal_shelf))
    return custody_capture(actor=actor, payload=[late]).anomalies[0]


def sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("User name").fill("registrar-a")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()


def overflow(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def test_a_registrar_reads_a_work_on_a_handheld_and_resolves_its_anomaly(
    page: Page, live_server: Any, anomaly: Anomaly
) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, live_server.url)
    work_page = f"{live_server.url}/custody/works/INV%207523/"
    page.goto(work_page)
    expect(page.get_by_role("heading", name="Chain of custody")).to_be_visible()
    events = page.locator("ol.timeline > li")
    expect(events).to_have_count(10)
    events.first.scroll_into_view_if_needed()
    expect(events.first).to_be_visible()
    expect(events.first).to_contain_text("Condition check")
    assert overflow(page) <= 0, f"the work page scrolls sideways by {overflow(page)}px at 360px"

    row = page.locator(f"#anomaly-{anomaly.pk}")
    comment = row.get_by_label("How was it resolved?")
    comment.fill("   ")  # passes the browser's required check, not the server's
    row.get_by_role("button", name="Resolve").click()
    expect(page.locator(f"#anomaly-{anomaly.pk}")).to_contain_text("Say how the anomaly was resolved.")
    page.locator(f"#anomaly-{anomaly.pk}").get_by_label("How was it resolved?").fill("Reader misconfigured")
    page.locator(f"#anomaly-{anomaly.pk}").get_by_role("button", name="Resolve").click()
    expect(page.locator(f"#anomaly-{anomaly.pk}")).to_contain_text("Resolved by user:registrar-a")
    assert page.url == work_page  # htmx swapped the row: no navigation
    assert overflow(page) <= 0
    assert Fact.objects.filter(type="moves.anomaly.resolved", actor="user:registrar-a").count() == 1
