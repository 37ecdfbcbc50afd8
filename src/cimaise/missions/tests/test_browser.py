"""In a real browser at 360 px: an agent files a mission to the centre, the line manager and the
budget manager validate it, and the reception page shows the visitor expected."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from cimaise.access.tests.test_handheld_browser import overflow
from cimaise.core.tests.personas import Cast
from cimaise.missions.models import MissionOrder
from cimaise.missions.tests.conftest import make_crew

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


def decide(page: Page, base: str, username: str, code: str, comment: str) -> None:
    sign_in(page, base, username)
    page.goto(f"{base}/missions/")
    page.locator(f'[data-order="{code}"] a').first.click()
    page.get_by_label("Comment").fill(comment)
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator(".messages")).to_contain_text(f"Order {code} approved.")
    assert overflow(page) <= 0


def test_an_agent_files_a_mission_the_managers_validate_it_reception_expects_the_visitor(
    page: Page, live_server: Any, cast: Cast
) -> None:
    make_crew(cast)
    base = live_server.url
    today = timezone.localdate().isoformat()
    page.set_viewport_size({"width": 360, "height": 740})

    sign_in(page, base, "registrar-a")
    page.goto(f"{base}/missions/new/")
    assert overflow(page) <= 0, f"the form scrolls sideways by {overflow(page)}px at 360px"
    page.get_by_label("Purpose").select_option("condition-check")
    page.get_by_label("What for").fill("Constats d'état avant exposition")
    page.get_by_label("Leaves").fill(f"{today}T07:30")
    page.get_by_label("Returns").fill(f"{today}T19:00")
    page.get_by_label("Transport").select_option("train")
    page.get_by_label("Host on site").select_option(label="reception-a")
    page.get_by_label("Zones needed (comma-separated)").fill("réserve 3, studio photo")
    page.get_by_role("button", name="Send for validation").click()
    expect(page.locator("[data-status]")).to_have_text("Awaiting the line manager")
    page.wait_for_load_state("networkidle")
    code = MissionOrder.objects.get().code

    decide(page, base, "approver-a", code, "Bon pour mission")
    expect(page.locator("[data-status]")).to_have_text("Awaiting the budget manager")
    decide(page, base, "budget-a", code, "Crédits disponibles")
    expect(page.locator("[data-status]")).to_have_text("Validated")

    sign_in(page, base, "reception-a")
    page.goto(f"{base}/missions/reception/")
    visitor = page.locator('[data-visitor="registrar-a"]')
    expect(visitor).to_contain_text("reception-a")
    expect(visitor).to_contain_text("réserve 3, studio photo")
    expect(visitor).to_contain_text(code)
    expect(page.locator("[data-figure=visitors]")).to_have_text("1")
    assert overflow(page) <= 0, f"the reception page scrolls sideways by {overflow(page)}px at 360px"
    page.wait_for_load_state("networkidle")
