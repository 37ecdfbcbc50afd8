"""Fraud signals (issue 7 item 5): each kind found with its exact count and evidence, nothing
found below its threshold, the day respected, and a bounded number of queries however many
entries the day holds."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction

from cimaise.access import fraud
from cimaise.access.models import Entry, EntryRule
from cimaise.access.services import entry_not_passed, entry_override
from cimaise.access.sync import OfflineEntry, entries_upload
from cimaise.access.tests.conftest import Gate, nonce
from cimaise.access.tests.test_scans import scan
from cimaise.access.turnstile import PassageReport, passages_report
from cimaise.core.actors import Actor, actor_for
from cimaise.core.roles import Role
from cimaise.core.tests.personas import Cast, Persona, make_persona
from cimaise.ticketing.models import Ticket
from cimaise.ticketing.tests.ticket_factories import T0, make_paid_order, slot_for
from cimaise.ticketing.tickets import tickets_issue

DAY = T0.date()


@pytest.fixture
def supervisor(cast: Cast) -> Persona:
    return make_persona("gate-supervisor-a", cast.institution_a, [Role.GATE_SUPERVISOR], cast.site_a)


def more_tickets(gate: Gate, n: int) -> list[Ticket]:
    order = make_paid_order(gate.catalogue, slot_for(gate.catalogue, T0), lines=[("full", n)])
    with transaction.atomic():
        return tickets_issue(order=order, actor="system:test", now=T0 - dt.timedelta(days=3))


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def of_kind(kind: str, day: dt.date = DAY) -> list[fraud.Signal]:
    from cimaise.core.models import Institution

    institution = Institution.objects.get(code="louvre")
    return [s for s in fraud.fraud_signals(institution=institution, day=day) if s.kind == kind]


def admit_elsewhere(gate: Gate, **rule: Any) -> None:
    """Richelieu takes the Pyramide's tickets (and whatever else ``rule`` says)."""
    EntryRule.objects.create(entrance=gate.richelieu, admits_other_entrances=True, **rule)


# --- the same code at two entrances ------------------------------------------------------------


def test_a_code_let_in_offline_at_a_second_entrance_is_a_cross_entrance_signal(
    cast: Cast, gate: Gate
) -> None:
    admit_elsewhere(gate)
    online = scan(cast, gate.ticket.code, now=at(5))
    offline = OfflineEntry("ric-1", gate.ticket.code, "R1", "in", at(20), at(20), "ok")
    (uploaded,) = entries_upload(actor=cast.gate_agent_a.actor, entrance="RIC", entries=[offline], now=at(40))
    assert uploaded.central_reason == "already_used"

    (signal,) = of_kind(fraud.CROSS_ENTRANCE)
    assert (signal.severity, signal.entrance, signal.lane, signal.code_id) == (
        "high",
        "RIC",
        "R1",
        gate.ticket.code_id,
    )
    assert [e.entry for e in signal.evidence] == [online.entry_id, uploaded.entry_id]
    assert [(e.entrance, e.lane, e.nonce) for e in signal.evidence][1] == ("RIC", "R1", "ric-1")
    assert signal.when == at(20) and signal.count == 2
    assert "RIC" in signal.summary and "PYR" in signal.summary


def test_codes_let_in_at_two_entrances_are_replayed_against_the_rules(cast: Cast, gate: Gate) -> None:
    admit_elsewhere(gate, entries_per_day=2)
    first = gate.ticket
    scan(cast, first.code, now=at(5))
    assert scan(cast, first.code, entrance="RIC", lane="R1", now=at(10)).reason == "ok"
    assert of_kind(fraud.CROSS_ENTRANCE) == []  # the rule allowed two entries a day

    EntryRule.objects.filter(entrance=gate.richelieu).update(entries_per_day=1)  # it should not have
    (signal,) = of_kind(fraud.CROSS_ENTRANCE)
    assert signal.code_id == first.code_id and signal.entrance == "RIC"
    assert "already_used" in signal.summary
    assert [(e.entrance, e.lane) for e in signal.evidence] == [("PYR", "L1"), ("RIC", "R1")]


def test_a_visitor_back_through_another_entrance_after_an_exit_the_rule_allows_is_no_signal(
    cast: Cast, gate: Gate
) -> None:
    admit_elsewhere(gate, reentry_after_exit=True)
    scan(cast, gate.ticket.code, now=at(5))
    scan(cast, gate.ticket.code, direction="out", now=at(40))
    assert scan(cast, gate.ticket.code, entrance="RIC", lane="R1", now=at(90)).reason == "reentry"
    assert of_kind(fraud.CROSS_ENTRANCE) == []


