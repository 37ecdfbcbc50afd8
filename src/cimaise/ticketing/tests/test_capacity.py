"""Slots from opening hours and exceptions; shared quotas; capacity edits."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from cimaise.core.errors import Conflict, InvalidInput, PermissionDenied
from cimaise.core.tests.personas import Cast
from cimaise.ledger.models import Fact
from cimaise.ticketing.capacity import (
    PARIS,
    CapacityEdit,
    SlotPlan,
    capacity_set,
    opening_days,
    slots_generate,
)
from cimaise.ticketing.models import Quota, Slot
from cimaise.ticketing.services import CartRequest, Item, cart_create
from cimaise.ticketing.tests.factories import Shop

pytestmark = pytest.mark.django_db


def test_days_follow_the_weekly_hours_and_the_exceptions(shop: Shop) -> None:
    days = opening_days(shop.institution, shop.day, shop.day + dt.timedelta(days=6))
    weekdays = [d.day.weekday() for d in days]
    assert 1 not in weekdays, "closed on Tuesdays"
    assert 3 not in weekdays, "the exception closes that Thursday"
    assert weekdays == [0, 2, 4, 5, 6]
    wednesday = next(d for d in days if d.day.weekday() == 2)
    assert wednesday.last_entry == dt.time(20)


def test_slots_every_half_hour_from_opening_to_last_entry(shop: Shop) -> None:
    monday = Slot.objects.filter(product=shop.museum, entrance=shop.pyramide, starts_at__date=shop.day)
    starts = sorted(s.starts_at.astimezone(PARIS).time() for s in monday)
    assert starts[0] == dt.time(9) and starts[-1] == dt.time(16, 30) and len(starts) == 16
    assert all(s.ends_at - s.starts_at == dt.timedelta(minutes=30) for s in monday)
    wednesday = Slot.objects.filter(
        product=shop.museum, entrance=shop.pyramide, starts_at__date=shop.day + dt.timedelta(days=2)
    )
    assert wednesday.count() == 23  # 9:00 … 20:00


def test_generating_twice_changes_nothing(cast: Cast, shop: Shop) -> None:
    before = Slot.objects.count(), Quota.objects.count()
    plan = SlotPlan(
        product="MUSEE",
        entrances=["PYR", "RIC"],
        first_day=shop.day,
        last_day=shop.day,
        slot_capacity=9,
        entrance_capacity=9,
    )
    result = slots_generate(actor=cast.ticketing_manager_a.actor, plan=plan)
    assert result.created == 0 and result.existing == 32
    assert (Slot.objects.count(), Quota.objects.count()) == before
    assert shop.slot(shop.museum, 9).own_quota.capacity == 50, "existing capacities are kept"


def test_a_slot_draws_on_its_own_the_entrance_and_the_exhibition_quota(shop: Shop) -> None:
    museum, leonardo = shop.slot(shop.museum, 10), shop.slot(shop.leonardo, 10)
    kinds = sorted(q.kind for q in leonardo.quotas.all())
    assert kinds == ["entrance", "exhibition", "slot"]
    shared = set(museum.quotas.all()) & set(leonardo.quotas.all())
    assert [q.kind for q in shared] == ["entrance"], "the two products share the entrance's half-hour"
    at_richelieu = shop.slot(shop.leonardo, 10, entrance=shop.richelieu)
    assert {q.kind for q in set(leonardo.quotas.all()) & set(at_richelieu.quotas.all())} == {"exhibition"}


def test_the_exhibition_quota_is_shared_across_entrances(cast: Cast, shop: Shop) -> None:
    """80 places for the exhibition at 10:00, whichever entrance: once 78 are held at the two
    entrances, 3 more are refused with 2 left although the entrance has hundreds."""
    for entrance, n in ((shop.pyramide, 6), (shop.richelieu, 5)):
        slot = shop.slot(shop.leonardo, 10, entrance=entrance)
        for _ in range(5 if entrance == shop.pyramide else 6):
            cart_create(
                institution=shop.institution,
                request=CartRequest(slot.pk, [Item("FULL", n)]),
                owner=None,
                who="t",
            )
    exhibition = shop.slot(shop.leonardo, 10).quotas.get(kind="exhibition")
    assert exhibition.taken == 60
    slot = shop.slot(shop.leonardo, 10, entrance=shop.richelieu)
    for _ in range(3):
        cart_create(
            institution=shop.institution, request=CartRequest(slot.pk, [Item("FULL", 6)]), owner=None, who="t"
        )
    with pytest.raises(Conflict) as refused:
        cart_create(
            institution=shop.institution, request=CartRequest(slot.pk, [Item("FULL", 3)]), owner=None, who="t"
        )
    assert refused.value.code == "sold_out" and refused.value.as_dict()["details"]["left"] == 2


def test_bulk_capacity_edit_with_a_fact(cast: Cast, shop: Shop) -> None:
    edit = CapacityEdit(
        kind="slot",
        first_day=shop.day,
        last_day=shop.day,
        capacity=70,
        entrance="PYR",
        product="MUSEE",
        from_time=dt.time(9),
        to_time=dt.time(12),
    )
    changed = capacity_set(actor=cast.ticketing_manager_a.actor, edit=edit)
    assert changed == 6
    assert shop.slot(shop.museum, 11, 30).own_quota.capacity == 70
    assert shop.slot(shop.museum, 12).own_quota.capacity == 50
    fact = Fact.objects.filter(type="ticketing.capacity.changed").get()
    assert len(json.loads(fact.body)["quotas"]) == 6


def test_a_capacity_below_what_is_taken_is_refused_as_a_whole(cast: Cast, shop: Shop) -> None:
    slot = shop.slot(shop.museum, 9)
    cart_create(
        institution=shop.institution, request=CartRequest(slot.pk, [Item("FULL", 5)]), owner=None, who="t"
    )
    edit = CapacityEdit(
        kind="slot", first_day=shop.day, last_day=shop.day, capacity=4, entrance="PYR", product="MUSEE"
    )
    with pytest.raises(InvalidInput) as refused:
        capacity_set(actor=cast.ticketing_manager_a.actor, edit=edit)
    assert refused.value.field == "capacity" and refused.value.code == "below_taken"
    assert not Quota.objects.filter(capacity=4).exists(), "nothing half-written"


def test_only_ticketing_managers_edit_capacities(cast: Cast, shop: Shop) -> None:
    edit = CapacityEdit(kind="slot", first_day=shop.day, last_day=shop.day, capacity=4)
    with pytest.raises(PermissionDenied):
        capacity_set(actor=cast.gate_agent_a.actor, edit=edit)
