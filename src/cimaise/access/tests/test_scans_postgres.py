"""The same code at two lanes at the same instant, on PostgreSQL: exactly one is let in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from cimaise.access.models import Entry
from cimaise.access.services import ScanResult, scan_validate
from cimaise.access.tests.conftest import make_gate
from cimaise.core.actors import Actor
from cimaise.core.tests.concurrency import at_once
from cimaise.core.tests.personas import make_cast
from cimaise.ledger.models import Fact
from cimaise.ledger.verify import ledger_verify
from cimaise.ticketing.tests.ticket_factories import T0

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
NOW = T0 + dt.timedelta(minutes=3)


def lane_scan(actor: Actor, code: str, lane: str, nonce: str) -> Callable[[], ScanResult]:
    return lambda: scan_validate(
        actor=actor,
        code=code,
        entrance="PYR",
        lane=lane,
        direction="in",
        nonce=nonce,
        scanned_at=NOW,
        now=NOW,
    )


def test_two_lanes_scanning_one_code_at_once_accept_it_once() -> None:
    cast = make_cast()
    gate = make_gate(cast)
    actor = cast.gate_agent_a.actor
    for round_ in range(5):
        code = gate.tickets[round_ % 2].code if round_ < 2 else gate.tickets[0].code
        jobs = [
            lane_scan(actor, code, lane, f"r{round_}-{lane}-{i}") for i in range(4) for lane in ("L1", "L2")
        ]
        results, errors = at_once(jobs)
        assert not errors, errors
        accepted = [r for r in results if r.accepted]
        assert len(accepted) == (1 if round_ < 2 else 0), [r.reason for r in results]
        assert {r.reason for r in results} <= {"ok", "already_used"}
    assert Entry.objects.filter(result="accepted").count() == 2
    assert Fact.objects.filter(type="access.entry.accepted").count() == 2
    assert ledger_verify().ok


def test_the_same_nonce_sent_at_once_is_recorded_once() -> None:
    cast = make_cast()
    gate = make_gate(cast)
    actor = cast.gate_agent_a.actor
    jobs = [lane_scan(actor, gate.ticket.code, "L1", "same") for _ in range(6)]
    jobs += [lane_scan(actor, "junk", "L2", "junk-nonce") for _ in range(6)]
    results, errors = at_once(jobs)
    assert not errors, errors
    assert Entry.objects.count() == 2
    assert sorted({(r.result, r.reason) for r in results}) == [("accepted", "ok"), ("rejected", "forged")]
    assert Fact.objects.filter(type__startswith="access.").count() == 2
