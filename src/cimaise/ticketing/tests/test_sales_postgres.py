"""No oversell on PostgreSQL (DESIGN.md §6.1): buyers in threads, each with its own connection,
racing for the same places; the quotas' counters always equal what the carts and orders hold."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum

from cimaise.core.errors import Conflict, InvalidInput
from cimaise.core.tests.concurrency import at_once
from cimaise.core.tests.personas import make_cast
from cimaise.ledger.models import Fact
from cimaise.ledger.verify import ledger_verify
from cimaise.payments.models import Payment
from cimaise.payments.notifications import notification_receive
from cimaise.payments.providers.sandbox import notification_sign
from cimaise.ticketing import orders
from cimaise.ticketing.models import Allocation, Cart, Order, Quota, Ticket
from cimaise.ticketing.services import CartRequest, Item, OrderRequest, cart_create, order_create
from cimaise.ticketing.tests.factories import Shop, make_shop

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def buyer(shop: Shop, slot_id: int, quantity: int) -> Callable[[], Cart]:
    request = CartRequest(slot=slot_id, items=[Item("FULL", quantity)])
    return lambda: cart_create(institution=shop.institution, request=request, owner=None, who="visitor")


def consistent() -> None:
    """Every quota's counter equals the places its live allocations hold, within capacity."""
    for quota in Quota.objects.all():
        held = (
            Allocation.objects.filter(quota=quota, released_at__isnull=True).aggregate(n=Sum("quantity"))["n"]
            or 0
        )
        assert quota.taken == held <= quota.capacity, quota


def test_200_buyers_for_the_last_place_sell_it_once() -> None:
    cast = make_cast()
    shop = make_shop(cast.institution_a, cast.site_a, slot_capacity=1)
    slot = shop.slot(shop.museum, 9)
    sold, refused = at_once([buyer(shop, slot.pk, 1) for _ in range(200)])
    assert len(sold) == 1
    assert len(refused) == 199 and all(getattr(r, "code", None) == "sold_out" for r in refused), {
        type(r).__name__ for r in refused
    }
    assert slot.own_quota.__class__.objects.get(pk=slot.own_quota_id).taken == 1
    consistent()
    assert ledger_verify().ok


def test_64_buyers_of_random_quantities_never_get_more_than_50() -> None:
    cast = make_cast()
    shop = make_shop(cast.institution_a, cast.site_a, slot_capacity=50)
    slot = shop.slot(shop.museum, 9)
    rng = random.Random(7)
    wanted = [rng.randint(1, 6) for _ in range(64)]
    sold, refused = at_once([buyer(shop, slot.pk, n) for n in wanted])
    places = sum(cart.quantity for cart in sold)
    assert places <= 50
    assert all(getattr(r, "code", None) == "sold_out" for r in refused), [repr(r) for r in refused]
    assert len(sold) + len(refused) == 64
    # places only go down here, so each refused buyer asked for more than is left at the end
    left_at_the_end = 50 - places
    assert all(r.details["left"] >= left_at_the_end for r in refused)  # type: ignore[attr-defined]
    assert sorted(cart.quantity for cart in sold) == sorted(cart.quantity for cart in Cart.objects.all())
    consistent()


def test_buyers_of_two_products_sharing_the_exhibition_quota() -> None:
    """Two exhibition slots at two entrances draw on one exhibition quota of 80: 100 buyers of 2
    at each entrance; exactly 80 places are held in all, never more."""
    cast = make_cast()
    shop = make_shop(cast.institution_a, cast.site_a, slot_capacity=200)
    at_pyramide = shop.slot(shop.leonardo, 10)
    at_richelieu = shop.slot(shop.leonardo, 10, entrance=shop.richelieu)
    jobs = [buyer(shop, at_pyramide.pk, 2) for _ in range(50)] + [
        buyer(shop, at_richelieu.pk, 2) for _ in range(50)
    ]
    sold, refused = at_once(jobs)
    assert sum(cart.quantity for cart in sold) == 80
    assert all(getattr(r, "code", None) == "sold_out" for r in refused)
    consistent()


def test_holds_that_ran_out_go_to_the_racing_buyers_once() -> None:
    from django.utils import timezone

    cast = make_cast()
    shop = make_shop(cast.institution_a, cast.site_a, slot_capacity=50)
    slot = shop.slot(shop.museum, 9)
    t0 = timezone.now()
    for _ in range(5):
        cart_create(
            institution=shop.institution,
            request=CartRequest(slot.pk, [Item("FULL", 10)]),
            owner=None,
            who="v",
            now=t0,
        )
    later = t0 + dt.timedelta(minutes=31)
    request = CartRequest(slot=slot.pk, items=[Item("FULL", 3)])
    sold, refused = at_once(
        [
            lambda: cart_create(institution=shop.institution, request=request, owner=None, who="v", now=later)
            for _ in range(20)
        ]
    )
    assert len(sold) == 16 and len(refused) == 4
    assert all(getattr(r, "code", None) == "sold_out" for r in refused)
    assert Cart.objects.filter(state=Cart.State.EXPIRED).count() == 5
    assert Fact.objects.filter(type="ticketing.places.reclaimed").count() == 1, (
        "reclaimed once, by the first buyer"
    )
    consistent()


