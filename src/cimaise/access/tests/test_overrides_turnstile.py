"""Groups, staff overrides and turnstile feedback (issue 7 items 1 and 4): a group code admits its
party once; an override needs a reason and is logged with the operator; "not passed" cancels an
entry so the code may be used again; passage counts are recorded once per nonce."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import transaction

from cimaise.access.models import Entry, EntryCancellation, Passage
from cimaise.access.services import entry_not_passed, entry_override
from cimaise.access.tests.conftest import Gate, nonce
from cimaise.access.tests.test_scans import IN_TIME, scan
from cimaise.access.turnstile import PassageReport, passages_report
from cimaise.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from cimaise.core.roles import Role
from cimaise.core.tests.personas import Cast, make_persona
from cimaise.ledger.models import Fact
from cimaise.ticketing.models import Tariff
from cimaise.ticketing.services import CartRequest, Item, cart_create
from cimaise.ticketing.tests.ticket_factories import T0, make_paid_order, slot_for
from cimaise.ticketing.tickets import tickets_issue


def group_ticket(gate: Gate, size: int = 12) -> str:
    group = Tariff.objects.create(
        product=gate.catalogue.product, code="GROUP", price=Decimal("150.00"), party_size=size
    )
    gate.catalogue.tariffs["group"] = group
    order = make_paid_order(gate.catalogue, slot_for(gate.catalogue, T0), lines=[("group", 1)])
    with transaction.atomic():
        (ticket,) = tickets_issue(order=order, actor="system:test", now=T0 - dt.timedelta(days=3))
    return ticket.code


# --- groups ------------------------------------------------------------------------------------


def test_a_group_code_admits_its_party_once(cast: Cast, gate: Gate) -> None:
    code = group_ticket(gate, 12)
    first = scan(cast, code)
    assert (first.result, first.reason, first.people) == ("accepted", "ok", 12)
    assert first.ticket is not None and first.ticket["party_size"] == 12
    assert Entry.objects.get(nonce__isnull=False, people=12).people == 12
    again = scan(cast, code, lane="L2")
    assert (again.result, again.reason) == ("rejected", "already_used")


def test_a_group_ticket_takes_a_place_per_person_and_the_order_limit_counts_people(
    cast: Cast, gate: Gate
) -> None:
    group = Tariff.objects.create(
        product=gate.catalogue.product, code="GRP5", price=Decimal("60"), party_size=5
    )
    slot = slot_for(
        gate.catalogue, dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) + dt.timedelta(days=1)
    )
    cart = cart_create(
        institution=cast.institution_a,
        request=CartRequest(slot=slot.pk, items=[Item(group.code, 2)], channel="desk"),
        owner=None,
        who="system:test",
    )
    assert cart.quantity == 10
    slot.own_quota.refresh_from_db()
    assert slot.own_quota.taken == 10
    gate.catalogue.product.max_per_order = 9
    gate.catalogue.product.save()
    with pytest.raises(InvalidInput) as refused:
        cart_create(
            institution=cast.institution_a,
            request=CartRequest(slot=slot.pk, items=[Item(group.code, 2)], channel="desk"),
            owner=None,
            who="system:test",
        )
    assert refused.value.details == {"field": "items"}


def test_a_party_size_outside_1_to_255_is_refused_by_the_database(gate: Gate) -> None:
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), transaction.atomic():
        Tariff.objects.create(product=gate.catalogue.product, code="HUGE", price=Decimal("1"), party_size=256)


# --- overrides ---------------------------------------------------------------------------------


def override(cast: Cast, **changes: object) -> object:
    args: dict[str, object] = {
        "actor": cast.gate_agent_a.actor,
        "entrance": "PYR",
        "lane": "L2",
        "reason": "phone battery dead, order shown by e-mail",
        "people": 1,
        "nonce": nonce(),
        "scanned_at": IN_TIME,
        "now": IN_TIME,
        **changes,
    }
    return entry_override(**args)  # type: ignore[arg-type]


def test_an_override_lets_people_in_with_the_reason_and_the_operator(cast: Cast, gate: Gate) -> None:
    answer = override(cast, people=3)
    entry = Entry.objects.get(pk=answer.entry_id)  # type: ignore[attr-defined]
    assert (entry.result, entry.reason, entry.source, entry.people) == ("accepted", "override", "override", 3)
    assert entry.override_reason == "phone battery dead, order shown by e-mail"
    assert entry.operator == "user:gate-agent-a" and entry.code_id == ""
    fact = Fact.objects.get(type="access.entry.accepted")
    body = json.loads(fact.body)
    assert body["override_reason"] == entry.override_reason and body["source"] == "override"


def test_an_override_with_a_code_uses_the_code(cast: Cast, gate: Gate) -> None:
    late = IN_TIME + dt.timedelta(hours=2)
    assert scan(cast, gate.ticket.code, now=late).reason == "too_late"
    override(cast, code=gate.ticket.code, now=late, scanned_at=late)
    assert scan(cast, gate.ticket.code, now=late + dt.timedelta(minutes=1)).reason == "already_used"


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"reason": " x "}, "reason"), ({"reason": "y" * 501}, "reason"), ({"people": 0}, "people"),
     ({"people": 256}, "people"), ({"lane": "NOPE"}, "lane"), ({"nonce": ""}, "nonce")],
)  # fmt: skip
def test_a_bad_override_names_the_field_and_writes_nothing(
    cast: Cast, gate: Gate, changes: dict[str, object], field: str
) -> None:
    with pytest.raises((InvalidInput, NotFound)) as refused:
        override(cast, **changes)
    assert refused.value.details == {"field": field}
    assert not Entry.objects.exists()


def test_only_gate_staff_override(cast: Cast, gate: Gate) -> None:
    with pytest.raises(PermissionDenied):
        override(cast, actor=cast.ticketing_manager_a.actor)
    supervisor = make_persona("gate-super", cast.institution_a, [Role.GATE_SUPERVISOR], cast.site_a)
    assert override(cast, actor=supervisor.actor).reason == "override"  # type: ignore[attr-defined]


def test_an_override_resent_with_its_nonce_is_recorded_once(cast: Cast, gate: Gate) -> None:
    same = nonce()
    first = override(cast, nonce=same)
    again = override(cast, nonce=same)
    assert again.replayed and again.entry_id == first.entry_id  # type: ignore[attr-defined]
    assert Entry.objects.count() == 1


# --- not passed --------------------------------------------------------------------------------


def test_not_passed_cancels_the_entry_and_the_code_may_be_used_again(cast: Cast, gate: Gate) -> None:
    first_nonce = nonce()
    assert scan(cast, gate.ticket.code, nonce_=first_nonce).reason == "ok"
    done = entry_not_passed(
        actor=cast.gate_agent_a.actor, entrance="PYR", lane="L1", nonce=first_nonce, now=IN_TIME
    )
    assert not done.replayed
    entry = Entry.objects.get(nonce=first_nonce)
    assert entry.cancelled_at == IN_TIME and EntryCancellation.objects.get().entry == entry
    assert Fact.objects.filter(type="access.entry.cancelled").count() == 1
    assert scan(cast, gate.ticket.code, now=IN_TIME + dt.timedelta(minutes=1)).reason == "ok"
    again = entry_not_passed(actor=cast.gate_agent_a.actor, entrance="PYR", lane="L1", nonce=first_nonce)
    assert again.replayed and EntryCancellation.objects.count() == 1


def test_not_passed_for_a_refused_or_unknown_scan_or_another_lane_is_refused(cast: Cast, gate: Gate) -> None:
    refused = nonce()
    scan(cast, "garbage", nonce_=refused)
    with pytest.raises(Conflict):
        entry_not_passed(actor=cast.gate_agent_a.actor, entrance="PYR", lane="L1", nonce=refused)
    with pytest.raises(NotFound) as unknown:
        entry_not_passed(actor=cast.gate_agent_a.actor, entrance="PYR", lane="L1", nonce="never-sent")
    assert unknown.value.details == {"field": "nonce"}
    accepted = nonce()
    scan(cast, gate.ticket.code, nonce_=accepted)
    with pytest.raises(InvalidInput) as other_lane:
        entry_not_passed(actor=cast.gate_agent_a.actor, entrance="PYR", lane="L2", nonce=accepted)
    assert other_lane.value.details == {"field": "lane"}
    assert not EntryCancellation.objects.exists()


# --- passages ----------------------------------------------------------------------------------


def report(**changes: object) -> PassageReport:
    values: dict[str, object] = {
        "entrance": "PYR",
        "lane": "L1",
        "direction": "in",
        "count": 14,
        "period_start": T0,
        "period_end": T0 + dt.timedelta(minutes=5),
        "nonce": "tick-1",
        "operator": "user:marie",
        **changes,
    }
    return PassageReport(**values)  # type: ignore[arg-type]


def test_passage_counts_are_recorded_once_per_nonce(cast: Cast, gate: Gate) -> None:
    passage, replayed = passages_report(actor=cast.gate_agent_a.actor, report=report(), now=T0)
    assert not replayed and (passage.count, passage.operator, passage.lane) == (14, "user:marie", gate.lane_1)
    again, replayed = passages_report(actor=cast.gate_agent_a.actor, report=report(count=99), now=T0)
    assert replayed and again.pk == passage.pk and Passage.objects.get().count == 14
    assert Fact.objects.filter(type="access.passages.counted").count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"count": -1}, "count"), ({"count": 10_001}, "count"), ({"direction": "up"}, "direction"),
     ({"period_end": T0}, "period_end"), ({"period_end": T0 + dt.timedelta(hours=2)}, "period_end"),
     ({"period_start": T0.replace(tzinfo=None)}, "period_start"), ({"nonce": ""}, "nonce"),
     ({"lane": "X9"}, "lane"), ({"entrance": "NOPE"}, "entrance")],
)  # fmt: skip
def test_a_bad_passage_report_names_the_field(
    cast: Cast, gate: Gate, changes: dict[str, object], field: str
) -> None:
    with pytest.raises((InvalidInput, NotFound)) as refused:
        passages_report(actor=cast.gate_agent_a.actor, report=report(**changes), now=T0)
    assert refused.value.details == {"field": field}
    assert not Passage.objects.exists()


# --- through the API ---------------------------------------------------------------------------


def test_the_api_takes_overrides_not_passed_and_passages(cast: Cast) -> None:
    from cimaise.access.tests.test_scans_api import body, current_gate, post

    gate = current_gate(cast)
    client = cast.gate_agent_a.client()
    scanned = body(gate.ticket.code)
    assert post(client, scanned).json()["result"] == "accepted"
    response = client.post(
        "/api/v1/access/not-passed",
        {"entrance": "PYR", "lane": "L1", "nonce": scanned["nonce"]},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["replayed"] is False
    assert post(client, body(gate.ticket.code)).json()["reason"] == "ok"
    now = dt.datetime.now(dt.UTC)
    response = client.post(
        "/api/v1/access/overrides",
        {"entrance": "PYR", "lane": "L2", "reason": "lost ticket, ID checked", "people": 2, "nonce": nonce(),
         "scanned_at": now.isoformat()},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 200 and (response.json()["reason"], response.json()["people"]) == (
        "override",
        2,
    )
    bad = client.post(
        "/api/v1/access/overrides",
        {"entrance": "PYR", "lane": "L2", "reason": "", "nonce": nonce(), "scanned_at": now.isoformat()},
        content_type="application/json",
    )
    assert bad.status_code == 422 and bad.json()["error"]["details"] == {"field": "reason"}
    counted = client.post(
        "/api/v1/access/passages",
        {"entrance": "PYR", "lane": "L1", "direction": "in", "count": 3, "nonce": "t-1",
         "period_start": (now - dt.timedelta(minutes=5)).isoformat(), "period_end": now.isoformat()},
        content_type="application/json",
    )  # fmt: skip
    assert counted.status_code == 200 and counted.json()["replayed"] is False
