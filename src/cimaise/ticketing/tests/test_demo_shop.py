"""The small demo's shop: what a visitor and the ticketing manager find after ``cimaise demo``."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from cimaise.access.models import Entrance
from cimaise.ledger.verify import ledger_verify
from cimaise.ticketing.models import Order, Product, Quota, Slot, Ticket, WaitingRoom

pytestmark = pytest.mark.django_db


def test_the_demo_shop_sells_and_has_sold() -> None:
    call_command("demo", "--no-serve", "--verbosity", "0", stdout=io.StringIO(), stderr=io.StringIO())
    assert sorted(Entrance.objects.values_list("code", flat=True)) == ["CAR", "PDL", "PYR", "RIC"]
    assert Entrance.objects.get(code="PYR").lanes.filter(direction="in").count() == 6
    leonardo = Product.objects.get(code="LEONARD")
    assert leonardo.names["zh-hans"] and leonardo.exhibition is not None
    assert all(t.names.get("zh-hans") for t in leonardo.tariffs.all())
    today = timezone.localdate()
    assert Slot.objects.filter(starts_at__date__gt=today + dt.timedelta(days=14)).exists()
    assert not Slot.objects.filter(starts_at__week_day=3).exists(), "closed on Tuesdays"
    paid = Order.objects.filter(state=Order.State.PAID)
    assert paid.count() > 50 and Order.objects.filter(state=Order.State.AWAITING_PAYMENT).exists()
    assert Ticket.objects.filter(state=Ticket.State.CANCELLED).count() == 1
    assert Order.objects.filter(refunded__gt=0).count() == 1
    assert all(q.taken <= q.capacity for q in Quota.objects.all())
    assert WaitingRoom.objects.filter(code="ONSALE", active=False).exists()
    assert ledger_verify().ok
    day = Slot.objects.filter(product=leonardo).order_by("starts_at").first()
    assert day is not None
    slots = Client().get(f"/api/v1/slots?date={timezone.localdate(day.starts_at)}&product=LEONARD").json()
    assert slots and slots[0]["capacity"] == 250
    shop = Client(headers={"Accept-Language": "zh-hans"}).get("/shop/")
    assert shop.status_code == 200 and "列奥纳多" in shop.content.decode()
