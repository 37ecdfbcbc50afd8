"""The sales chain through the API (DESIGN.md §5): slots, carts, orders; and every bad input
answered with a 4xx naming the field, with nothing held."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from cimaise.core.tests.personas import Cast
from cimaise.ticketing.models import Allocation, Cart, Order, Quota
from cimaise.ticketing.tests.factories import Shop

pytestmark = pytest.mark.django_db


def post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def taken() -> int:
    return sum(Quota.objects.values_list("taken", flat=True))


def test_the_slots_of_a_day_with_places_left_and_tariffs(anon_client: Client, shop: Shop) -> None:
    response = anon_client.get(f"/api/v1/slots?date={shop.day}&product=MUSEE&entrance=PYR")
    assert response.status_code == 200
    slots = response.json()
    assert len(slots) == 16
    first = slots[0]
    assert set(first) >= {"id", "start", "end", "product", "entrance", "capacity", "left", "tariffs"}
    assert first["capacity"] == 50 and first["left"] == 50 and first["product"] == "MUSEE"
    assert [t["code"] for t in first["tariffs"]] == ["FULL", "U18"], "the desk tariff is not on the web"
    assert first["tariffs"][0]["price"] == "17.00"
    assert first["tariffs"][1]["proof"] == "An identity document"


def test_a_cart_holds_places_and_the_slot_shows_fewer(anon_client: Client, shop: Shop) -> None:
    slot = shop.slot(shop.museum, 9)
    response = post(
        anon_client,
        "/api/v1/carts",
        {"slot": slot.pk, "items": [{"tariff": "FULL", "quantity": 2}, {"tariff": "U18", "quantity": 1}]},
    )
    assert response.status_code == 201, response.content
    cart = response.json()
    assert cart["total"] == "34.00" and len(cart["items"]) == 2
    assert dt.datetime.fromisoformat(cart["expires_at"]) > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=29)
    left = anon_client.get(f"/api/v1/slots?date={shop.day}&product=MUSEE&entrance=PYR").json()[0]["left"]
    assert left == 47


def test_sold_out_is_a_409_with_what_is_left(anon_client: Client, shop: Shop) -> None:
    slot = shop.slot(shop.museum, 9)
    for _ in range(5):
        assert (
            post(
                anon_client, "/api/v1/carts", {"slot": slot.pk, "items": [{"tariff": "FULL", "quantity": 10}]}
            ).status_code
            == 201
        )
    response = post(
        anon_client, "/api/v1/carts", {"slot": slot.pk, "items": [{"tariff": "FULL", "quantity": 1}]}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "sold_out"
    assert response.json()["error"]["details"]["left"] == 0


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([{"tariff": "FULL", "quantity": 0}], "items[0].quantity"),
        ([{"tariff": "FULL", "quantity": -3}], "items[0].quantity"),
        ([{"tariff": "FULL", "quantity": 10**9}], "items[0].quantity"),
        ([{"tariff": "FULL", "quantity": 11}], "items"),
        ([], "items"),
        ([{"tariff": "NOPE", "quantity": 1}], "items[0].tariff"),
        ([{"tariff": "DESK", "quantity": 1}], "items[0].tariff"),
        ([{"tariff": "FULL", "quantity": 1}, {"tariff": "FULL", "quantity": 1}], "items"),
    ],
)
def test_bad_items_are_refused_naming_the_field(
    anon_client: Client, shop: Shop, items: Any, field: str
) -> None:
    slot = shop.slot(shop.museum, 9)
    response = post(anon_client, "/api/v1/carts", {"slot": slot.pk, "items": items})
    assert 400 <= response.status_code < 500, response.content
    error = response.json()["error"]
    assert field in json.dumps(error["details"]) or field in error["message"], error
    assert taken() == 0 and not Cart.objects.exists(), "nothing held"


def test_a_slot_past_closed_unknown_or_of_another_institution(
    cast: Cast, anon_client: Client, shop: Shop
) -> None:
    slot = shop.slot(shop.museum, 9)
    slot.closed = True
    slot.save()
    for slot_id, code in ((slot.pk, "slot_closed"), (999_999, "unknown_slot")):
        response = post(
            anon_client, "/api/v1/carts", {"slot": slot_id, "items": [{"tariff": "FULL", "quantity": 1}]}
        )
        assert response.status_code == 422 and response.json()["error"]["code"] == code
        assert response.json()["error"]["details"]["field"] == "slot"
    past = shop.slot(shop.museum, 10)
    past.starts_at, past.ends_at = (
        past.starts_at - dt.timedelta(days=400),
        past.ends_at - dt.timedelta(days=400),
    )
    past.save()
    response = post(
        anon_client, "/api/v1/carts", {"slot": past.pk, "items": [{"tariff": "FULL", "quantity": 1}]}
    )
    assert response.json()["error"]["code"] == "slot_past"
    partner = post(
        cast.partner_b.client(),
        "/api/v1/carts",
        {"slot": shop.slot(shop.museum, 11).pk, "items": [{"tariff": "FULL", "quantity": 1}]},
    )
    assert partner.status_code == 422 and partner.json()["error"]["code"] == "unknown_slot"
    assert taken() == 0


def test_the_desk_channel_needs_ticketing_staff(cast: Cast, anon_client: Client, shop: Shop) -> None:
    body = {
        "slot": shop.slot(shop.museum, 9).pk,
        "items": [{"tariff": "DESK", "quantity": 1}],
        "channel": "desk",
    }
    assert post(anon_client, "/api/v1/carts", body).status_code == 403
    assert post(cast.gate_agent_a.client(), "/api/v1/carts", body).status_code == 403
    assert post(cast.ticketing_manager_a.client(), "/api/v1/carts", body).status_code == 201


def test_an_invalid_token_is_refused_not_treated_as_a_visitor(shop: Shop) -> None:
    client = Client(headers={"Authorization": "Bearer cim_nope_nope"})
    assert client.get(f"/api/v1/slots?date={shop.day}").status_code == 401


def _cart(client: Client, shop: Shop, quantity: int = 2, hour: int = 9) -> str:
    response = post(
        client,
        "/api/v1/carts",
        {"slot": shop.slot(shop.museum, hour).pk, "items": [{"tariff": "FULL", "quantity": quantity}]},
    )
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


def test_an_order_awaits_its_sandbox_payment(anon_client: Client, shop: Shop) -> None:
    cart = _cart(anon_client, shop)
    response = post(
        anon_client, "/api/v1/orders", {"cart": cart, "email": "ada@example.org", "provider": "sandbox"}
    )
    assert response.status_code == 201, response.content
    order = response.json()
    assert order["status"] == "awaiting_payment" and order["total"] == "34.00"
    assert order["payment"]["redirect_url"].startswith("/payments/sandbox/")
    detail = anon_client.get(f"/api/v1/orders/{order['code']}").json()
    assert detail["status"] == "awaiting_payment" and detail["tickets"] == []
    again = post(
        anon_client, "/api/v1/orders", {"cart": cart, "email": "ada@example.org", "provider": "sandbox"}
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "cart_ordered"


def test_order_input_errors(anon_client: Client, shop: Shop) -> None:
    cart = _cart(anon_client, shop)
    cases = [
        ({"cart": cart, "provider": "sandbox"}, "email"),
        ({"cart": cart, "email": "not-an-address", "provider": "sandbox"}, "email"),
        ({"cart": cart, "email": "a@example.org", "provider": "bitcoin"}, "provider"),
        ({"cart": "00000000-0000-0000-0000-000000000000", "email": "a@example.org"}, "cart"),
    ]
    for body, field in cases:
        response = post(anon_client, "/api/v1/orders", body)
        assert 400 <= response.status_code < 500, (body, response.content)
        assert field in json.dumps(response.json()["error"]), (field, response.json())
    assert not Order.objects.exists()


def test_someone_elses_cart_is_unknown(cast: Cast, shop: Shop) -> None:
    manager = cast.ticketing_manager_a.client()
    cart = _cart(manager, shop)
    other = cast.admin_a.client()
    assert other.get(f"/api/v1/carts/{cart}").status_code == 404
    response = post(other, "/api/v1/orders", {"cart": cart, "email": "a@example.org", "provider": "sandbox"})
    assert response.status_code == 404
    assert manager.get(f"/api/v1/carts/{cart}").status_code == 200


def test_a_desk_sale_is_paid_at_once_with_its_tickets(cast: Cast, shop: Shop) -> None:
    desk = cast.ticketing_manager_a.client()
    response = post(
        desk,
        "/api/v1/carts",
        {
            "slot": shop.slot(shop.museum, 9).pk,
            "items": [{"tariff": "DESK", "quantity": 3}],
            "channel": "desk",
        },
    )
    order = post(desk, "/api/v1/orders", {"cart": response.json()["id"], "provider": "desk"}).json()
    assert order["status"] == "paid" and order["total"] == "45.00"
    assert len(order["tickets"]) == 3 and all(t["code"] for t in order["tickets"])
    assert Allocation.objects.filter(expires_at__isnull=True, released_at__isnull=True).count() == 2


def test_a_desk_order_needs_staff(anon_client: Client, shop: Shop) -> None:
    cart = _cart(anon_client, shop)
    response = post(anon_client, "/api/v1/orders", {"cart": cart, "provider": "desk"})
    assert response.status_code == 403


def test_a_free_order_is_paid_without_a_payment(anon_client: Client, shop: Shop) -> None:
    cart = post(
        anon_client,
        "/api/v1/carts",
        {"slot": shop.slot(shop.museum, 9).pk, "items": [{"tariff": "U18", "quantity": 2}]},
    ).json()
    order = post(
        anon_client, "/api/v1/orders", {"cart": cart["id"], "email": "kid@example.org", "provider": "sandbox"}
    ).json()
    assert order["status"] == "paid" and order["total"] == "0.00" and len(order["tickets"]) == 2


def test_an_order_shows_the_vat_it_includes(cast: Cast, shop: Shop) -> None:
    desk = cast.ticketing_manager_a.client()
    body = {
        "slot": shop.slot(shop.museum, 9).pk,
        "items": [{"tariff": "FULL", "quantity": 2}],
        "channel": "desk",
    }
    order = post(
        desk, "/api/v1/orders", {"cart": post(desk, "/api/v1/carts", body).json()["id"], "provider": "desk"}
    ).json()
    assert order["total"] == "34.00" and order["vat"] == "1.77"  # 34 × 0.055 / 1.055


def test_staff_reissue_a_ticket_with_a_new_code_and_the_old_one_revoked(
    cast: Cast, anon_client: Client, shop: Shop
) -> None:
    desk = cast.ticketing_manager_a.client()
    body = {
        "slot": shop.slot(shop.museum, 9).pk,
        "items": [{"tariff": "DESK", "quantity": 2}],
        "channel": "desk",
    }
    order = post(
        desk, "/api/v1/orders", {"cart": post(desk, "/api/v1/carts", body).json()["id"], "provider": "desk"}
    ).json()
    old = order["tickets"][0]
    url = f"/api/v1/orders/{order['code']}/tickets/{old['id']}/reissue"
    assert post(anon_client, url, {"reason": "lost"}).status_code == 404, "a desk order is not a visitor's"
    assert post(desk, url, {"reason": " "}).json()["error"]["details"]["field"] == "reason"
    new = post(desk, url, {"reason": "visitor lost the e-mail"})
    assert new.status_code == 200 and new.json()["code"] != old["code"]
    again = post(desk, url, {"reason": "twice"})
    assert again.status_code == 422 and again.json()["error"]["details"]["field"] == "ticket"
    states = {t["id"]: t["state"] for t in desk.get(f"/api/v1/orders/{order['code']}").json()["tickets"]}
    assert states[old["id"]] == "replaced" and states[new.json()["id"]] == "valid"
    feed = cast.gate_agent_a.client().get("/api/v1/ticketing/revocations?since=0").json()
    assert [r["code_id"] for r in feed["revocations"]] == [old["code_id"]]


def test_a_resent_cart_with_the_same_idempotency_key_holds_nothing_more(
    anon_client: Client, shop: Shop
) -> None:
    body = {"slot": shop.slot(shop.museum, 9).pk, "items": [{"tariff": "FULL", "quantity": 2}]}
    first = anon_client.post(
        "/api/v1/carts", json.dumps(body), content_type="application/json", headers={"Idempotency-Key": "k-1"}
    )
    again = anon_client.post(
        "/api/v1/carts", json.dumps(body), content_type="application/json", headers={"Idempotency-Key": "k-1"}
    )
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"] and taken() == 4  # 2 places × (own + entrance quota)
    bad = anon_client.post(
        "/api/v1/carts",
        json.dumps(body),
        content_type="application/json",
        headers={"Idempotency-Key": "x" * 65},
    )
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "idempotency_key"
