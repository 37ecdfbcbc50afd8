"""The live monitor in a real browser on a 360 px handheld: it fits the screen, and a scan made
after the page was opened appears without a reload (the panel refreshes itself through htmx)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from cimaise.access.services import scan_validate
from cimaise.access.tests.conftest import Gate, make_gate
from cimaise.access.tests.test_handheld_browser import overflow, sign_in
from cimaise.core.roles import Role
from cimaise.core.tests.personas import Cast, make_persona

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_monitor_fits_a_handheld_and_shows_a_new_scan_by_itself(
    page: Page, live_server: Any, cast: Cast, settings: Any
) -> None:
    settings.CIMAISE = {**settings.CIMAISE, "BOARD_REFRESH_SECONDS": 1}
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=5)
    gate: Gate = make_gate(cast, starts_at=start)
    supervisor = make_persona("gate-supervisor-a", cast.institution_a, [Role.GATE_SUPERVISOR], cast.site_a)

    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, live_server.url, supervisor.username)
    page.goto(f"{live_server.url}/access/monitor/")
    expect(page.get_by_role("heading", name="Entrances now")).to_be_visible()
    expect(page.locator("#monitor")).to_contain_text("refreshes every second")
    expect(page.locator("[data-figure=inside]")).to_have_text("0")
    expect(page.locator("#monitor svg.lane-chart")).to_have_count(3)
    assert overflow(page) <= 0, f"the monitor scrolls sideways by {overflow(page)}px at 360px"

    # write right after a refresh has been answered, so the next one (a second later) does not
    # run at the same time: the live server shares SQLite's in-memory connection with this thread
    with page.expect_response(lambda response: "/access/monitor/panel/" in response.url):
        pass
    page.wait_for_load_state("networkidle")
    now = timezone.now()
    answer = scan_validate(
        actor=cast.gate_agent_a.actor, code=gate.ticket.code, entrance="PYR", lane="L1",
        direction="in", nonce="after-open", scanned_at=now,
    )  # fmt: skip
    assert answer.reason == "ok"
    expect(page.locator("[data-figure=inside]")).to_have_text("1", timeout=10_000)
    lane = page.locator("[data-entrance=PYR] [data-lane=L1]")
    expect(lane).to_contain_text("Last 5 minutes: 1 accepted, 0 refused")
    assert overflow(page) <= 0
    page.wait_for_load_state("networkidle")
