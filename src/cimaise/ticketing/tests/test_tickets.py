"""Issuing, revoking and reissuing e-tickets: one signed code a place of a paid order, each
revocation a row the entrance agents sync, each change a new code, and a fact for every step."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from cimaise.core.errors import Conflict, InvalidInput
from cimaise.core.tests.personas import Cast
from cimaise.ledger.models import Fact
from cimaise.ticketing.codes import ForgedCode, code_verify
from cimaise.ticketing.models import Order, Revocation, Ticket
from cimaise.ticketing.tests.ticket_factories import (
    T0,
    Catalogue,
    make_catalogue,
    make_paid_order,
    make_slot,
)
from cimaise.ticketing.tickets import public_keys, ticket_reissue, tickets_issue, tickets_revoke

NOW = T0 - dt.timedelta(days=20)
ACTOR = "user:ticketing-a"


@pytest.fixture
def catalogue(cast: Cast) -> Catalogue:
    return make_catalogue(cast.institution_a, cast.site_a)


@pytest.fixture
def order(catalogue: Catalogue) -> Order:
    return make_paid_order(catalogue, make_slot(catalogue), lines=[("full", 2), ("reduced", 1), ("free", 1)])


def facts(kind: str) -> list[Fact]:
    return list(Fact.objects.filter(type=kind).order_by("id"))


def test_a_paid_order_gets_one_signed_ticket_a_place(order: Order, catalogue: Catalogue) -> None:
    tickets = tickets_issue(order=order, actor=ACTOR, now=NOW)
    assert [(t.tariff.code, t.price) for t in tickets] == [
        ("FULL", Decimal("17.00")),
        ("FULL", Decimal("17.00")),
        ("RED", Decimal("11.00")),
        ("U26", Decimal("0.00")),
    ]
    assert {t.slot_id for t in tickets} == {order.slot_id} and {t.state for t in tickets} == {"valid"}
    assert len({t.code_id for t in tickets}) == 4 and all(t.issued_at == NOW for t in tickets)
    keys = public_keys(institution=catalogue.institution)
    payloads = [code_verify(t.code, keys) for t in tickets]
    assert [p.code_id for p in payloads] == [t.code_id for t in tickets]
    assert {(p.product_id, p.entrance_id, p.starts_at, p.window_minutes) for p in payloads} == {
        (catalogue.product.pk, catalogue.entrance.pk, T0, 30)
    }
    assert [p.proof_required for p in payloads] == [False, False, False, True]
    assert [p.tariff_id for p in payloads][-1] == catalogue.tariffs["free"].pk


def test_issuing_records_one_fact_naming_every_code_but_never_the_code_itself(order: Order) -> None:
    tickets = tickets_issue(order=order, actor=ACTOR, now=NOW)
    (fact,) = facts("ticketing.tickets.issued")
    assert fact.actor == ACTOR and fact.stream == f"ticketing.order:louvre:{order.code}"
    assert fact.institution_id == order.institution_id and fact.occurred_at == NOW
    for ticket in tickets:
        assert ticket.code_id in fact.body and ticket.code not in fact.body


def test_issuing_again_returns_the_same_tickets_and_writes_nothing(order: Order) -> None:
    first = tickets_issue(order=order, actor=ACTOR, now=NOW)
    again = tickets_issue(order=order, actor=ACTOR, now=NOW + dt.timedelta(minutes=1))
    assert [t.pk for t in again] == [t.pk for t in first]
    assert Ticket.objects.count() == 4 and len(facts("ticketing.tickets.issued")) == 1


def test_an_unpaid_order_gets_no_ticket(order: Order) -> None:
    Order.objects.filter(pk=order.pk).update(state=Order.State.AWAITING_PAYMENT)
    with pytest.raises(Conflict) as caught:
        tickets_issue(order=order, actor=ACTOR, now=NOW)
    assert caught.value.code == "not_paid" and not Ticket.objects.exists()


def test_cancelling_tickets_revokes_their_codes(order: Order) -> None:
    tickets = tickets_issue(order=order, actor=ACTOR, now=NOW)
    later = NOW + dt.timedelta(days=1)
    tickets_revoke(tickets=tickets[:2], reason="cancelled", actor=ACTOR, now=later)
    states = dict(Ticket.objects.values_list("code_id", "state"))
    assert [states[t.code_id] for t in tickets] == ["cancelled", "cancelled", "valid", "valid"]
    assert Ticket.objects.get(pk=tickets[0].pk).revoked_at == later
    rows = list(
        Revocation.objects.order_by("id").values_list("code_id", "reason", "revoked_at", "institution_id")
    )
    assert rows == [(t.code_id, "cancelled", later, order.institution_id) for t in tickets[:2]]
    (fact,) = facts("ticketing.tickets.revoked")
    assert (
        tickets[0].code_id in fact.body and tickets[2].code_id not in fact.body and '"cancelled"' in fact.body
    )
    assert tickets_issue(order=order, actor=ACTOR, now=later) == tickets[2:]  # only the valid ones


def test_a_code_cannot_be_revoked_twice_and_nothing_is_half_written(order: Order) -> None:
    tickets = tickets_issue(order=order, actor=ACTOR, now=NOW)
    tickets_revoke(tickets=[tickets[0]], reason="cancelled", actor=ACTOR, now=NOW)
    with pytest.raises(Conflict) as caught, transaction.atomic():
        tickets_revoke(tickets=[tickets[1], tickets[0]], reason="cancelled", actor=ACTOR, now=NOW)
    assert caught.value.code == "already_revoked"
    assert Revocation.objects.count() == 1 and Ticket.objects.get(pk=tickets[1].pk).state == "valid"
    assert len(facts("ticketing.tickets.revoked")) == 1


@pytest.mark.parametrize("reason", ["", "   ", "x" * 33])
def test_a_revocation_needs_a_short_reason(order: Order, reason: str) -> None:
    tickets = tickets_issue(order=order, actor=ACTOR, now=NOW)
    with pytest.raises(InvalidInput) as caught:
        tickets_revoke(tickets=tickets, reason=reason, actor=ACTOR, now=NOW)
    assert caught.value.field == "reason" and not Revocation.objects.exists()


def test_revoking_tickets_of_two_orders_records_a_fact_for_each(order: Order, catalogue: Catalogue) -> None:
    other = make_paid_order(catalogue, order.slot, lines=[("full", 1)])
    tickets = tickets_issue(order=order, actor=ACTOR, now=NOW)[:1] + tickets_issue(
        order=other, actor=ACTOR, now=NOW
    )
    tickets_revoke(tickets=tickets, reason="refunded", actor=ACTOR, now=NOW)
    assert {f.stream.rsplit(":", 1)[1] for f in facts("ticketing.tickets.revoked")} == {
        order.code,
        other.code,
    }


def test_changing_a_tickets_slot_revokes_its_code_and_issues_a_new_one(
    order: Order, catalogue: Catalogue
) -> None:
    old = tickets_issue(order=order, actor=ACTOR, now=NOW)[0]
    later_slot = make_slot(catalogue, T0 + dt.timedelta(hours=2))
    new = ticket_reissue(ticket=old, actor=ACTOR, now=NOW, slot=later_slot)
    old.refresh_from_db()
    assert old.state == "replaced" and old.revoked_at == NOW and new.replaces == old
    assert (new.slot, new.tariff, new.price, new.state) == (later_slot, old.tariff, old.price, "valid")
    assert new.code_id != old.code_id
    revocation = Revocation.objects.get()
    assert (revocation.code_id, revocation.reason) == (old.code_id, "replaced")
    payload = code_verify(new.code, public_keys(institution=catalogue.institution))
    assert payload.starts_at == T0 + dt.timedelta(hours=2) and payload.code_id == new.code_id
    (fact,) = facts("ticketing.ticket.reissued")
    assert old.code_id in fact.body and new.code_id in fact.body and new.code not in fact.body


def test_changing_a_tickets_tariff_takes_the_new_price(order: Order, catalogue: Catalogue) -> None:
    old = tickets_issue(order=order, actor=ACTOR, now=NOW)[0]
    new = ticket_reissue(ticket=old, actor=ACTOR, now=NOW, tariff=catalogue.tariffs["free"])
    assert (new.tariff.code, new.price) == ("U26", Decimal("0.00"))
    assert code_verify(new.code, public_keys(institution=catalogue.institution)).proof_required


def test_reissuing_without_a_change_gives_a_fresh_code_the_old_one_being_revoked(order: Order) -> None:
    old = tickets_issue(order=order, actor=ACTOR, now=NOW)[0]
    new = ticket_reissue(ticket=old, actor=ACTOR, now=NOW)
    assert new.code != old.code and Revocation.objects.filter(code_id=old.code_id).exists()
    with pytest.raises(Conflict) as caught:
        ticket_reissue(ticket=old, actor=ACTOR, now=NOW)
    assert caught.value.code == "already_revoked"


def test_a_ticket_cannot_move_to_a_tariff_of_another_product_or_another_institutions_slot(
    order: Order, cast: Cast
) -> None:
    old = tickets_issue(order=order, actor=ACTOR, now=NOW)[0]
    theirs = make_catalogue(cast.institution_b, cast.site_b)
    with pytest.raises(InvalidInput) as caught:
        ticket_reissue(ticket=old, actor=ACTOR, now=NOW, tariff=theirs.tariffs["full"])
    assert caught.value.field == "tariff"
    with pytest.raises(InvalidInput) as caught:
        ticket_reissue(ticket=old, actor=ACTOR, now=NOW, slot=make_slot(theirs))
    assert caught.value.field == "slot"
    assert not Revocation.objects.exists() and Ticket.objects.get(pk=old.pk).state == "valid"


def test_a_revoked_code_still_verifies_its_signature_revocation_is_the_feeds_job(order: Order) -> None:
    ticket = tickets_issue(order=order, actor=ACTOR, now=NOW)[0]
    tickets_revoke(tickets=[ticket], reason="cancelled", actor=ACTOR, now=NOW)
    keys = public_keys(institution=order.institution)
    assert code_verify(ticket.code, keys).code_id == ticket.code_id
    with pytest.raises(ForgedCode):
        code_verify(ticket.code.replace(ticket.code[20], "0" if ticket.code[20] != "0" else "1"), keys)
