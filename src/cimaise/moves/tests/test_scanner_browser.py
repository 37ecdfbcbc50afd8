"""The handheld scanner in a real browser (the system Chromium through Playwright) at 360 px:
offline, twenty scans wait on the device; back online they are stored exactly once, even when
the server's first answer is lost; an unknown label is said so on the spot and comes back from
the server as an anomaly; after a reload, scanning the same labels again records nothing twice."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, Route, expect

from cimaise.collection.models import Work
from cimaise.core.models import Place
from cimaise.core.tests.personas import Cast
from cimaise.ledger.models import Fact
from cimaise.moves.models import Anomaly, CustodyEvent
from cimaise.moves.tests.factories import Transfer, make_transfer
from cimaise.moves.tests.test_scanner_urlconf import URLCONF

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHELF = "P0100001"
WORKS = [f"W{n:08d}" for n in range(1, 21)]
NETWORK_PROBE = "fetch('/custody/scanner/sw.js').then(() => 'network', () => 'no network')"
QUEUED_IDS = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("cimaise-scanner");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const keys = open.result.transaction("queue").objectStore("queue").getAllKeys();
    keys.onsuccess = () => { open.result.close(); resolve(keys.result); };
    keys.onerror = () => reject(keys.error);
  };
})"""


@pytest.fixture(autouse=True)
def one_request_at_a_time(live_server: Any) -> Iterator[None]:
    """The test database is SQLite in memory: the live server's request threads share its one
    connection, which fails ("bad parameter or other API misuse") when requests overlap, and the
    scanner's do (upload, lookups, code list, service worker). Serve them one at a time here."""
    httpd = live_server.thread.httpd
    app = httpd.get_app()
    lock = threading.Lock()

    def serially(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with lock:
            result = app(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                if hasattr(result, "close"):
                    result.close()

    httpd.set_app(serially)
    yield
    httpd.set_app(app)


@pytest.fixture
def twenty(cast: Cast, settings: Any) -> Transfer:
    """Twenty labelled works in Paris and a labelled shelf at the conservation centre."""
    settings.ROOT_URLCONF = URLCONF
    transfer = make_transfer(cast, works=20)
    for code, work in zip(WORKS, transfer.works, strict=True):
        Work.objects.filter(pk=work.pk).update(barcode=code)
    Place.objects.filter(pk=transfer.ccl_shelf.pk).update(barcode=SHELF)
    return transfer


def sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("User name").fill("registrar-a")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()


def scan(field: Locator, code: str) -> None:
    """What a keyboard-wedge scanner does: type the code, then Enter."""
    field.fill(code)
    field.press("Enter")


def stored_ids() -> Counter[str]:
    return Counter(CustodyEvent.objects.values_list("event_id", flat=True))


def test_twenty_scans_made_offline_are_stored_exactly_once(
    page: Page, live_server: Any, twenty: Transfer
) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/custody/scanner/")
    scanner = page.locator("#scanner")
    expect(scanner).to_have_attribute("data-offline-ready", "true", timeout=15_000)
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0

    page.context.set_offline(True)
    (worker,) = page.context.service_workers
    assert worker.evaluate(NETWORK_PROBE) == "no network"  # offline for the service worker too
    reloaded = page.reload()
    assert reloaded is not None and reloaded.from_service_worker  # so the page came from its cache
    expect(scanner).to_have_attribute("data-ready", "true")
    expect(page.locator("#scan-net")).to_contain_text("Offline")
    field = page.get_by_label("Barcode")
    feedback = page.locator("#scan-feedback")
    scan(field, SHELF)
    expect(feedback).to_contain_text("Place: CCL-Z1-S1")
    for code in WORKS:
        scan(field, code)
    expect(page.locator("#scan-pending")).to_have_text("20")
    expect(feedback).to_contain_text("Shelved INV 7539 on CCL-Z1-S1")
    expect(feedback).to_have_attribute("data-tone", "ok")
    queued = page.evaluate(QUEUED_IDS)
    assert len(set(queued)) == 20 and all(i.startswith("urn:uuid:") for i in queued)
    assert not CustodyEvent.objects.exists()

    calls: list[int] = []

    def lose_first_answer(route: Route) -> None:
        """The first upload reaches the server but its answer never comes back."""
        if not calls:
            calls.append(route.fetch().status)
            route.abort("connectionreset")
        else:
            calls.append(0)
            route.continue_()

    page.route("**/api/v1/epcis/capture", lose_first_answer)
    page.context.set_offline(False)
    expect(page.locator("#scan-pending")).to_have_text("0", timeout=15_000)
    assert calls[0] == 201 and len(calls) >= 2  # stored, answer lost, sent again with the same eventIDs
    assert stored_ids() == Counter({event_id: 1 for event_id in queued})
    assert Fact.objects.filter(type="moves.custody.captured").count() == 20
    shelf = twenty.ccl_shelf.uri
    assert set(CustodyEvent.objects.values_list("biz_step", "biz_location", "who")) == {
        ("storing", shelf, "user:registrar-a")
    }
    page.unroute("**/api/v1/epcis/capture")

    scan(field, "NOPE-404")
    expect(feedback).to_contain_text("Unknown barcode NOPE-404")
    expect(feedback).to_have_attribute("data-tone", "warn")
    anomalies = page.locator("#scan-anomalies")
    expect(anomalies).to_contain_text("Unknown identifier: urn:cimaise:work:louvre:NOPE-404", timeout=10_000)
    assert (
        Anomaly.objects.filter(kind="unknown_identifier", uri="urn:cimaise:work:louvre:NOPE-404").count() == 1
    )

    page.reload()
    expect(scanner).to_have_attribute("data-ready", "true")
    expect(page.locator("#scan-context")).to_contain_text("Place: CCL-Z1-S1")
    expect(page.locator("#scan-pending")).to_have_text("0")
    expect(anomalies).to_contain_text("NOPE-404")
    for code in WORKS:
        scan(field, code)
    expect(feedback).to_contain_text("INV 7539 was already scanned here")
    expect(page.locator("#scan-pending")).to_have_text("0")
    assert page.evaluate(QUEUED_IDS) == []
    assert len(stored_ids()) == 21 and set(stored_ids().values()) == {1}


def test_packing_a_crate_then_counting_a_shelf_online(page: Page, live_server: Any, twenty: Transfer) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/custody/scanner/")
    expect(page.locator("#scanner")).to_have_attribute("data-manifest", "ready", timeout=15_000)
    field, feedback = page.get_by_label("Barcode"), page.locator("#scan-feedback")
    page.get_by_label("Crate, then its works").check()
    scan(field, "W00000001")
    expect(feedback).to_contain_text("Scan a crate label first.")
    expect(feedback).to_have_attribute("data-tone", "bad")
    scan(field, "PAL-DEN-R1-S1")  # a place's code: where the packing happens
    expect(feedback).to_contain_text("Packing at PAL-DEN-R1-S1")
    scan(field, "C000")
    expect(feedback).to_contain_text("Crate C000: scan its works")
    scan(field, "W00000001")
    expect(feedback).to_contain_text("Packed INV 7520 into crate C000")
    expect(feedback).to_contain_text("INV 7520 — Œuvre 0")  # the title, fetched once online
    scan(field, "urn:cimaise:work:louvre:INV%207521")  # a QR label carries the URI
    scan(field, "INV 7522")  # an inventory number typed by hand
    expect(feedback).to_contain_text("Packed INV 7522 into crate C000")
    expect(page.locator("#scan-pending")).to_have_text("0")
    page.get_by_label("Place, then works or crates").check()
    page.get_by_label("Record as").select_option("cycle_counting")
    scan(field, SHELF)
    scan(field, "C000")
    expect(feedback).to_contain_text("Counted C000 at CCL-Z1-S1")
    expect(page.locator("#scan-recent li[data-state=sent]")).to_have_count(4)
    t = twenty
    rows = CustodyEvent.objects.order_by("event_time", "pk")
    assert [(e.event_type, e.action, e.biz_step) for e in rows] == [
        ("AggregationEvent", "ADD", "packing")
    ] * 3 + [("ObjectEvent", "OBSERVE", "cycle_counting")]
    assert [e.body["childEPCs"] for e in rows[:3]] == [[t.work(0)], [t.work(1)], [t.work(2)]]
    assert {e.body["parentID"] for e in rows[:3]} == {t.crate(0)}
    assert {e.biz_location for e in rows[:3]} == {t.pal_shelf.uri}
    assert rows[3].body["epcList"] == [t.crate(0)] and rows[3].biz_location == t.ccl_shelf.uri


def test_a_scan_the_server_refuses_does_not_hold_back_the_others(
    page: Page, live_server: Any, twenty: Transfer
) -> None:
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/custody/scanner/")
    expect(page.locator("#scanner")).to_have_attribute("data-manifest", "ready", timeout=15_000)
    field = page.get_by_label("Barcode")
    scan(field, SHELF)
    page.context.set_offline(True)
    page.clock.set_fixed_time(dt.datetime.now(dt.UTC) + dt.timedelta(hours=2))  # a clock gone wrong
    scan(field, "W00000001")
    expect(page.locator("#scan-pending")).to_have_text("1")
    page.clock.set_fixed_time(dt.datetime.now(dt.UTC))
    scan(field, "W00000002")
    expect(page.locator("#scan-pending")).to_have_text("2")
    page.context.set_offline(False)
    expect(page.locator("#scan-pending")).to_have_text("0", timeout=10_000)
    expect(page.locator("#scan-rejected")).to_contain_text("INV 7520")
    expect(page.locator("#scan-rejected")).to_contain_text("in the future")
    assert [e.body["epcList"] for e in CustodyEvent.objects.all()] == [[twenty.work(1)]]
