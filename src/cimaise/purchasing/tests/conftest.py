"""The purchasing cast: a purchasing officer of institution A (with an e-mail address), the
centre at Liévin, a framework vehicle and two needs; ``make_spec`` builds a valid contract."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from cimaise.core.models import Site
from cimaise.core.roles import Role
from cimaise.core.tests.personas import Cast, Persona, make_persona
from cimaise.purchasing import services
from cimaise.purchasing.models import Need, Vehicle
from cimaise.purchasing.rules import ContractSpec, HolderSpec, luhn_valid


def siret(base: str) -> str:
    """A valid SIRET made from 13 digits."""
    return next(base + str(d) for d in range(10) if luhn_valid(base + str(d)))


HOLDER_SIRET = siret("4401122330001")
BUYER_SIRET = siret("1800000000001")


def make_spec(**changes: Any) -> ContractSpec:
    """A €120,000 contract with every essential datum, 2025-01-01 to 2026-12-31."""
    values: dict[str, Any] = {
        "reference": "C-1", "title": "Transport of works", "vehicle": "AC-T", "nature": "contract",
        "needs": ["N-TRANSPORT"], "holders": [HolderSpec("Art Convoi SAS", HOLDER_SIRET)],
        "min_amount": Decimal("10000"), "max_amount": Decimal("120000"),
        "start_on": dt.date(2025, 1, 1), "end_on": dt.date(2026, 12, 31),
        "launched_on": dt.date(2024, 9, 2), "notified_on": dt.date(2024, 12, 2),
        "buyer_siret": BUYER_SIRET, "procedure": "open", "cpv_code": "60100000-9",
        "place_type": "postcode", "place_code": "62800", "place_name": "Liévin", "price_form": "revisable",
    }  # fmt: skip
    values.update(changes)
    return ContractSpec(**values)


@dataclass
class Register:
    cast: Cast
    officer: Persona
    centre: Site
    vehicle: Vehicle
    transport: Need
    cleaning: Need


@pytest.fixture
def register(cast: Cast) -> Register:
    centre = Site.objects.create(institution=cast.institution_a, code="CCL", name="Centre de conservation")
    officer = make_persona("purchasing-a", cast.institution_a, [Role.PURCHASING], cast.site_a)
    officer.person.user.email = "buyer@louvre.test"
    officer.person.user.save(update_fields=["email"])
    officer.person.preferred_language = "en"
    officer.person.save(update_fields=["preferred_language"])
    actor = officer.actor
    vehicle = services.vehicle_create(actor=actor, code="AC-T", name="Transport framework", kind="framework")
    transport = services.need_create(
        actor=actor, code="N-TRANSPORT", title="Transport of works", category="works-transport",
        site="PAL", recurring=True,
    )  # fmt: skip
    cleaning = services.need_create(
        actor=actor, code="N-CLEAN", title="Cleaning", category="cleaning", site="CCL", recurring=True
    )
    return Register(cast, officer, centre, vehicle, transport, cleaning)
