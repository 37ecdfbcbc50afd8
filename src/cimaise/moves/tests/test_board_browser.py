"""The live board in a real browser on a 360 px handheld: the map and the table fit the screen, and
a position the tracker sends after the page was opened appears without a reload."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cimaise.core.tests.personas import Cast
from cimaise.moves.models import Convoy, ConvoyState
from cimaise.moves.telemetry import devices
from cimaise.moves.telemetry.services import telemetry_ingest
from cimaise.moves.tests.factories import Transfer
from cimaise.moves.tests.test_pages_browser import overflow, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

T0 = dt.datetime(2020, 1, 6, 8, 0, tzinfo=dt.UTC)
PARIS, LIEVIN = (48.860611, 2.337644), (50.4186, 2.7817)


def _position(n: int, fraction: float) -> dict[str, Any]:
    lat = PARIS[0] + (LIEVIN[0] - PARIS[0]) * fraction
    lon = PARIS[1] + (LIEVIN[1] - PARIS[1]) * fraction
    when = (T0 + dt.timedelta(minutes=n)).isoformat()
    return {"id": f"p{n}", "time": when, "type": "position", "lat": lat, "lon": lon, "speed": 80}


def _points(page: Page) -> int:
    """How many points the solid track of the convoy has on the map."""
    return int(
        page.evaluate(
            "(document.querySelector('#board polyline.track')?.getAttribute('points') || '')"
            ".trim().split(/\\s+/).filter(Boolean).length"
        )
    )


def test_the_board_fits_a_handheld_and_refreshes_itself(
    page: Page, live_server: Any, cast: Cast, transfer: Transfer, settings: Any
) -> None:
    settings.CIMAISE = {**settings.CIMAISE, "BOARD_REFRESH_SECONDS": 1}
    convoy: Convoy = transfer.convoy
    convoy.route = [list(PARIS), [49.3, 2.45], [49.9, 2.6], list(LIEVIN)]
    convoy.state = ConvoyState.IN_TRANSIT
    convoy.save()
    tracker = devices.tracker_register(actor=cast.admin_a.actor, vehicle=transfer.vehicle, label="T1")
    now = T0 + dt.timedelta(hours=1)
    telemetry_ingest(
        device=tracker.device, convoy=convoy, readings=[_position(0, 0), _position(1, 0.01)], now=now
    )

    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/custody/board/")
    expect(page.get_by_role("heading", name="Transfer board")).to_be_visible()
    expect(page.locator("#board svg").first).to_be_visible()
    expect(page.locator("#board")).to_contain_text("CV-001")
    expect(page.locator("#board")).to_contain_text("refreshes every second")
    assert _points(page) == 2
    assert overflow(page) <= 0, f"the board scrolls sideways by {overflow(page)}px at 360px"

    # write right after a refresh has been answered, so the next one (a second later) does not
    # run at the same time: the live server shares SQLite's in-memory connection with this thread
    with page.expect_response(lambda response: "/custody/board/panel/" in response.url):
        pass
    page.wait_for_load_state("networkidle")
    telemetry_ingest(device=tracker.device, convoy=convoy, readings=[_position(2, 0.02)], now=now)
    track = "document.querySelector('#board polyline.track').getAttribute('points')"
    page.wait_for_function(f"{track}.trim().split(/\\s+/).length === 3", timeout=10_000)
    assert overflow(page) <= 0
