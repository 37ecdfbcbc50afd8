"""The waiting room on PostgreSQL, under concurrency: visitors joining at the same instant get
distinct, gap-free arrival numbers and ranks; the draw of the early ones happens once even when
the first requests after the opening race; a poll never waits for the room's lock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

import pytest
from django.db import transaction

from cimaise.core.tests.concurrency import all_succeed
from cimaise.core.tests.personas import make_cast
from cimaise.ticketing.models import QueueEntry, WaitingRoom
from cimaise.ticketing.waiting import Status, entry_status, room_join

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

T0 = dt.datetime(2019, 6, 5, 8, 0, tzinfo=dt.UTC)


def make_room(**fields: object) -> WaitingRoom:
    cast = make_cast()
    values: dict[str, object] = {
        "code": "leonard",
        "active": True,
        "opens_at": T0,
        "rate_per_minute": 60,
        "burst": 5,
    }
    values.update(fields)
    return WaitingRoom.objects.create(institution=cast.institution_a, **values)


def test_fifty_visitors_joining_at_once_get_distinct_gap_free_places() -> None:
    room = make_room()
    at = T0 + dt.timedelta(minutes=1)
    entries = all_succeed([lambda: room_join(room=room, now=at) for _ in range(50)])
    rows = list(QueueEntry.objects.filter(room=room).order_by("seq"))
    assert [r.seq for r in rows] == list(range(1, 51))
    assert [r.rank for r in rows] == list(range(1, 51))
    assert {e.pk for e in entries} == {r.pk for r in rows}
    state = WaitingRoom.objects.get(pk=room.pk)
    assert state.arrivals == 50
    assert state.admitted == 5  # the burst: a crowd after a quiet spell is let in five at once
    assert sorted(r.rank or 0 for r in rows if r.admitted_at is not None) == [1, 2, 3, 4, 5]


def test_the_early_ones_are_drawn_once_when_the_first_requests_after_the_opening_race() -> None:
    room = make_room()
    early = [room_join(room=room, now=T0 - dt.timedelta(minutes=30 - i)) for i in range(25)]
    at = T0 + dt.timedelta(seconds=2)
    joins: list[Callable[[], QueueEntry | Status]] = [lambda: room_join(room=room, now=at) for _ in range(25)]
    polls: list[Callable[[], QueueEntry | Status]] = [partial(entry_status, entry=e, now=at) for e in early]
    all_succeed(joins + polls)
    rows = list(QueueEntry.objects.filter(room=room).order_by("seq"))
    assert sorted(r.rank for r in rows if r.rank is not None) == list(range(1, 51))
    assert sorted(r.rank for r in rows if r.early and r.rank is not None) == list(range(1, 26))
    assert [r.rank for r in rows if not r.early] == list(range(26, 51))
    state = WaitingRoom.objects.get(pk=room.pk)
    assert state.early_ranked and state.admitted <= 2


def test_a_poll_does_not_wait_for_the_rooms_lock() -> None:
    room = make_room()
    early = [room_join(room=room, now=T0 - dt.timedelta(minutes=1)) for _ in range(10)]
    at = T0 + dt.timedelta(seconds=3)
    with transaction.atomic():
        WaitingRoom.objects.select_for_update().get(pk=room.pk)  # a join holding the room
        seen = all_succeed([partial(entry_status, entry=e, now=at) for e in early])
    assert all(s.rank is None and not s.admitted for s in seen)  # the draw waits for the next poll
    after = entry_status(entry=early[0], now=at)
    assert after.rank is not None
    assert WaitingRoom.objects.get(pk=room.pk).admitted == 3