def test_concurrent_cancellations_of_one_ticket_refund_and_release_it_once() -> None:
    cast = make_cast()
    shop = make_shop(cast.institution_a, cast.site_a, slot_capacity=50)
    slot = shop.slot(shop.museum, 9)
    cart = cart_create(
        institution=shop.institution, request=CartRequest(slot.pk, [Item("FULL", 4)]), owner=None, who="v"
    )
    placed = order_create(
        request=OrderRequest(cart=cart, provider="sandbox", email="a@example.org"), who="v"
    ).order
    payment = Payment.objects.get(pk=placed.payment_id)
    body, headers = notification_sign(payment=payment, status="paid", now=payment.created_at)
    notification_receive(provider="sandbox", body=body, headers=headers)
    ticket = Ticket.objects.filter(order=placed).first()
    assert ticket is not None
    done, refused = at_once(
        [
            lambda: orders.order_cancel(order=placed, ticket_ids=[ticket.pk], reason="ill", who="user:desk")
            for _ in range(8)
        ]
    )
    assert len(done) == 1 and len(refused) == 7, refused
    assert all(isinstance(r, (InvalidInput, Conflict)) for r in refused), refused
    assert Quota.objects.get(pk=slot.own_quota_id).taken == 3
    assert Payment.objects.get(pk=payment.pk).refunded_amount == Decimal("17.00")
    assert Order.objects.get(pk=placed.pk).refunded == Decimal("17.00")
    consistent()
    assert ledger_verify().ok


def test_concurrent_notifications_of_one_payment_issue_its_tickets_once() -> None:
    cast = make_cast()
    shop = make_shop(cast.institution_a, cast.site_a, slot_capacity=50)
    slot = shop.slot(shop.museum, 9)
    cart = cart_create(
        institution=shop.institution, request=CartRequest(slot.pk, [Item("FULL", 2)]), owner=None, who="v"
    )
    placed = order_create(
        request=OrderRequest(cart=cart, provider="sandbox", email="a@example.org"), who="v"
    ).order
    payment = Payment.objects.get(pk=placed.payment_id)
    signed = [notification_sign(payment=payment, status="paid", now=payment.created_at) for _ in range(6)]

    def deliver(body: bytes, headers: dict[str, str]) -> Callable[[], Any]:
        return lambda: notification_receive(provider="sandbox", body=body, headers=headers)

    answers, errors = at_once([deliver(b, h) for b, h in signed])
    assert not errors and all(a.status == 200 for a in answers)
    assert Ticket.objects.filter(order=placed).count() == 2
    assert Fact.objects.filter(type="ticketing.order.paid").count() == 1
    consistent()


def test_cancellations_racing_resent_notifications_neither_deadlock_nor_fail() -> None:
    """The lock order (payment, quotas, order, allocations, ledger) holds for cancellations too:
    four tickets cancelled one by one while the gateway resends its notification four times."""
    cast = make_cast()
    shop = make_shop(cast.institution_a, cast.site_a, slot_capacity=50)
    slot = shop.slot(shop.museum, 9)
    cart = cart_create(
        institution=shop.institution, request=CartRequest(slot.pk, [Item("FULL", 4)]), owner=None, who="v"
    )
    placed = order_create(
        request=OrderRequest(cart=cart, provider="sandbox", email="a@example.org"), who="v"
    ).order
    payment = Payment.objects.get(pk=placed.payment_id)
    body, headers = notification_sign(payment=payment, status="paid", now=payment.created_at)
    notification_receive(provider="sandbox", body=body, headers=headers)
    resends = [notification_sign(payment=payment, status="paid", now=payment.created_at) for _ in range(4)]

    def cancel(ticket_id: int) -> Callable[[], Any]:
        return lambda: orders.order_cancel(
            order=placed, ticket_ids=[ticket_id], reason="ill", who="user:desk"
        )

    def resend(body: bytes, headers: dict[str, str]) -> Callable[[], Any]:
        return lambda: notification_receive(provider="sandbox", body=body, headers=headers)

    ids = list(Ticket.objects.filter(order=placed).values_list("pk", flat=True))
    done, errors = at_once([cancel(i) for i in ids] + [resend(b, h) for b, h in resends])
    assert not errors, errors
    assert Order.objects.get(pk=placed.pk).state == Order.State.REFUNDED
    assert Payment.objects.get(pk=payment.pk).refunded_amount == Decimal("68.00")
    assert Quota.objects.get(pk=slot.own_quota_id).taken == 0
    consistent()
    assert ledger_verify().ok


def test_values_postgresql_cannot_store_are_a_422_not_a_500() -> None:
    import json

    from django.test import Client

    cast = make_cast()
    shop = make_shop(cast.institution_a, cast.site_a)
    client = Client()
    assert client.get(f"/api/v1/slots?date={shop.day}&product=MU%00SEE").status_code == 422
    assert client.get("/api/v1/orders/AB%00CD").status_code == 422
    body = {"slot": shop.slot(shop.museum, 9).pk, "items": [{"tariff": "FU\u0000LL", "quantity": 1}]}
    response = client.post("/api/v1/carts", json.dumps(body), content_type="application/json")
    assert response.status_code == 422 and not Cart.objects.exists()