# --- repeated rejections -----------------------------------------------------------------------


def test_a_code_refused_three_times_is_a_signal_and_twice_is_not(cast: Cast, gate: Gate) -> None:
    often, twice = gate.tickets
    scan(cast, often.code, now=at(5))
    scan(cast, twice.code, now=at(5))
    for minutes in (6, 7, 8):
        scan(cast, often.code, lane="L2", now=at(minutes))
    for minutes in (6, 7):
        scan(cast, twice.code, now=at(minutes))
    scan(cast, "not a code at all", now=at(9))  # forged: no code id, counted elsewhere

    (signal,) = of_kind(fraud.REPEATED_REJECTIONS)
    assert (signal.code_id, signal.count, signal.severity, signal.when) == (often.code_id, 3, "medium", at(6))
    assert [e.lane for e in signal.evidence] == ["L2", "L2", "L2"]
    assert all(e.note.startswith("already_used") for e in signal.evidence)
    assert "already_used ×3" in signal.summary


# --- forged codes ------------------------------------------------------------------------------


def test_five_forged_codes_in_an_hour_at_one_entrance_are_a_burst(cast: Cast, gate: Gate) -> None:
    for minutes in (1, 10, 20, 30, 59):
        scan(cast, f"FAKE-{minutes}", now=at(minutes))
    for minutes in (61, 70, 80, 90):  # four in the next hour
        scan(cast, f"FAKE-{minutes}", lane="L2", now=at(minutes))
    for minutes in (1, 2, 3, 4):  # four at Richelieu
        scan(cast, "FAKE", entrance="RIC", lane="R1", now=at(minutes))

    (signal,) = of_kind(fraud.FORGED_BURST)
    assert (signal.entrance, signal.count, signal.when) == ("PYR", 5, T0)
    assert [e.at for e in signal.evidence] == [at(m) for m in (1, 10, 20, 30, 59)]
    assert "09:00" in signal.summary and "10:00" in signal.summary and "L1 ×5" in signal.summary


# --- overrides ---------------------------------------------------------------------------------


def override(actor: Actor, minutes: float, reason: str = "Phone battery dead", people: int = 1) -> None:
    entry_override(
        actor=actor,
        entrance="PYR",
        lane="L2",
        reason=reason,
        people=people,
        nonce=nonce(),
        scanned_at=at(minutes),
        now=at(minutes),
    )


def test_overrides_are_listed_per_person_and_flagged_above_five(
    cast: Cast, gate: Gate, supervisor: Persona
) -> None:
    agent = cast.gate_agent_a.actor
    with_token = actor_for(agent.user, token_prefix="ab12")
    assert with_token is not None
    for n in range(4):
        override(agent, n, people=2)
    for n in range(2):
        override(with_token, 10 + n, reason="Group leader with the list")
    override(supervisor.actor, 30, reason="Curator's guest")

    busy, quiet = of_kind(fraud.OVERRIDES)
    assert (busy.operator, busy.count, busy.flagged, busy.severity) == (
        "user:gate-agent-a",
        6,
        True,
        "medium",
    )
    assert "10 people" in busy.summary
    assert [e.note for e in busy.evidence][-1] == "1 × «Group leader with the list»"
    assert len(busy.evidence) == 6 and busy.when == at(0)
    assert (quiet.operator, quiet.count, quiet.flagged, quiet.severity) == (
        "user:gate-supervisor-a",
        1,
        False,
        "info",
    )


# --- passages without scans ----------------------------------------------------------------------


def count(
    cast: Cast, lane: str, start: float, end: float, n: int, operator: str, direction: str = "in"
) -> None:
    report = PassageReport("PYR", lane, direction, n, at(start), at(end), nonce(), operator)
    passages_report(actor=cast.gate_agent_a.actor, report=report, now=at(end))


