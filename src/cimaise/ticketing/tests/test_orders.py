"""An order's life: paid by a verified sandbox notification (once), holds that run out give
their places back, late payments, and cancellations that refund and give places back once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Sum
from django.utils import timezone

from cimaise.core.errors import Conflict, InvalidInput
from cimaise.ledger.models import Fact
from cimaise.ledger.verify import ledger_verify
from cimaise.payments.models import Payment
from cimaise.payments.notifications import notification_receive
from cimaise.payments.providers.sandbox import notification_sign
from cimaise.ticketing import orders
from cimaise.ticketing.models import Allocation, Cart, Order, Quota, Revocation, Ticket
from cimaise.ticketing.services import (
    CartRequest,
    Item,
    OrderRequest,
    cart_create,
    cart_release,
    order_create,
)
from cimaise.ticketing.tests.factories import Shop

pytestmark = pytest.mark.django_db


def hold(shop: Shop, quantity: int = 2, *, now: dt.datetime | None = None, hour: int = 9) -> Cart:
    request = CartRequest(slot=shop.slot(shop.museum, hour).pk, items=[Item("FULL", quantity)])
    return cart_create(institution=shop.institution, request=request, owner=None, who="visitor", now=now)


def order(shop: Shop, cart: Cart, *, now: dt.datetime | None = None) -> Order:
    request = OrderRequest(cart=cart, provider="sandbox", email="ada@example.org", language="zh-hans")
    return order_create(request=request, who="visitor", now=now).order


def pay(order: Order, *, now: dt.datetime | None = None, status: str = "paid") -> int:
    payment = Payment.objects.get(pk=order.payment_id)
    body, headers = notification_sign(payment=payment, status=status, now=now or timezone.now())  # type: ignore[arg-type]
    return notification_receive(provider="sandbox", body=body, headers=headers, now=now).status


def own_taken(shop: Shop, hour: int = 9) -> int:
    return Quota.objects.get(pk=shop.slot(shop.museum, hour).own_quota_id).taken


def consistent() -> None:
    for quota in Quota.objects.all():
        held = (
            Allocation.objects.filter(quota=quota, released_at__isnull=True).aggregate(n=Sum("quantity"))["n"]
            or 0
        )
        assert quota.taken == held <= quota.capacity, quota


def test_a_verified_notification_pays_the_order_once_and_issues_its_tickets(
    shop: Shop,
    mailoutbox: list,  # type: ignore[type-arg]
    django_capture_on_commit_callbacks: Any,
) -> None:
    placed = order(shop, hold(shop, 2))
    with django_capture_on_commit_callbacks(execute=True):
        assert pay(placed) == 200
    placed.refresh_from_db()
    assert placed.state == Order.State.PAID and placed.expires_at is None
    assert placed.tickets.count() == 2 and all(t.code for t in placed.tickets.all())
    assert Allocation.objects.filter(cart=placed.cart, expires_at__isnull=True).count() == 2, (
        "places are sold for good"
    )
    assert pay(placed) == 200, "a second notification is answered"
    assert placed.tickets.count() == 2 and Fact.objects.filter(type="ticketing.order.paid").count() == 1
    assert len(mailoutbox) == 1 and placed.code in mailoutbox[0].body
    consistent()
    assert ledger_verify().ok


def test_a_declined_payment_leaves_the_order_waiting(shop: Shop) -> None:
    placed = order(shop, hold(shop, 2))
    pay(placed, status="failed")
    placed.refresh_from_db()
    assert placed.state == Order.State.AWAITING_PAYMENT and not placed.tickets.exists()


def test_an_expired_hold_gives_its_places_to_the_next_buyer(shop: Shop) -> None:
    t0 = timezone.now()
    stale = [hold(shop, 10, now=t0) for _ in range(5)][0]
    assert own_taken(shop) == 50
    with pytest.raises(Conflict):
        hold(shop, 1, now=t0 + dt.timedelta(minutes=29))
    fresh = hold(shop, 3, now=t0 + dt.timedelta(minutes=31))
    assert own_taken(shop) == 3
    stale.refresh_from_db()
    assert stale.state == Cart.State.EXPIRED
    assert Fact.objects.filter(type="ticketing.places.reclaimed").count() == 1
    with pytest.raises(Conflict) as late:
        order(shop, stale, now=t0 + dt.timedelta(minutes=32))
    assert late.value.field == "cart"
    assert fresh.state == Cart.State.OPEN
    consistent()


def test_giving_up_a_cart_releases_its_places_once(shop: Shop) -> None:
    cart = hold(shop, 4)
    cart_release(cart=cart, who="visitor")
    cart_release(cart=cart, who="visitor")
    assert own_taken(shop) == 0
    assert Fact.objects.filter(type="ticketing.cart.released").count() == 1


def test_the_sweeper_expires_carts_and_unpaid_orders(shop: Shop) -> None:
    t0 = timezone.now()
    hold(shop, 2, now=t0)
    unpaid = order(shop, hold(shop, 3, now=t0), now=t0)
    assert orders.carts_and_orders_expire(now=t0 + dt.timedelta(hours=2)) == (1, 1)
    unpaid.refresh_from_db()
    assert unpaid.state == Order.State.EXPIRED and own_taken(shop) == 0
    assert orders.carts_and_orders_expire(now=t0 + dt.timedelta(hours=3)) == (0, 0)
    consistent()


def test_a_late_payment_takes_the_places_again_when_they_are_free(shop: Shop) -> None:
    t0 = timezone.now()
    placed = order(shop, hold(shop, 2, now=t0), now=t0)
    orders.carts_and_orders_expire(now=t0 + dt.timedelta(hours=1))
    pay(placed, now=t0 + dt.timedelta(hours=1, minutes=5))
    placed.refresh_from_db()
    assert placed.state == Order.State.PAID and placed.tickets.count() == 2 and own_taken(shop) == 2
    consistent()


def test_a_late_payment_for_places_sold_since_is_refunded(shop: Shop) -> None:
    t0 = timezone.now()
    placed = order(shop, hold(shop, 2, now=t0), now=t0)
    for _ in range(5):  # takes everything once the hold ran out
        hold(shop, 10, now=t0 + dt.timedelta(hours=1))
    pay(placed, now=t0 + dt.timedelta(hours=1, minutes=1))
    placed.refresh_from_db()
    assert placed.state == Order.State.EXPIRED and not placed.tickets.exists()
    payment = Payment.objects.get(pk=placed.payment_id)
    assert payment.refunded_amount == Decimal("34.00")
    assert Fact.objects.filter(type="ticketing.order.paid_late").count() == 1
    assert own_taken(shop) == 50
    consistent()


def test_cancelling_some_tickets_refunds_them_and_gives_their_places_back_once(shop: Shop) -> None:
    placed = order(shop, hold(shop, 3))
    pay(placed)
    first, second, _ = placed.tickets.all()
    placed = orders.order_cancel(
        order=placed, ticket_ids=[first.pk, second.pk], reason="visitor ill", who="user:desk"
    )
    assert placed.state == Order.State.PAID and placed.refunded == Decimal("34.00")
    assert own_taken(shop) == 1
    assert set(Revocation.objects.values_list("code_id", flat=True)) == {first.code_id, second.code_id}
    with pytest.raises(InvalidInput):
        orders.order_cancel(order=placed, ticket_ids=[first.pk], reason="again", who="user:desk")
    assert own_taken(shop) == 1, "released exactly once"
    placed = orders.order_cancel(order=placed, ticket_ids=None, reason="all of it", who="user:desk")
    assert placed.state == Order.State.REFUNDED and placed.refunded == Decimal("51.00")
    assert own_taken(shop) == 0
    assert Payment.objects.get(pk=placed.payment_id).refunded_amount == Decimal("51.00")
    with pytest.raises(Conflict):
        orders.order_cancel(order=placed, ticket_ids=None, reason="and again", who="user:desk")
    assert Ticket.objects.filter(state=Ticket.State.VALID).count() == 0
    consistent()
    assert ledger_verify().ok


def test_cancelling_an_unpaid_order_needs_a_reason_and_frees_its_places(shop: Shop) -> None:
    placed = order(shop, hold(shop, 2))
    with pytest.raises(InvalidInput) as refused:
        orders.order_cancel(order=placed, ticket_ids=None, reason=" ", who="visitor")
    assert refused.value.field == "reason"
    placed = orders.order_cancel(order=placed, ticket_ids=None, reason="changed my mind", who="visitor")
    assert placed.state == Order.State.CANCELLED and own_taken(shop) == 0
    pay(placed)
    placed.refresh_from_db()
    assert placed.state == Order.State.CANCELLED, "a payment after cancelling is refunded, not honoured"
    assert Payment.objects.get(pk=placed.payment_id).refunded_amount == Decimal("34.00")
    consistent()


def test_an_unpaid_order_past_its_time_reads_as_expired(shop: Shop) -> None:
    t0 = timezone.now() - dt.timedelta(hours=2)
    placed = order(shop, hold(shop, 2, now=t0), now=t0)
    assert placed.state == Order.State.AWAITING_PAYMENT
    assert orders.order_status(placed) == "expired"
    assert orders.order_status(placed, now=t0 + dt.timedelta(minutes=5)) == "awaiting_payment"


def test_one_admission_holds_at_most_one_orders_worth_of_places(cast: Any, shop: Shop) -> None:
    from cimaise.ticketing import waiting

    room = waiting.room_configure(
        actor=cast.ticketing_manager_a.actor,
        code="ONSALE",
        active=True,
        opens_at=timezone.now() - dt.timedelta(hours=1),
        rate_per_minute=600,
        burst=100,
        session_minutes=20,
    )
    token = waiting.entry_status(entry=waiting.room_join(room=room)).token
    assert token

    def cart(quantity: int) -> Cart:
        request = CartRequest(
            slot=shop.slot(shop.museum, 9).pk, items=[Item("FULL", quantity)], admission=token
        )
        return cart_create(institution=shop.institution, request=request, owner=None, who="visitor")

    first = cart(6)
    with pytest.raises(Conflict) as refused:
        cart(5)
    assert refused.value.code == "admission_used" and refused.value.field == "admission"
    cart_release(cart=first, who="visitor")
    cart(10)  # a cart given back no longer counts
    with pytest.raises(Conflict):
        hold(shop, 1)  # without the admission while the room is open


def test_ledger_rebuild_restores_the_quota_counters(shop: Shop) -> None:
    from cimaise.ticketing.rebuild import rebuild_quota_counters

    hold(shop, 3)
    quota = Quota.objects.get(pk=shop.slot(shop.museum, 9).own_quota_id)
    Quota.objects.filter(pk=quota.pk).update(taken=0)
    assert rebuild_quota_counters() == 1
    assert Quota.objects.get(pk=quota.pk).taken == 3
    assert rebuild_quota_counters() == 0
    consistent()
