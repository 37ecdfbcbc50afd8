"""Ticketing staff pages: the capacity overview, capacities and slots (preview, apply, refusal),
the desk sale, orders and their partial cancellation, the tickets PDF, who may see what."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from cimaise.core.tests.personas import Cast
from cimaise.ledger.models import Fact
from cimaise.payments.models import Refund
from cimaise.ticketing import panels
from cimaise.ticketing.capacity import SlotPlan, slots_generate_unchecked
from cimaise.ticketing.models import OpeningException, Order, Quota, Slot, Ticket
from cimaise.ticketing.services import CartRequest, Item, OrderRequest, cart_create, order_create
from cimaise.ticketing.tests.factories import Shop, make_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(cast: Cast) -> Client:
    return cast.ticketing_manager_a.session_client()


def ok(client: Client, path: str, **headers: str) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, (path, response.status_code, response.content[:500])
    return response.content.decode()


def taken(slot: Slot) -> dict[str, int]:
    return dict(Quota.objects.filter(slots=slot).values_list("key", "taken"))


def sell(
    client: Client, slot: Slot, counts: dict[str, int] | None = None, *, token: str = "", **more: int
) -> Any:
    data = {"sale": token or uuid.uuid4().hex, "language": "en", "name": "", "email": ""}
    data |= {f"qty_{code}": str(n) for code, n in ((counts or {}) | more).items()}
    return client.post(f"/ticketing/desk/{slot.pk}/", data)


def desk_order(client: Client, slot: Slot, **quantities: int) -> Order:
    response = sell(client, slot, quantities)
    assert response.status_code == 302, response.content.decode()[:2000]
    code = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    return Order.objects.get(code=code)


# --- pages and who sees them -------------------------------------------------------------------


def test_every_page_renders_for_the_ticketing_manager(manager: Client, shop: Shop) -> None:
    slot = shop.slot(shop.museum, 9)
    order = desk_order(manager, slot, FULL=1)
    overview = ok(manager, f"/ticketing/?date={shop.day}")
    assert "Pyramide" in overview and "Richelieu" in overview and "<svg" in overview
    assert ok(manager, "/ticketing/").count("<h1") == 1  # today, with or without slots
    assert "Change capacities" in ok(manager, f"/ticketing/capacity/?date={shop.day}")
    assert f'href="/ticketing/desk/{slot.pk}/"' in ok(manager, f"/ticketing/desk/?date={shop.day}")
    sale = ok(manager, f"/ticketing/desk/{slot.pk}/")
    assert "At the desk" in sale and "Full price" in sale and "Paid (card)" in sale
    assert order.code in ok(manager, "/ticketing/orders/")
    assert "Print tickets" in ok(manager, f"/ticketing/orders/{order.code}/")


def test_the_overview_shows_capacity_taken_left_and_a_fill_chart_per_entrance(
    manager: Client, shop: Shop
) -> None:
    slot = shop.slot(shop.museum, 9)
    desk_order(manager, slot, FULL=3)
    Slot.objects.filter(pk=shop.slot(shop.museum, 10).pk).update(closed=True)
    page = ok(manager, f"/ticketing/?date={shop.day}&product=MUSEE")
    row = re.search(rf'<tr data-slot="{slot.pk}">(.*?)</tr>', page, re.S)
    assert row is not None
    cells = re.findall(r'<td class="num">(\d+)</td>', row.group(1))
    assert cells == ["50", "3", "47"]
    assert "6 %" in row.group(1) and 'class="fill-bar"' in row.group(1)
    closed = re.search(
        rf'<tr data-slot="{shop.slot(shop.museum, 10).pk}" class="closed">(.*?)</tr>', page, re.S
    )
    assert closed is not None and "Closed" in closed.group(1)
    assert page.count('class="fill-chart"') == 2  # one per entrance
    assert "<small>Leonardo da Vinci</small>" not in page and "<small>Museum</small>" in page


def test_a_gate_agent_gets_403_everywhere(cast: Cast, shop: Shop, manager: Client) -> None:
    slot = shop.slot(shop.museum, 9)
    order = desk_order(manager, slot, FULL=1)
    agent = cast.gate_agent_a.session_client()
    for path in (
        "/ticketing/",
        "/ticketing/capacity/",
        "/ticketing/desk/",
        f"/ticketing/desk/{slot.pk}/",
        "/ticketing/orders/",
        f"/ticketing/orders/{order.code}/",
        f"/ticketing/orders/{order.code}/tickets.pdf",
    ):
        assert agent.get(path).status_code == 403, path
    for path in ("/ticketing/capacity/preview", "/ticketing/capacity/open", "/ticketing/capacity/close"):
        assert agent.post(path, {}).status_code == 403, path
    assert (
        agent.post(f"/ticketing/orders/{order.code}/cancel", {"all": "on", "reason": "x"}).status_code == 403
    )
    assert sell(agent, slot, FULL=1).status_code == 403
    assert Order.objects.count() == 1


def test_another_institutions_order_is_not_found(cast: Cast, shop: Shop, manager: Client) -> None:
    theirs = make_shop(cast.institution_b, cast.site_b)
    cart = cart_create(
        institution=cast.institution_b,
        request=CartRequest(slot=theirs.slot(theirs.museum, 9).pk, items=[Item("FULL", 1)], channel="desk"),
        owner=None,
        who="user:partner-b",
    )
    order = order_create(request=OrderRequest(cart, provider="desk"), who="user:partner-b", desk=True).order
    assert manager.get(f"/ticketing/orders/{order.code}/").status_code == 404
    assert manager.get(f"/ticketing/orders/{order.code}/tickets.pdf").status_code == 404
    cancel = manager.post(
        f"/ticketing/orders/{order.code}/cancel", {"all": "on", "reason": "x", "confirm": "True"}
    )
    assert cancel.status_code == 404
    assert manager.get(f"/ticketing/desk/{theirs.slot(theirs.museum, 9).pk}/").status_code == 404
    assert f"/ticketing/orders/{order.code}/" not in ok(manager, f"/ticketing/orders/?q={order.code}")
    order.refresh_from_db()
    assert order.state == Order.State.PAID


def test_anonymous_visitors_are_sent_to_sign_in(anon_client: Client) -> None:
    response = anon_client.get("/ticketing/orders/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_home_page_shows_todays_panel_and_the_links(manager: Client, cast: Cast) -> None:
    panels.register()
    home = ok(manager, "/")
    assert 'data-panel="ticketing.today"' in home
    for url in ("/ticketing/", "/ticketing/desk/", "/ticketing/orders/", "/ticketing/capacity/"):
        assert f'href="{url}"' in home
    assert 'data-panel="ticketing.today"' not in ok(cast.gate_agent_a.session_client(), "/")


def test_todays_panel_counts_places_and_orders(manager: Client, shop: Shop) -> None:
    today = timezone.localdate()
    OpeningException.objects.create(
        institution=shop.institution, date=today, opens=dt.time(9), closes=dt.time(18), last_entry=dt.time(10)
    )
    plan = SlotPlan(
        product="MUSEE",
        entrances=["PYR"],
        first_day=today,
        last_day=today,
        slot_capacity=10,
        entrance_capacity=10,
    )
    slots_generate_unchecked(institution=shop.institution, plan=plan, who="system:test")
    Quota.objects.filter(kind="slot", starts_at__date=today).update(taken=2)
    desk_order(manager, shop.slot(shop.museum, 9), FULL=1)
    panels.register()
    home = ok(manager, "/")
    assert "20 %" in home and "6 of 30 places taken in today's 3 slots" in home
    assert "1 order today, 1 paid: 17.00 EUR net of refunds" in home


# --- capacities --------------------------------------------------------------------------------


def edit(shop: Shop, capacity: int, **more: str) -> dict[str, str]:
    data = {"kind": "slot", "first_day": str(shop.day), "last_day": str(shop.day), "capacity": str(capacity)}
    data |= {"entrance": "PYR", "product": "MUSEE", "from_time": "09:00", "to_time": "11:00"} | more
    return {f"edit-{k}": v for k, v in data.items()}


def test_the_bulk_edit_preview_counts_the_quotas_and_changes_nothing(manager: Client, shop: Shop) -> None:
    response = manager.post("/ticketing/capacity/preview", edit(shop, 40), headers={"HX-Request": "true"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "4 quotas would change" in text and "<html" not in text  # 09:00–10:30 at PYR
    assert shop.slot(shop.museum, 9).own_quota.capacity == 50
    same = manager.post("/ticketing/capacity/preview", edit(shop, 50), headers={"HX-Request": "true"})
    assert "0 quotas would change" in same.content.decode()
    full_page = manager.post("/ticketing/capacity/preview", edit(shop, 40))
    assert full_page.status_code == 200 and "4 quotas would change" in full_page.content.decode()
    assert "<html" in full_page.content.decode()


def test_the_bulk_edit_applies_through_the_service(manager: Client, shop: Shop) -> None:
    response = manager.post("/ticketing/capacity/", edit(shop, 40))
    assert response.status_code == 302
    assert "4 quotas changed." in ok(manager, response["Location"])
    assert shop.slot(shop.museum, 9).own_quota.capacity == 40
    assert shop.slot(shop.museum, 10, 30).own_quota.capacity == 40
    assert shop.slot(shop.museum, 11).own_quota.capacity == 50
    assert shop.slot(shop.museum, 9, entrance=shop.richelieu).own_quota.capacity == 50
    assert Fact.objects.filter(type="ticketing.capacity.changed", actor="user:ticketing-a").count() == 1


def test_a_capacity_below_what_is_taken_is_refused_naming_the_quota(manager: Client, shop: Shop) -> None:
    slot = shop.slot(shop.museum, 9)
    desk_order(manager, slot, FULL=5)
    preview = manager.post("/ticketing/capacity/preview", edit(shop, 3), headers={"HX-Request": "true"})
    assert slot.own_quota.key in preview.content.decode() and "Refused" in preview.content.decode()
    response = manager.post("/ticketing/capacity/", edit(shop, 3))
    assert response.status_code == 422
    text = response.content.decode()
    assert f"{slot.own_quota.key} has 5 places taken already" in text
    field = re.search(r'id="id_edit-capacity".*?</p>', text, re.S)
    assert field is not None and "has 5 places taken already" in field.group(0), "next to the capacity field"
    assert set(Quota.objects.filter(kind="slot").values_list("capacity", flat=True)) == {50}
    assert not Fact.objects.filter(type="ticketing.capacity.changed").exists()


def test_a_bad_edit_is_shown_next_to_its_field(manager: Client, shop: Shop) -> None:
    response = manager.post("/ticketing/capacity/", edit(shop, -1, last_day="2000-01-01"))
    assert response.status_code == 422
    text = response.content.decode()
    assert "The last day comes after the first." in text and 'class="error"' in text


def plan(shop: Shop, **more: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"product": "MUSEE", "entrances": ["PYR"], "first_day": str(shop.day)}
    data |= {
        "last_day": str(shop.day),
        "minutes": "60",
        "slot_capacity": "20",
        "entrance_capacity": "100",
    } | more
    return {f"open-{k}": v for k, v in data.items()}


def test_opening_slots_through_the_page(manager: Client, shop: Shop) -> None:
    monday = str(shop.day + dt.timedelta(days=7))
    response = manager.post("/ticketing/capacity/open", plan(shop, first_day=monday, last_day=monday))
    assert response.status_code == 302
    assert "8 slots opened; 0 existed already." in ok(manager, response["Location"])  # 9:00 to 16:00
    assert (
        Slot.objects.filter(starts_at__date=monday, entrance=shop.pyramide, product=shop.museum).count() == 8
    )
    again = manager.post("/ticketing/capacity/open", plan(shop, first_day=monday, last_day=monday))
    assert "0 slots opened; 8 existed already." in ok(manager, again["Location"])


def test_a_refused_slot_plan_names_its_field(manager: Client, shop: Shop) -> None:
    response = manager.post("/ticketing/capacity/open", plan(shop, product="LEONARD"))
    assert response.status_code == 422
    field = re.search(r'id="id_open-exhibition_capacity".*?</p>', response.content.decode(), re.S)
    assert field is not None and "needs the exhibition" in field.group(0)


def test_closing_and_reopening_slots_with_a_reason(manager: Client, shop: Shop) -> None:
    ids = [str(shop.slot(shop.museum, 9).pk), str(shop.slot(shop.museum, 9, 30).pk)]
    base = {"close-date": str(shop.day), "close-slots": ids}
    refused = manager.post("/ticketing/capacity/close", base | {"close-action": "close", "close-reason": ""})
    assert refused.status_code == 422 and "Say why" in refused.content.decode()
    assert not Slot.objects.filter(closed=True).exists()
    closed = manager.post(
        "/ticketing/capacity/close", base | {"close-action": "close", "close-reason": "Strike"}
    )
    assert closed.status_code == 302 and Slot.objects.filter(closed=True).count() == 2
    assert "2 slots closed." in ok(manager, closed["Location"])
    assert sell(manager, shop.slot(shop.museum, 9), FULL=1).status_code == 422  # closed to sale
    manager.post("/ticketing/capacity/close", base | {"close-action": "reopen", "close-reason": ""})
    assert not Slot.objects.filter(closed=True).exists()


# --- the desk ----------------------------------------------------------------------------------


def test_a_desk_sale_creates_a_paid_order_with_its_tickets(manager: Client, shop: Shop) -> None:
    slot = shop.slot(shop.museum, 9)
    before = taken(slot)
    response = sell(manager, slot, FULL=2, DESK=1, U18=1)
    assert response.status_code == 302
    order = Order.objects.get()
    assert response["Location"] == f"/ticketing/orders/{order.code}/"
    assert order.state == Order.State.PAID and order.channel == "desk" and order.provider == "desk"
    assert order.total == Decimal("49.00")
    assert order.tickets.filter(state=Ticket.State.VALID).count() == 4
    assert all(taken(slot)[key] == before[key] + 4 for key in before)
    page = ok(manager, response["Location"])
    assert "Paid: 4 tickets, 49.00 EUR." in page and f"/ticketing/orders/{order.code}/tickets.pdf" in page


def test_a_double_click_on_paid_sells_once(manager: Client, shop: Shop) -> None:
    slot = shop.slot(shop.museum, 9)
    token = uuid.uuid4().hex
    first, second = sell(manager, slot, token=token, FULL=2), sell(manager, slot, token=token, FULL=2)
    assert first["Location"] == second["Location"]
    assert Order.objects.count() == 1 and taken(slot)[slot.own_quota.key] == 2


@pytest.mark.parametrize(
    ("quantities", "message"),
    [
        ({}, "Choose at least one ticket."),
        ({"FULL": 11}, "less than or equal to 10"),
        ({"FULL": 6, "DESK": 5}, "Too many"),
    ],
)
def test_a_refused_desk_sale_is_a_message_and_holds_nothing(
    manager: Client, shop: Shop, quantities: dict[str, int], message: str
) -> None:
    response = sell(manager, shop.slot(shop.museum, 9), quantities)
    assert response.status_code in (400, 409, 422)
    assert message in response.content.decode()
    assert not Order.objects.exists() and set(Quota.objects.values_list("taken", flat=True)) == {0}


def test_a_sold_out_slot_is_a_message_and_the_desk_shows_it(manager: Client, shop: Shop) -> None:
    slot = shop.slot(shop.museum, 9)
    for _ in range(5):
        desk_order(manager, slot, FULL=10)
    response = sell(manager, slot, FULL=1)
    assert response.status_code == 409 and "This slot is sold out." in response.content.decode()
    desk = ok(manager, f"/ticketing/desk/?date={shop.day}")
    assert f'href="/ticketing/desk/{slot.pk}/"' not in desk and "No place left" in desk


def test_a_bad_email_is_shown_on_its_field(manager: Client, shop: Shop) -> None:
    slot = shop.slot(shop.museum, 9)
    data = {"sale": "t", "language": "en", "qty_FULL": "1", "email": "not-an-address"}
    response = manager.post(f"/ticketing/desk/{slot.pk}/", data)
    assert response.status_code == 422 and "valid email" in response.content.decode()
    assert set(Quota.objects.values_list("taken", flat=True)) == {0}


# --- orders ------------------------------------------------------------------------------------


def test_orders_are_found_by_code_email_and_name(manager: Client, shop: Shop) -> None:
    slot = shop.slot(shop.museum, 9)
    data = {
        "sale": "a",
        "language": "fr",
        "qty_FULL": "1",
        "email": "ada@example.org",
        "name": "Ada Lovelace",
    }
    manager.post(f"/ticketing/desk/{slot.pk}/", data)
    other = desk_order(manager, slot, FULL=1)
    order = Order.objects.get(email="ada@example.org")
    assert order.language == "fr"
    for q in ("ada@example.org", "Lovelace"):
        page = ok(manager, f"/ticketing/orders/?q={q}")
        assert order.code in page and other.code not in page
    exact = manager.get(f"/ticketing/orders/?q={order.code.lower()}")
    assert exact.status_code == 302 and exact["Location"] == f"/ticketing/orders/{order.code}/"
    assert "No order found." in ok(manager, "/ticketing/orders/?q=nobody")


def cancel(client: Client, order: Order, ids: list[int], confirm: bool) -> Any:
    data: dict[str, Any] = {"tickets": [str(i) for i in ids], "reason": "Visitor ill"}
    if confirm:
        data["confirm"] = "True"
    return client.post(f"/ticketing/orders/{order.code}/cancel", data)


def test_partial_cancellation_asks_first_then_gives_the_places_back_once(manager: Client, shop: Shop) -> None:
    slot = shop.slot(shop.museum, 9)
    order = desk_order(manager, slot, FULL=3)
    before = taken(slot)
    chosen = list(order.tickets.order_by("id").values_list("pk", flat=True))[:2]
    confirm = cancel(manager, order, chosen, confirm=False)
    assert confirm.status_code == 200
    assert (
        "Refund: 34.00 EUR" in confirm.content.decode()
        and "Confirm the cancellation" in confirm.content.decode()
    )
    assert taken(slot) == before, "nothing happens before the confirmation"
    done = cancel(manager, order, chosen, confirm=True)
    assert done.status_code == 302
    assert all(taken(slot)[key] == before[key] - 2 for key in before)
    order.refresh_from_db()
    assert order.state == Order.State.PAID and order.refunded == Decimal("34.00")
    assert order.tickets.filter(state=Ticket.State.CANCELLED).count() == 2
    assert Refund.objects.filter(payment__reference=order.code).count() == 1
    page = ok(manager, done["Location"])
    assert "Cancelled." in page and "34.00" in page
    again = cancel(manager, order, chosen, confirm=True)
    assert again.status_code == 422 and "no longer valid" in again.content.decode()
    assert all(taken(slot)[key] == before[key] - 2 for key in before), "a second submit changes nothing"
    assert Refund.objects.filter(payment__reference=order.code).count() == 1


def test_cancelling_the_whole_order_refunds_it(manager: Client, shop: Shop) -> None:
    slot = shop.slot(shop.museum, 9)
    order = desk_order(manager, slot, FULL=2)
    data = {"all": "on", "reason": "Changed plans", "confirm": "True"}
    assert manager.post(f"/ticketing/orders/{order.code}/cancel", data).status_code == 302
    order.refresh_from_db()
    assert order.state == Order.State.REFUNDED and order.refunded == Decimal("34.00")
    assert set(taken(slot).values()) == {0}
    again = manager.post(f"/ticketing/orders/{order.code}/cancel", data)
    assert again.status_code == 409 and "Nothing left to cancel" in again.content.decode()


def test_a_cancellation_without_a_choice_or_reason_is_refused(manager: Client, shop: Shop) -> None:
    order = desk_order(manager, shop.slot(shop.museum, 9), FULL=1)
    response = manager.post(f"/ticketing/orders/{order.code}/cancel", {"reason": ""})
    assert response.status_code == 422
    assert "Choose the tickets to cancel" in response.content.decode()
    assert order.tickets.filter(state=Ticket.State.VALID).count() == 1


def test_the_print_link_returns_the_tickets_pdf(manager: Client, shop: Shop) -> None:
    order = desk_order(manager, shop.slot(shop.museum, 9), FULL=2)
    response = manager.get(f"/ticketing/orders/{order.code}/tickets.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    chinese = manager.get(f"/ticketing/orders/{order.code}/tickets.pdf?language=zh-hans")
    assert chinese.status_code == 200 and chinese.content.startswith(b"%PDF")


def test_printing_an_order_without_valid_tickets_is_a_message(manager: Client, shop: Shop) -> None:
    order = desk_order(manager, shop.slot(shop.museum, 9), FULL=1)
    manager.post(f"/ticketing/orders/{order.code}/cancel", {"all": "on", "reason": "r", "confirm": "True"})
    response = manager.get(f"/ticketing/orders/{order.code}/tickets.pdf")
    assert response.status_code == 302
    assert "no valid ticket to print" in ok(manager, response["Location"])
