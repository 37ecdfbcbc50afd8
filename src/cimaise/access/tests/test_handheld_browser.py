"""The handheld check in a real browser (the system Chromium) on a 360 px handheld: an agent
chooses a lane, a keyboard-wedge scanner types a valid code and Enter (a big green answer), then
the same code again (red: already used), the field empty and focused after each answer; the same
in French (checked on the machine reason and the colour, the French texts being translated
later); the camera where the browser has BarcodeDetector, and a plain message where it has not."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from cimaise.access.models import Entry
from cimaise.access.tests.conftest import Gate, make_gate
from cimaise.core.tests.personas import Cast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def live_gate(cast: Cast) -> Gate:
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(minutes=5)
    return make_gate(cast, starts_at=start)


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()


def overflow(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def choose_lane(page: Page, base: str, lane: str = "PYR/L1") -> None:
    page.goto(f"{base}/access/scan/")
    page.locator("select[name=lane]").select_option(lane)
    page.locator("form.lane-form button[type=submit]").click()
    expect(page.locator("#scan-code")).to_be_focused()


def wedge(page: Page, code: str) -> None:
    """What a keyboard-wedge scanner does: type the code into the focused field, then Enter."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def expect_answer(page: Page, result: str, reason: str) -> None:
    answer = page.locator("#answer")
    expect(answer).to_have_attribute("data-reason", reason)
    expect(answer).to_have_class(f"answer answer-{result}")
    expect(page.locator("#scan-code")).to_be_focused()
    expect(page.locator("#scan-code")).to_have_value("")


def test_an_agent_checks_a_code_twice_with_a_wedge_scanner_in_english(
    page: Page, live_server: Any, cast: Cast, live_gate: Gate
) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    page.add_init_script("delete window.BarcodeDetector")
    sign_in(page, live_server.url, cast.gate_agent_a.username)
    choose_lane(page, live_server.url)
    expect(page.locator("#camera-unsupported")).to_be_visible()
    expect(page.locator("#camera-unsupported")).to_contain_text("not supported on this device")
    expect(page.locator("#camera-toggle")).to_be_hidden()
    assert overflow(page) <= 0, f"the handheld scrolls sideways by {overflow(page)}px at 360px"

    wedge(page, live_gate.ticket.code)
    expect_answer(page, "accepted", "ok")
    expect(page.locator("#answer")).to_contain_text("Welcome")
    green = page.locator("#answer").evaluate("e => [getComputedStyle(e).backgroundColor, e.offsetWidth]")
    assert green[0] == "rgb(29, 107, 53)" and green[1] >= 320, green
    assert page.url.endswith("/access/scan/"), "htmx answered in place"

    wedge(page, live_gate.ticket.code)
    expect_answer(page, "rejected", "already_used")
    expect(page.locator("#answer")).to_contain_text("Ticket already used")
    assert page.locator("#answer").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(164, 22, 26)"
    expect(page.get_by_role("button", name="Let through anyway")).to_be_visible()
    assert overflow(page) <= 0, f"the answer scrolls sideways by {overflow(page)}px"

    page.wait_for_load_state("networkidle")  # the live server shares SQLite's connection
    entries = list(Entry.objects.order_by("id").values_list("reason", "operator", "nonce"))
    assert [(r, o) for r, o, _n in entries] == [
        ("ok", "user:gate-agent-a"),
        ("already_used", "user:gate-agent-a"),
    ]
    assert all(re.fullmatch("c-[0-9a-f]{32}", n) for _r, _o, n in entries), "a nonce made per submission"


def test_the_same_check_in_french(page: Page, live_server: Any, cast: Cast, live_gate: Gate) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, live_server.url, cast.gate_agent_a.username)
    page.goto(f"{live_server.url}/access/scan/")
    page.locator("#language").select_option("fr")
    page.locator("form.lang button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    choose_lane(page, live_server.url, "PYR/L2")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    second = live_gate.tickets[1]

    wedge(page, second.code)
    expect_answer(page, "accepted", "ok")
    wedge(page, second.code)
    expect_answer(page, "rejected", "already_used")
    assert overflow(page) <= 0, f"the French page scrolls sideways by {overflow(page)}px"
    page.wait_for_load_state("networkidle")
    assert Entry.objects.filter(lane__code="L2").count() == 2


COUNT_REQUESTS = """
window.__answered = 0;
document.addEventListener("htmx:afterRequest", () => { window.__answered += 1; });
"""


def test_two_codes_scanned_in_quick_succession_are_two_scans(
    page: Page, live_server: Any, cast: Cast, live_gate: Gate
) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    page.add_init_script(COUNT_REQUESTS)
    sign_in(page, live_server.url, cast.gate_agent_a.username)
    choose_lane(page, live_server.url)
    first, second = live_gate.tickets
    wedge(page, first.code)
    wedge(page, second.code)  # the field was emptied as the first code left: no mixing
    # both answers back (wait_for_load_state does not wait for requests made after the load)
    page.wait_for_function("window.__answered >= 2", timeout=30_000)
    expect_answer(page, "accepted", "ok")
    assert sorted(Entry.objects.values_list("code_id", "reason")) == sorted(
        [(first.code_id, "ok"), (second.code_id, "ok")]
    )


FAKE_CAMERA = """
window.BarcodeDetector = class {
  static async getSupportedFormats() { return ["qr_code"]; }
  async detect() { return window.__code ? [{ rawValue: window.__code }] : []; }
};
navigator.mediaDevices.getUserMedia = async () => {
  const canvas = document.createElement("canvas");
  canvas.width = 64; canvas.height = 64;
  canvas.getContext("2d").fillRect(0, 0, 64, 64);
  return canvas.captureStream(5);
};
"""


def test_the_camera_reads_a_code_where_the_browser_has_barcode_detector(
    page: Page, live_server: Any, cast: Cast, live_gate: Gate
) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    page.add_init_script(FAKE_CAMERA)
    sign_in(page, live_server.url, cast.gate_agent_a.username)
    choose_lane(page, live_server.url)
    expect(page.locator("#camera-unsupported")).to_be_hidden()
    page.get_by_role("button", name="Scan with the camera").click()
    expect(page.get_by_role("button", name="Stop the camera")).to_be_visible()
    page.evaluate(f"window.__code = {live_gate.ticket.code!r}")
    expect_answer(page, "accepted", "ok")
    expect(page.locator("#answer")).to_have_attribute("data-reason", "ok")  # the same code in view: once
    page.get_by_role("button", name="Stop the camera").click()
    page.wait_for_load_state("networkidle")
    assert Entry.objects.count() == 1