def test_people_counted_beyond_those_admitted_are_held_against_the_operator_on_duty(
    cast: Cast, gate: Gate
) -> None:
    first, second = gate.tickets
    scan(cast, first.code, now=at(5))
    scan(cast, second.code, now=at(6), nonce_="stuck")
    entry_not_passed(actor=cast.gate_agent_a.actor, entrance="PYR", lane="L1", nonce="stuck", now=at(7))
    override(cast.gate_agent_a.actor, 8, people=2)  # at L2: not this lane's
    count(cast, "L1", 0, 15, 6, "user:alice")
    count(cast, "L1", 15, 30, 1, "user:bob")
    count(cast, "L1", 0, 15, 9, "user:alice", direction="out")  # people leaving: not counted
    count(cast, "L2", 0, 15, 2, "user:carol")  # the two let through: no gap
    count(cast, "L1", 60, 75, 1, "")  # an hour with no scan at all; the reporter is on duty

    first_hour, second_hour = of_kind(fraud.PASSAGES_WITHOUT_SCANS)
    assert (first_hour.lane, first_hour.when, first_hour.count, first_hour.operator) == (
        "L1",
        T0,
        6,
        "user:alice",
    )
    assert "7 counted, 1 admitted" in first_hour.summary
    assert [e.note.split(" ")[0] for e in first_hour.evidence] == ["6", "1"]
    assert (second_hour.when, second_hour.count, second_hour.operator) == (at(60), 1, "user:gate-agent-a")


# --- the day, the order, the cost ----------------------------------------------------------------


def a_day_of_everything(cast: Cast, gate: Gate, when: dt.datetime = T0) -> None:
    agent = cast.gate_agent_a.actor
    for n in range(6):
        scan(cast, "FAKE", now=when + dt.timedelta(minutes=n))
        entry_override(
            actor=agent, entrance="PYR", lane="L2", reason="a reason", people=1, nonce=nonce(),
            scanned_at=when, now=when + dt.timedelta(minutes=n),
        )  # fmt: skip


def test_signals_come_kind_by_kind_and_only_for_the_day_asked(cast: Cast, gate: Gate) -> None:
    a_day_of_everything(cast, gate)
    scan(cast, gate.ticket.code, now=at(5))
    for minutes in (6, 7, 8):
        scan(cast, gate.ticket.code, now=at(minutes))
    count(cast, "L1", 0, 15, 3, "user:alice")

    kinds = [s.kind for s in of_kind(fraud.FORGED_BURST) + of_kind(fraud.OVERRIDES)]
    assert kinds == ["forged_burst", "overrides"]
    institution = cast.institution_a
    every = fraud.fraud_signals(institution=institution, day=DAY)
    assert [s.kind for s in every] == [
        "repeated_rejections",
        "forged_burst",
        "overrides",
        "passages_without_scans",
    ]
    assert fraud.fraud_signals(institution=institution, day=DAY + dt.timedelta(days=1)) == []
    assert fraud.fraud_signals(institution=cast.institution_b, day=DAY) == []
    grouped = fraud.signals_by_kind(every)
    assert list(grouped) == list(fraud.KINDS) and grouped["cross_entrance"] == []


def test_the_day_is_the_paris_day(cast: Cast, gate: Gate) -> None:
    late = dt.datetime(2019, 10, 24, 21, 30, tzinfo=dt.UTC)  # 23:30 in Paris, still the 24th
    a_day_of_everything(cast, gate, late)
    assert len(of_kind(fraud.OVERRIDES, DAY)) == 1
    assert of_kind(fraud.OVERRIDES, DAY + dt.timedelta(days=1)) == []
    (burst,) = of_kind(fraud.FORGED_BURST, DAY)
    assert burst.when == dt.datetime(2019, 10, 24, 23, 0, tzinfo=fraud.PARIS)


def test_the_queries_do_not_grow_with_the_entries(
    cast: Cast, gate: Gate, django_assert_max_num_queries: Any
) -> None:
    a_day_of_everything(cast, gate)
    template = Entry.objects.filter(reason="forged").first()
    assert template is not None
    rows = []
    for n in range(2000):  # a busy day's ordinary entries, written directly
        rows.append(
            Entry(
                institution=template.institution, entrance=template.entrance, lane=template.lane,
                code_id=f"{n:032x}", direction="in", nonce=f"bulk-{n}", scanned_at=at(n % 600 / 10),
                recorded_at=at(n % 600 / 10), operator="user:x", result="accepted", reason="ok",
            )
        )  # fmt: skip
    Entry.objects.bulk_create(rows)
    count(cast, "L1", 0, 15, 3000, "user:alice")
    with django_assert_max_num_queries(16):
        signals = fraud.fraud_signals(institution=cast.institution_a, day=DAY)
    assert {s.kind for s in signals} == {"forged_burst", "overrides", "passages_without_scans"}
