"""The visitors' shop through its pages (no login): each page in English, French and Simplified
Chinese; a day's slots with places left; bad quantities and sold-out slots answered next to the
field with nothing held; the cart only in its own session, given up or run out; free and paying
orders ending on the confirmation page with QR codes and a PDF; the order page behind its key;
the waiting room in front of the shop when it is on."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core import mail
from django.db.models import F
from django.test import Client
from django.utils import timezone

from cimaise.core.tests.personas import Cast
from cimaise.ticketing.models import Cart, Order, Quota, Slot, WaitingRoom
from cimaise.ticketing.tests.factories import Shop

pytestmark = pytest.mark.django_db

LANGUAGES = {
    "en": ("Choose a date", "Tickets", "Awaiting payment."),
    "fr": ("Choisir une date", "Billets", "En attente de paiement."),
    "zh-hans": ("选择日期", "门票", "等待付款。"),
}


def taken() -> int:
    return sum(Quota.objects.values_list("taken", flat=True))


def visitor(language: str = "en") -> Client:
    return Client(headers={"accept-language": language})


def hold(client: Client, slot: Slot, **quantities: int) -> Any:
    data = {f"qty_{code}": str(n) for code, n in quantities.items()}
    return client.post(f"/shop/{slot.product.code}/{slot.pk}/", data)


def details(client: Client, email: str = "li.wei@example.cn", provider: str = "sandbox") -> Any:
    return client.post("/shop/cart/", {"email": email, "name": "Li Wei", "provider": provider})


def text(response: Any) -> str:
    return str(response.content.decode())


def location(response: Any) -> str:
    """Where a redirect goes."""
    return str(response["Location"])


def order_path(order: Order) -> str:
    return f"/shop/orders/{order.code}/?key={order.access_key}"


def card(today: dt.date) -> dict[str, str]:
    return {"number": "4242 4242 4242 4242", "expiry": f"12/{(today.year + 3) % 100:02d}", "cvc": "123"}


# --- every page in three languages -----------------------------------------------------------


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_every_page_speaks_the_visitors_language(shop: Shop, language: str) -> None:
    choose, tickets, awaiting = LANGUAGES[language]
    client = visitor(language)
    home = text(client.get("/shop/"))
    assert f'<html lang="{language}">' in home and choose in home
    assert shop.leonardo.names[language] in home, "product names come from the data"
    day = text(client.get(f"/shop/LEONARD/?date={shop.day}"))
    assert shop.leonardo.names[language] in day and "Pyramide" in day
    slot = shop.slot(shop.leonardo, 9)
    page = text(client.get(f"/shop/LEONARD/{slot.pk}/"))
    assert tickets in page and 'name="qty_FULL"' in page and 'name="qty_DESK"' not in page
    assert hold(client, slot, FULL=1).status_code == 302
    cart = text(client.get("/shop/cart/"))
    assert f'<html lang="{language}">' in cart and tickets in cart
    assert details(client, provider="sandbox").status_code == 303
    order = Order.objects.get()
    assert order.language == language
    assert awaiting in text(client.get(order_path(order)))


def test_the_french_and_chinese_pages_are_translated(shop: Shop) -> None:
    slot = shop.slot(shop.museum, 10)
    fr = text(visitor("fr").get(f"/shop/MUSEE/{slot.pk}/"))
    assert "Combien de billets" in fr and "17,00" in fr and "Plein tarif" in fr
    zh = text(visitor("zh-hans").get(f"/shop/MUSEE/{slot.pk}/"))
    assert "需要几张门票" in zh and "博物馆" in zh
    assert "How many" not in zh and "How many" not in fr


def test_the_language_switcher_makes_the_shop_chinese(shop: Shop) -> None:
    client = visitor("en")
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/shop/"}, follow=True)
    assert response.redirect_chain[-1][0] == "/shop/"
    assert '<html lang="zh-hans">' in text(response) and "选择日期" in text(response)


def test_the_home_page_lists_products_with_prices_and_proofs(anon_client: Client, shop: Shop) -> None:
    page = text(anon_client.get("/shop/"))
    assert "Leonardo da Vinci" in page and "Museum" in page
    assert "From 17.00\xa0€" in page and "An identity document" in page
    assert "At the desk" not in page, "desk-only tariffs are not offered to visitors"


# --- dates and slots -------------------------------------------------------------------------


def test_a_day_shows_its_slots_with_places_left_and_sold_out(anon_client: Client, shop: Shop) -> None:
    full = shop.slot(shop.museum, 9, entrance=shop.richelieu)
    Quota.objects.filter(pk=full.own_quota_id).update(taken=F("capacity"))
    page = text(anon_client.get(f"/shop/MUSEE/?date={shop.day}"))
    assert "50 places left" in page and "Sold out" in page
    assert f'href="/shop/MUSEE/{shop.slot(shop.museum, 9).pk}/"' in page
    assert f'href="/shop/MUSEE/{full.pk}/"' not in page, "a sold-out slot cannot be chosen"
    assert "Richelieu" in page and "Pyramide" in page


def test_closed_days_show_as_closed_and_open_days_link_to_their_slots(
    anon_client: Client, shop: Shop
) -> None:
    page = text(anon_client.get("/shop/MUSEE/"))
    tuesday = shop.day + dt.timedelta(days=1)
    assert f'href="?date={shop.day:%Y-%m-%d}#slots"' in page
    assert f'href="?date={tuesday:%Y-%m-%d}#slots"' not in page
    assert "Closed" in page


def test_a_slot_closed_to_sale_cannot_be_chosen(anon_client: Client, shop: Shop) -> None:
    slot = shop.slot(shop.museum, 9)
    Slot.objects.filter(pk=slot.pk).update(closed=True)
    assert f'href="/shop/MUSEE/{slot.pk}/"' not in text(anon_client.get(f"/shop/MUSEE/?date={shop.day}"))
    page = text(anon_client.get(f"/shop/MUSEE/{slot.pk}/"))
    assert "This time slot is closed to sale." in page and 'name="qty_FULL"' not in page
    assert hold(anon_client, slot, FULL=1).status_code == 400 and not Cart.objects.exists()


def test_unknown_products_slots_and_dates_are_not_errors(anon_client: Client, shop: Shop) -> None:
    assert anon_client.get("/shop/NOPE/").status_code == 404
    assert anon_client.get("/shop/MUSEE/999999/").status_code == 404
    other = shop.slot(shop.leonardo, 9)
    assert anon_client.get(f"/shop/MUSEE/{other.pk}/").status_code == 404
    page = anon_client.get("/shop/MUSEE/?date=not-a-date")
    assert page.status_code == 200 and 'id="slots"' not in text(page)


def test_the_total_follows_the_quantities(anon_client: Client, shop: Shop) -> None:
    slot = shop.slot(shop.museum, 9)
    fragment = text(anon_client.get(f"/shop/MUSEE/{slot.pk}/total/?qty_FULL=2&qty_U18=1"))
    assert "34.00\xa0€" in fragment


# --- holding places ----------------------------------------------------------------------------


def test_bad_quantities_are_shown_next_to_the_field_and_hold_nothing(anon_client: Client, shop: Shop) -> None:
    slot = shop.slot(shop.leonardo, 9)
    before = taken()
    over = hold(anon_client, slot, FULL=7)
    assert over.status_code == 400
    assert re.search(r'name="qty_FULL"[^>]*aria-invalid="true"', text(over)), "the field is marked"
    assert "Select a valid choice" in text(over)
    too_many = hold(anon_client, slot, FULL=4, U18=3)
    assert too_many.status_code == 400 and "At most 6 tickets per order." in text(too_many)
    nothing = hold(anon_client, slot, FULL=0)
    assert nothing.status_code == 400 and "Choose at least one ticket." in text(nothing)
    assert taken() == before and not Cart.objects.exists()


def test_a_bad_quantity_is_translated(shop: Shop) -> None:
    slot = shop.slot(shop.leonardo, 9)
    page = text(hold(visitor("zh-hans"), slot, FULL=4, U18=3))
    assert "每笔订单最多 6 张门票" in page


def test_a_slot_with_too_few_places_says_how_many_are_left(anon_client: Client, shop: Shop) -> None:
    slot = shop.slot(shop.museum, 9)
    Quota.objects.filter(pk=slot.own_quota_id).update(taken=F("capacity") - 1)
    before = taken()
    page = hold(anon_client, slot, FULL=2)
    assert page.status_code == 400 and "Only 1 place is left in this time slot." in text(page)
    assert taken() == before and not Cart.objects.exists()
    Quota.objects.filter(pk=slot.own_quota_id).update(taken=F("capacity"))
    sold_out = text(anon_client.get(f"/shop/MUSEE/{slot.pk}/"))
    assert "This time slot is sold out." in sold_out and 'name="qty_FULL"' not in sold_out


def test_the_cart_is_held_for_its_session_only(shop: Shop) -> None:
    owner, other = visitor(), visitor()
    slot = shop.slot(shop.museum, 9)
    assert hold(owner, slot, FULL=2).url == "/shop/cart/"
    cart = Cart.objects.get()
    page = text(owner.get("/shop/cart/"))
    assert "34.00\xa0€" in page and 'id="countdown"' in page and 'name="email"' in page
    assert other.get("/shop/cart/").status_code == 404
    assert details(other).status_code == 404
    other.post("/shop/cart/release/")
    cart.refresh_from_db()
    assert cart.state == Cart.State.OPEN and not Order.objects.exists()


def test_giving_up_gives_the_places_back(anon_client: Client, shop: Shop) -> None:
    before = taken()
    hold(anon_client, shop.slot(shop.museum, 9), FULL=3)
    assert taken() > before
    response = anon_client.post("/shop/cart/release/", follow=True)
    assert "Your places were released." in text(response)
    assert taken() == before and Cart.objects.get().state == Cart.State.RELEASED
    assert anon_client.get("/shop/cart/").status_code == 404


def test_choosing_again_releases_the_earlier_places(anon_client: Client, shop: Shop) -> None:
    hold(anon_client, shop.slot(shop.museum, 9), FULL=3)
    hold(anon_client, shop.slot(shop.museum, 10), FULL=1)
    states = dict(Cart.objects.values_list("quantity", "state"))
    assert states == {3: Cart.State.RELEASED, 1: Cart.State.OPEN}


def test_a_hold_that_ran_out_gives_its_places_back(anon_client: Client, shop: Shop) -> None:
    before = taken()
    hold(anon_client, shop.slot(shop.museum, 9), FULL=2)
    Cart.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    page = anon_client.get("/shop/cart/")
    assert page.status_code == 410 and "the hold ran out" in text(page)
    assert taken() == before and Cart.objects.get().state == Cart.State.EXPIRED


def test_the_details_form_names_the_bad_field(anon_client: Client, shop: Shop) -> None:
    hold(anon_client, shop.slot(shop.museum, 9), FULL=1)
    page = details(anon_client, email="not-an-address")
    assert page.status_code == 400 and "Enter a valid email address." in text(page)
    assert not Order.objects.exists() and Cart.objects.get().state == Cart.State.OPEN


def test_card_is_offered_and_chinese_wallets_only_when_enabled(
    anon_client: Client, shop: Shop, settings: Any
) -> None:
    hold(anon_client, shop.slot(shop.museum, 9), FULL=1)
    page = text(anon_client.get("/shop/cart/"))
    assert 'value="sandbox"' in page and "Bank card" in page and "Alipay" not in page
    settings.CIMAISE_PAYMENTS = {
        "alipay": {"class": "cimaise.payments.providers.alipay.AlipayProvider", "enabled": True},
        "wechatpay": {"class": "cimaise.payments.providers.wechatpay.WechatPayProvider", "enabled": False},
    }
    page = text(anon_client.get("/shop/cart/"))
    assert 'value="alipay"' in page and 'value="wechatpay"' not in page
    settings.CIMAISE_PAYMENTS = {"sandbox": {"enabled": False}}
    page = text(anon_client.get("/shop/cart/"))
    assert "Online payment is not available at the moment." in page and 'value="sandbox"' not in page


# --- ordering and paying -----------------------------------------------------------------------


def test_a_free_order_goes_straight_to_its_tickets(
    anon_client: Client, shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    hold(anon_client, shop.slot(shop.leonardo, 11), U18=2)
    with django_capture_on_commit_callbacks(execute=True):
        response = details(anon_client)
    order = Order.objects.get()
    assert response.status_code == 303 and response.url == order_path(order)
    assert order.state == Order.State.PAID
    page = text(anon_client.get(response.url))
    assert page.count('class="qr"') == 2 and "An identity document" in page
    assert "We e-mailed your tickets to li.wei@example.cn." in page
    pdf = anon_client.get(f"/shop/orders/{order.code}/tickets.pdf?key={order.access_key}")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["li.wei@example.cn"]


def test_a_paying_order_goes_through_the_sandbox_card_page_and_comes_back_paid(
    anon_client: Client, shop: Shop
) -> None:
    hold(anon_client, shop.slot(shop.leonardo, 11), FULL=2)
    response = details(anon_client)
    order = Order.objects.get()
    assert response.status_code == 303 and response.url.startswith("/payments/sandbox/")
    waiting = text(anon_client.get(order_path(order)))
    assert "Awaiting payment." in waiting and response.url in waiting, "a way back to the payment page"
    paid = anon_client.post(response.url, {**card(timezone.localdate()), "action": "pay"})
    assert paid.status_code == 303 and location(paid) == f"http://testserver/shop/return/{order.cart_id}/"
    back = anon_client.get(location(paid))
    assert back.status_code == 302 and location(back) == order_path(order)
    page = text(anon_client.get(location(back)))
    assert page.count('class="qr"') == 2 and "Download tickets (PDF)" in page
    order.refresh_from_db()
    assert order.state == Order.State.PAID and order.tickets.count() == 2


def test_an_order_page_needs_its_key(anon_client: Client, shop: Shop) -> None:
    hold(anon_client, shop.slot(shop.leonardo, 11), U18=1)
    details(anon_client)
    order = Order.objects.get()
    stranger = visitor()
    assert stranger.get(order_path(order)).status_code == 200
    assert stranger.get(f"/shop/orders/{order.code}/?key=wrong").status_code == 404
    assert stranger.get(f"/shop/orders/{order.code}/").status_code == 404
    assert stranger.get(f"/shop/orders/{order.code}/tickets.pdf?key=wrong").status_code == 404
    assert stranger.get("/shop/orders/NOPE-NOPE-NOPE/?key=x").status_code == 404


def test_an_unpaid_order_has_no_pdf(anon_client: Client, shop: Shop) -> None:
    hold(anon_client, shop.slot(shop.leonardo, 11), FULL=1)
    details(anon_client)
    order = Order.objects.get()
    assert anon_client.get(f"/shop/orders/{order.code}/tickets.pdf?key={order.access_key}").status_code == 404


# --- the waiting room --------------------------------------------------------------------------


def room(cast: Cast, **changes: Any) -> WaitingRoom:
    now = timezone.now()
    values: dict[str, Any] = {
        "institution": cast.institution_a,
        "code": "LDV",
        "active": True,
        "opens_at": now - dt.timedelta(hours=1),
        "early_ranked": True,
        **changes,
    }
    return WaitingRoom.objects.create(**values)


def test_with_the_waiting_room_on_visitors_queue_before_choosing_tickets(cast: Cast, shop: Shop) -> None:
    room(cast, rate_per_minute=1, burst=1, arrivals=5, admitted=0, admitted_at=timezone.now())
    client = visitor()
    slot = shop.slot(shop.leonardo, 9)
    assert location(client.get(f"/shop/LEONARD/{slot.pk}/")) == "/shop/wait/"
    assert hold(client, slot, FULL=1).url == "/shop/wait/" and not Cart.objects.exists()
    assert 'name="csrfmiddlewaretoken"' in text(client.get("/shop/wait/")), "a button to join"
    assert location(client.post("/shop/wait/")) == "/shop/wait/"
    page = text(client.get("/shop/wait/"))
    assert "Your place in the queue" in page and ">6<" in page and ">5<" in page
    fragment = client.get("/shop/wait/status/", headers={"hx-request": "true"})
    assert re.search(r'hx-trigger="every \d+s"', text(fragment)) and "<html" not in text(fragment)


def test_an_admitted_visitor_goes_back_to_their_tickets_and_holds_places(cast: Cast, shop: Shop) -> None:
    room(cast)
    client = visitor("zh-hans")
    slot = shop.slot(shop.leonardo, 9)
    client.get(f"/shop/LEONARD/{slot.pk}/")
    client.post("/shop/wait/")
    back = client.get("/shop/wait/")
    assert back.status_code == 302 and location(back) == f"/shop/LEONARD/{slot.pk}/"
    assert hold(client, slot, FULL=1).url == "/shop/cart/"
    assert Cart.objects.get().admission


def test_the_polled_fragment_takes_an_admitted_visitor_back(cast: Cast, shop: Shop) -> None:
    room(cast)
    client = visitor()
    slot = shop.slot(shop.leonardo, 9)
    client.get(f"/shop/LEONARD/{slot.pk}/")
    client.post("/shop/wait/")
    fragment = client.get("/shop/wait/status/", headers={"hx-request": "true"})
    assert fragment["HX-Redirect"] == f"/shop/LEONARD/{slot.pk}/"


def test_the_waiting_page_in_chinese(cast: Cast, shop: Shop) -> None:
    room(cast, rate_per_minute=1, burst=1, arrivals=5, admitted=0, admitted_at=timezone.now())
    client = visitor("zh-hans")
    client.post("/shop/wait/")
    page = text(client.get("/shop/wait/"))
    assert "排队" in page and "Waiting room" not in page


def test_without_a_waiting_room_the_waiting_page_sends_visitors_on(anon_client: Client, shop: Shop) -> None:
    assert location(anon_client.get("/shop/wait/")) == "/shop/"


def test_wallets_come_first_for_chinese_visitors(settings: Any) -> None:
    from cimaise.ticketing.shop.checkout import payment_methods

    settings.CIMAISE_PAYMENTS = {
        "alipay": {"class": "cimaise.payments.providers.sandbox.SandboxProvider", "enabled": True},
        "wechatpay": {"class": "cimaise.payments.providers.sandbox.SandboxProvider", "enabled": True},
    }
    assert payment_methods("en") == ["sandbox", "alipay", "wechatpay"]
    assert payment_methods("zh-hans") == ["alipay", "wechatpay", "sandbox"]


def test_chinese_visitors_see_the_total_in_yuan_at_the_days_rate(shop: Shop) -> None:
    from decimal import Decimal

    from cimaise.payments.models import ExchangeRate

    ExchangeRate.objects.create(base="EUR", quote="CNY", rate=Decimal("7.83"), valid_from=dt.date(2020, 1, 2))
    for language, expected in (("zh-hans", "约 ¥266.22"), ("en", None)):
        client = visitor(language)
        hold(client, shop.slot(shop.museum, 9), FULL=2)
        page = client.get("/shop/cart/").content.decode()
        assert ("¥" in page) == (expected is not None), language
        if expected:
            assert expected in page  # 34.00 EUR × 7.83
