"""Each dashboard in a real browser on a 360 px screen: a chart with bars, no sideways scroll,
and a table downloaded as CSV."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from cimaise.access.tests.test_handheld_browser import overflow, sign_in
from cimaise.reporting.build import facts_build
from cimaise.reporting.dashboards import DASHBOARDS
from cimaise.reporting.tests.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_each_dashboard_draws_its_charts_and_downloads_a_csv(
    page: Page, live_server: Any, world: World
) -> None:
    facts_build()
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, live_server.url, world.analyst.username)
    page.wait_for_url(lambda url: "/login/" not in url)  # the sign-in answered before we move on
    page.wait_for_load_state("networkidle")
    for key, dashboard in DASHBOARDS.items():
        page.goto(f"{live_server.url}/reporting/{key}/?start=2019-10-01&end=2019-10-31")
        with translation.override("en"):  # the browser asks for English; this thread may not be
            title = str(dashboard.title)
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
        first = page.locator("section.figure").first
        expect(first.locator("svg.chart")).to_be_visible()
        assert first.locator("svg.chart rect.bar").count() > 0, key
        assert overflow(page) <= 0, f"{key} scrolls sideways by {overflow(page)}px at 360px"
        with page.expect_download() as download:
            first.get_by_role("link", name="CSV").click()
        path = download.value.path()
        header = path.read_text(encoding="utf-8").splitlines()[0]
        assert header.split(",")[0] == dashboard.tables[0].columns[0].key, key
        page.wait_for_load_state("networkidle")
    line = page.goto(f"{live_server.url}/reporting/attendance/?start=2019-10-01&end=2019-10-31")
    assert line is not None and line.ok
    assert page.locator("svg.chart path.line").count() >= 1  # the year before
