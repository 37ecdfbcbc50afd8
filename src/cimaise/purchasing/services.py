"""Writes to the purchasing register: needs, vehicles, contracts. Each command runs in one
transaction and appends its fact; bad input raises ``InvalidInput`` naming the field, and nothing
is written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from cimaise.core.access import own_institution, require_permission
from cimaise.core.actors import Actor
from cimaise.core.errors import Conflict, InvalidInput
from cimaise.core.models import Institution, Site
from cimaise.ledger.services import facts_append
from cimaise.purchasing import facts
from cimaise.purchasing.models import Contract, Holder, Need, Vehicle
from cimaise.purchasing.roles import CHANGE
from cimaise.purchasing.rules import ContractSpec, Problem, check_contract

HOLDER_NAME_MAX = 200


def editor_institution(actor: Actor) -> Institution:
    """The actor's institution, when the actor may change its register."""
    institution = own_institution(actor)
    require_permission(actor, CHANGE)
    return institution


def _choice(value: str, choices: Iterable[str], field: str) -> None:
    if value not in set(choices):
        raise InvalidInput(f"{field}: {value!r} is not one of {', '.join(sorted(choices))}", field=field)


def _required(values: Mapping[str, str]) -> None:
    for name, value in values.items():
        if not value.strip():
            raise InvalidInput(f"{name}: required", field=name)


@transaction.atomic(durable=True)
def need_create(
    *, actor: Actor, code: str, title: str, category: str, site: str, recurring: bool, notes: str = ""
) -> Need:
    """Record a need at one of the institution's sites."""
    institution = editor_institution(actor)
    _required({"code": code, "title": title})
    _choice(category, Need.Category.values, "category")
    place = Site.objects.filter(institution=institution, code=site).first()
    if place is None:
        raise InvalidInput(f"site: no site {site!r}", field="site")
    if Need.objects.filter(institution=institution, code=code).exists():
        raise Conflict(f"code: need {code!r} exists already", field="code")
    need = Need.objects.create(
        institution=institution, code=code, title=title, category=category, site=place,
        recurring=recurring, notes=notes,
    )  # fmt: skip
    body = {"code": code, "title": title, "category": category, "site": site, "recurring": recurring}
    facts_append([facts.draft(institution, facts.NEED_RECORDED.name, body, actor.label)])
    return need


@transaction.atomic(durable=True)
def vehicle_create(
    *,
    actor: Actor,
    code: str,
    name: str,
    kind: str,
    coordinator: str = "",
    partner: str = "",
    joined_on: dt.date | None = None,
) -> Vehicle:
    """Record a purchasing vehicle; a joint order names its partner institution."""
    institution = editor_institution(actor)
    _required({"code": code, "name": name})
    _choice(kind, Vehicle.Kind.values, "kind")
    partner_institution = Institution.objects.filter(code=partner).first() if partner else None
    if partner and partner_institution is None:
        raise InvalidInput(f"partner: no institution {partner!r}", field="partner")
    if kind == Vehicle.Kind.JOINT_ORDER and partner_institution is None:
        raise InvalidInput("partner: a joint order names its partner institution", field="partner")
    if Vehicle.objects.filter(institution=institution, code=code).exists():
        raise Conflict(f"code: vehicle {code!r} exists already", field="code")
    vehicle = Vehicle.objects.create(
        institution=institution, code=code, name=name, kind=kind, coordinator=coordinator,
        partner=partner_institution, joined_on=joined_on,
    )  # fmt: skip
    body = {
        "code": code, "name": name, "kind": kind, "coordinator": coordinator, "partner": partner,
        "joined_on": joined_on.isoformat() if joined_on else None,
    }  # fmt: skip
    facts_append([facts.draft(institution, facts.VEHICLE_RECORDED.name, body, actor.label)])
    return vehicle


# --- contracts -----------------------------------------------------------------------------------


def _choice_problems(spec: ContractSpec) -> list[Problem]:
    pairs = (
        ("nature", Contract.Nature.values), ("procedure", Contract.Procedure.values),
        ("price_form", Contract.PriceForm.values), ("place_type", Contract.PlaceType.values),
    )  # fmt: skip
    return [
        Problem(name, f"{getattr(spec, name)!r} is not one of {', '.join(values)}")
        for name, values in pairs
        if getattr(spec, name) and getattr(spec, name) not in values
    ]


LENGTH_CHECKED = (
    "reference", "title", "buyer_siret", "cpv_code", "place_code", "place_name",
)  # fmt: skip


def _length_problems(spec: ContractSpec) -> list[Problem]:
    """Values longer than their column (SQLite would store them; PostgreSQL would refuse)."""
    problems = []
    for name in LENGTH_CHECKED:
        limit = getattr(Contract._meta.get_field(name), "max_length", None) or 0
        if len(getattr(spec, name)) > limit:
            problems.append(Problem(name, f"at most {limit} characters"))
    if any(len(holder.name.strip()) > HOLDER_NAME_MAX for holder in spec.holders):
        problems.append(Problem("holders", f"a holder's name has at most {HOLDER_NAME_MAX} characters"))
    return problems


