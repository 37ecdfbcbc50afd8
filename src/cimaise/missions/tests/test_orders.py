"""The validation chain (line manager, then budget manager), its permissions, refusal back to the
agent, permanent orders, the facts and the e-mails of each step."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail

from cimaise.core.errors import Conflict, InvalidInput, PermissionDenied
from cimaise.core.roles import Role
from cimaise.core.tests.personas import make_persona
from cimaise.ledger.models import Fact
from cimaise.ledger.verify import ledger_verify
from cimaise.missions import orders
from cimaise.missions.models import MissionOrder, OrderStatus
from cimaise.missions.tests.conftest import MONDAY, Crew, at, trip

pytestmark = pytest.mark.django_db(transaction=False)


def filed(crew: Crew, **changes: object) -> MissionOrder:
    travellers = changes.pop("travellers", [crew.agent.username])
    return orders.order_file(actor=crew.agent.actor, request=trip(travellers, **changes))  # type: ignore[arg-type]


def test_an_order_goes_line_manager_then_budget_manager_each_step_a_fact(crew: Crew) -> None:
    order = filed(crew)
    assert order.code == "OM-2026-00001" and order.status == OrderStatus.SUBMITTED
    orders.order_approve(actor=crew.approver.actor, code=order.code, comment="Bon pour mission")
    done = orders.order_approve(actor=crew.budget.actor, code=order.code, comment="Crédits OK")
    assert done.status == OrderStatus.APPROVED
    steps = [(s.kind, s.by.user.username, s.comment) for s in done.steps.all()]
    assert steps == [
        ("submitted", "registrar-a", ""),
        ("manager-approved", "approver-a", "Bon pour mission"),
        ("budget-approved", "budget-a", "Crédits OK"),
    ]
    stream = Fact.objects.filter(stream="missions.order:louvre:OM-2026-00001").order_by("seq")
    assert [f.type for f in stream] == [
        "missions.order.filed",
        "missions.order.submitted",
        "missions.order.approved",
        "missions.order.approved",
    ]
    assert ledger_verify().ok


def test_the_budget_manager_cannot_approve_before_the_line_manager(crew: Crew) -> None:
    order = filed(crew)
    with pytest.raises(PermissionDenied):
        orders.order_approve(actor=crew.budget.actor, code=order.code)
    assert MissionOrder.objects.get(pk=order.pk).status == OrderStatus.SUBMITTED


def test_only_the_agents_line_manager_approves_the_first_step(crew: Crew) -> None:
    other = make_persona("approver-b", crew.cast.institution_a, [Role.APPROVER], crew.cast.site_a)
    order = filed(crew)
    with pytest.raises(PermissionDenied) as caught:
        orders.order_approve(actor=other.actor, code=order.code)
    assert caught.value.code == "not_line_manager"


def test_nobody_validates_their_own_order_even_holding_both_roles(crew: Crew) -> None:
    boss = make_persona(
        "boss", crew.cast.institution_a, [Role.APPROVER, Role.BUDGET_MANAGER], crew.cast.site_a
    )
    own = orders.order_file(actor=boss.actor, request=trip(["boss"]))
    with pytest.raises(PermissionDenied) as caught:
        orders.order_approve(actor=boss.actor, code=own.code)
    assert caught.value.code == "own_order"
    travelling = filed(crew, travellers=[crew.agent.username, "approver-a"])
    with pytest.raises(PermissionDenied) as caught:
        orders.order_approve(actor=crew.approver.actor, code=travelling.code)
    assert caught.value.code == "own_order"
    assert MissionOrder.objects.get(pk=travelling.pk).status == OrderStatus.SUBMITTED


def test_a_gate_agent_cannot_approve(crew: Crew) -> None:
    order = filed(crew)
    with pytest.raises(PermissionDenied):
        orders.order_approve(actor=crew.cast.gate_agent_a.actor, code=order.code)


def test_a_refusal_returns_the_order_to_the_agent_who_changes_and_resubmits_it(crew: Crew) -> None:
    order = filed(crew)
    orders.order_approve(actor=crew.approver.actor, code=order.code)
    with pytest.raises(InvalidInput) as caught:
        orders.order_refuse(actor=crew.budget.actor, code=order.code, comment="  ")
    assert caught.value.field == "comment"
    back = orders.order_refuse(actor=crew.budget.actor, code=order.code, comment="Prenez la navette")
    assert back.status == OrderStatus.RETURNED
    with pytest.raises(Conflict):
        orders.order_approve(actor=crew.approver.actor, code=order.code)
    again = orders.order_update(
        actor=crew.agent.actor, code=order.code, request=trip([crew.agent.username], transport="shuttle")
    )
    assert (again.status, again.transport) == (OrderStatus.SUBMITTED, "shuttle")
    assert [s.kind for s in again.steps.all()] == ["submitted", "manager-approved", "refused", "submitted"]


def test_someone_else_cannot_change_the_agents_order(crew: Crew) -> None:
    order = filed(crew)
    orders.order_refuse(actor=crew.approver.actor, code=order.code, comment="Dates?")
    with pytest.raises(PermissionDenied):
        orders.order_update(
            actor=crew.colleague.actor, code=order.code, request=trip([crew.colleague.username])
        )


def test_decisions_are_emailed_to_the_agent_and_the_next_validator(
    crew: Crew, django_capture_on_commit_callbacks: Any
) -> None:
    crew.approver.person.user.email = "approver@example.org"
    crew.approver.person.user.save()
    crew.budget.person.user.email = "budget@example.org"
    crew.budget.person.user.save()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        with_commit = filed(crew)
    assert [m.to for m in mail.outbox] == [["approver@example.org"]]
    with django_capture_on_commit_callbacks(execute=True):
        orders.order_approve(actor=crew.approver.actor, code=with_commit.code)
    with django_capture_on_commit_callbacks(execute=True):
        orders.order_refuse(actor=crew.budget.actor, code=with_commit.code, comment="Budget épuisé")
    recipients = [m.to[0] for m in mail.outbox]
    assert recipients == [
        "approver@example.org",
        "registrar-a@example.org",
        "budget@example.org",
        "registrar-a@example.org",
    ]
    assert with_commit.code in mail.outbox[-1].subject
    assert "Budget épuisé" in mail.outbox[-1].body


def test_bad_input_names_the_field_and_writes_nothing(crew: Crew) -> None:
    cases: dict[str, dict[str, Any]] = {
        "ends_at": {"ends_at": at(MONDAY, 7)},
        "car_authorisation": {"transport": "car"},
        "destination": {"destination": "NOWHERE"},
        "convoy": {"convoy": "CV-404"},
        "travellers": {"travellers": ["ghost"]},
        "purpose": {"purpose": "holiday"},
        "valid_until": {"permanent": True},
    }
    for field, change in cases.items():
        with pytest.raises(InvalidInput) as caught:
            filed(crew, **change)
        assert caught.value.field == field, field
    assert MissionOrder.objects.count() == 0
    assert Fact.objects.filter(type__startswith="missions.").count() == 0


def test_a_car_with_its_authorisation_is_accepted(crew: Crew) -> None:
    order = filed(crew, transport="car", car_authorisation="AUT-2026-7")
    assert order.car_authorisation == "AUT-2026-7"


def test_a_permanent_order_covers_trips_within_its_validity(crew: Crew) -> None:
    permanent = filed(crew, permanent=True, valid_from=MONDAY, valid_until=MONDAY + dt.timedelta(days=90))
    with pytest.raises(Conflict):
        orders.trip_record(
            actor=crew.agent.actor,
            code=permanent.code,
            starts_at=at(MONDAY, 7),
            ends_at=at(MONDAY, 19),
            transport="shuttle",
        )
    orders.order_approve(actor=crew.approver.actor, code=permanent.code)
    orders.order_approve(actor=crew.budget.actor, code=permanent.code)
    tuesday = MONDAY + dt.timedelta(days=8)
    trip_order = orders.trip_record(
        actor=crew.agent.actor,
        code=permanent.code,
        starts_at=at(tuesday, 7),
        ends_at=at(tuesday, 19),
        transport="shuttle",
    )
    assert (trip_order.status, trip_order.parent, trip_order.zones) == (
        OrderStatus.APPROVED,
        permanent,
        ["réserve 3"],
    )
    with pytest.raises(InvalidInput) as caught:
        late = MONDAY + dt.timedelta(days=120)
        orders.trip_record(
            actor=crew.agent.actor,
            code=permanent.code,
            starts_at=at(late, 7),
            ends_at=at(late, 19),
            transport="train",
        )
    assert caught.value.field == "starts_at"
    with pytest.raises(PermissionDenied):
        orders.trip_record(
            actor=crew.colleague.actor,
            code=permanent.code,
            starts_at=at(tuesday, 7),
            ends_at=at(tuesday, 19),
            transport="train",
        )


def test_a_permanent_order_is_for_one_traveller_and_a_year_at_most(crew: Crew) -> None:
    with pytest.raises(InvalidInput) as caught:
        filed(crew, permanent=True, valid_from=MONDAY, valid_until=MONDAY + dt.timedelta(days=400))
    assert caught.value.field == "valid_until"
    with pytest.raises(InvalidInput) as caught:
        filed(
            crew,
            travellers=[crew.agent.username, crew.colleague.username],
            permanent=True,
            valid_from=MONDAY,
            valid_until=MONDAY + dt.timedelta(days=30),
        )
    assert caught.value.field == "travellers"


def test_the_pending_list_shows_each_validator_their_step(crew: Crew) -> None:
    order = filed(crew)
    assert [o.code for o in orders.orders_pending_for(crew.approver.actor)] == [order.code]
    assert orders.orders_pending_for(crew.budget.actor) == []
    orders.order_approve(actor=crew.approver.actor, code=order.code)
    assert orders.orders_pending_for(crew.approver.actor) == []
    assert [o.code for o in orders.orders_pending_for(crew.budget.actor)] == [order.code]


def test_an_order_is_linked_to_its_convoy(crew: Crew) -> None:
    from cimaise.moves.models import Convoy

    convoy = Convoy.objects.create(
        institution=crew.cast.institution_a, code="CV-2026-051", destination=crew.ccl
    )
    order = filed(crew, purpose="convoy", convoy="CV-2026-051")
    assert order.convoy == convoy
