"""Custody on PostgreSQL: concurrent resends of one document record it once, without an error;
concurrent handhelds capturing different works all land."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cimaise.core.tests.concurrency import all_succeed
from cimaise.core.tests.personas import make_cast
from cimaise.ledger.verify import ledger_verify
from cimaise.moves.models import CustodyEvent, ObjectState, Status
from cimaise.moves.services import CaptureResult, custody_capture
from cimaise.moves.tests.factories import full_journey, make_transfer, object_event, place

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_resends_of_one_document_record_it_once() -> None:
    cast = make_cast()
    transfer = make_transfer(cast)
    journey = full_journey(transfer)
    actor = cast.registrar_a.actor
    results = all_succeed([lambda: custody_capture(actor=actor, payload=journey) for _ in range(4)])
    assert sorted(r.recorded for r in results) == [0, 0, 0, 11]
    assert len({tuple(r.event_ids) for r in results}) == 1
    assert CustodyEvent.objects.count() == 11
    assert ObjectState.objects.get(uri=transfer.work(0)).status == Status.STORED
    assert ledger_verify().ok


def test_concurrent_handhelds_shelving_different_works_all_land() -> None:
    cast = make_cast()
    transfer = make_transfer(cast, works=8)
    actor = cast.registrar_a.actor

    def shelve(n: int) -> Callable[[], CaptureResult]:
        event = object_event([transfer.work(n)], "storing", n, bizLocation=place(transfer.ccl_shelf))
        return lambda: custody_capture(actor=actor, payload=[event])

    results = all_succeed([shelve(n) for n in range(8)])
    assert all(r.recorded == 1 for r in results)
    stored = ObjectState.objects.filter(place=transfer.ccl_shelf, status=Status.STORED).count()
    assert stored == 8