def reference_problems(
    institution: Institution, spec: ContractSpec, frameworks: Mapping[str, str] | None = None
) -> list[Problem]:
    """What the database says about a contract: its vehicle, needs and framework agreement must
    exist. ``frameworks`` maps references to natures of contracts not stored yet (a CSV file's)."""
    problems = []
    if spec.vehicle and not Vehicle.objects.filter(institution=institution, code=spec.vehicle).exists():
        problems.append(Problem("vehicle", f"no vehicle {spec.vehicle!r}"))
    known = set(
        Need.objects.filter(institution=institution, code__in=spec.needs).values_list("code", flat=True)
    )
    missing = [code for code in spec.needs if code not in known]
    if missing:
        problems.append(Problem("needs", f"no need {', '.join(missing)}"))
    if spec.parent:
        stored = Contract.objects.filter(institution=institution, reference=spec.parent).first()
        nature = (frameworks or {}).get(spec.parent) or (stored.nature if stored else None)
        if nature is None:
            problems.append(Problem("parent", f"no contract {spec.parent!r}"))
        elif nature != Contract.Nature.FRAMEWORK:
            problems.append(Problem("parent", f"{spec.parent} is not a framework agreement"))
        elif spec.parent == spec.reference:
            problems.append(Problem("parent", "a contract cannot follow on from itself"))
    return problems


def contract_problems_db(
    institution: Institution, spec: ContractSpec, frameworks: Mapping[str, str] | None = None
) -> list[Problem]:
    """The problems beyond the rules': unknown choices and references."""
    return _choice_problems(spec) + _length_problems(spec) + reference_problems(institution, spec, frameworks)


def contract_problems(institution: Institution, spec: ContractSpec) -> list[Problem]:
    """Every problem of a contract, the rules' and the database's."""
    return check_contract(spec) + contract_problems_db(institution, spec)


def contracts_with_details(institution: Institution) -> QuerySet[Contract]:
    return (
        Contract.objects.filter(institution=institution)
        .select_related("vehicle", "parent")
        .prefetch_related("needs", "holders")
    )


def raise_first(problems: list[Problem]) -> None:
    if problems:
        first = problems[0]
        details = {"field": first.field, "problems": [asdict(p) for p in problems]}
        raise InvalidInput(f"{first.field}: {first.message}", field=first.field, details=details)


def _contract_fields(institution: Institution, spec: ContractSpec) -> dict[str, Any]:
    return {
        "title": spec.title,
        "vehicle": Vehicle.objects.get(institution=institution, code=spec.vehicle),
        "nature": spec.nature, "currency": spec.currency, "min_amount": spec.min_amount,
        "max_amount": spec.max_amount, "start_on": spec.start_on, "end_on": spec.end_on,
        "renewal_on": spec.renewal_on, "launched_on": spec.launched_on, "notified_on": spec.notified_on,
        "buyer_siret": spec.buyer_siret, "procedure": spec.procedure, "cpv_code": spec.cpv_code,
        "place_type": spec.place_type, "place_code": spec.place_code, "place_name": spec.place_name,
        "price_form": spec.price_form,
    }  # fmt: skip


def spec_body(spec: ContractSpec) -> dict[str, Any]:
    """The contract as a fact body (dates as ISO strings, amounts as strings)."""
    body = asdict(spec)
    for key, value in body.items():
        if isinstance(value, dt.date):
            body[key] = value.isoformat()
        elif value is not None and key.endswith("_amount"):
            body[key] = str(value)
    return body


def contract_store(
    institution: Institution, spec: ContractSpec, *, with_parent: bool = True
) -> tuple[Contract, bool]:
    """Create or update the contract with ``spec.reference`` (checked already); inside the
    caller's transaction. Without ``with_parent`` the framework agreement is set later."""
    contract, created = Contract.objects.update_or_create(
        institution=institution, reference=spec.reference, defaults=_contract_fields(institution, spec)
    )
    if with_parent:
        contract_set_parent(institution, contract, spec.parent)
    contract.needs.set(Need.objects.filter(institution=institution, code__in=spec.needs))
    contract.holders.all().delete()
    Holder.objects.bulk_create(
        Holder(contract=contract, position=i, name=h.name.strip(), siret=h.siret)
        for i, h in enumerate(spec.holders)
    )
    return contract, created


def contract_set_parent(institution: Institution, contract: Contract, parent: str) -> None:
    found = Contract.objects.get(institution=institution, reference=parent) if parent else None
    if contract.parent_id != (found.pk if found else None):
        contract.parent = found
        contract.save(update_fields=["parent"])


@transaction.atomic(durable=True)
def contract_save(*, actor: Actor, spec: ContractSpec) -> tuple[Contract, bool]:
    """Record a contract, or change the one with the same reference; returns it and whether it
    was created. Every rule is checked first (framework agreements four years at most, essential
    data from €40,000, valid SIRET numbers)."""
    institution = editor_institution(actor)
    raise_first(contract_problems(institution, spec))
    contract, created = contract_store(institution, spec)
    body = {**spec_body(spec), "created": created}
    facts_append([facts.draft(institution, facts.CONTRACT_RECORDED.name, body, actor.label)])
    return contract, created
