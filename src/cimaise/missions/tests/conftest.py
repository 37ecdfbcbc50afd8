"""The missions cast: on top of the suite's personas, an agent (the registrar of A) whose line
manager is ``approver_a``, a budget manager, the centre's reception, a second agent, the centre
(CCL, capacity 25) and the default allowance rates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from cimaise.core.models import Site
from cimaise.core.roles import Role
from cimaise.core.tests.personas import Cast, Persona, make_cast, make_persona
from cimaise.missions.allowances import PARIS, default_rates_load
from cimaise.missions.orders import OrderRequest


@dataclass
class Crew:
    cast: Cast
    ccl: Site
    agent: Persona  # the registrar of A
    colleague: Persona  # an escort of A, same line manager
    approver: Persona
    budget: Persona
    reception: Persona


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=PARIS)


MONDAY = dt.date(2026, 12, 7)


def make_crew(cast: Cast | None = None) -> Crew:
    cast = cast or make_cast()
    default_rates_load()
    a = cast.institution_a
    ccl = Site.objects.create(
        institution=a,
        code="CCL",
        name="Centre de conservation du Louvre",
        kind="conservation-centre",
        city="Liévin",
        open_to_public=False,
        capacity=25,
    )
    approver = make_persona("approver-a", a, [Role.APPROVER], cast.site_a)
    colleague = make_persona("escort-a", a, [Role.ESCORT], cast.site_a)
    for persona in (cast.registrar_a, colleague):
        persona.person.line_manager = approver.person
        persona.person.save(update_fields=["line_manager"])
        persona.person.user.email = f"{persona.username}@example.org"
        persona.person.user.save(update_fields=["email"])
    return Crew(
        cast=cast,
        ccl=ccl,
        agent=cast.registrar_a,
        colleague=colleague,
        approver=approver,
        budget=make_persona("budget-a", a, [Role.BUDGET_MANAGER], cast.site_a),
        reception=make_persona("reception-a", a, [Role.RECEPTION], ccl),
    )


@pytest.fixture
def crew(cast: Cast) -> Crew:
    return make_crew(cast)


def trip(travellers: list[str], **changes: Any) -> OrderRequest:
    """A day at the centre on MONDAY, by train."""
    values: dict[str, Any] = {
        "travellers": travellers,
        "destination": "CCL",
        "purpose": "inventory",
        "description": "Récolement des peintures",
        "starts_at": at(MONDAY, 7, 30),
        "ends_at": at(MONDAY, 19, 0),
        "transport": "train",
        "host": "reception-a",
        "zones": ["réserve 3"],
    }
    values.update(changes)
    return OrderRequest(**values)
