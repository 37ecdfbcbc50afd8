"""The rules of the register, as pure functions: SIRET numbers, month arithmetic, the four-year
limit of framework agreements and the State's essential data (*données essentielles*) that
contracts of €40,000 or more must carry. Each check returns the problems it found, field by
field, so the CSV import can report them all."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

ESSENTIAL_DATA_FROM = Decimal("40000")
"""Contracts of this amount (EUR excluding VAT) or more publish the essential data."""
FRAMEWORK_MAX_YEARS = 4
ALERT_MONTHS = (6, 3)
"""Renewal alerts go this many months before a contract's renewal date."""
LA_POSTE_SIREN = "356000000"
_CPV = re.compile(r"^\d{8}-\d$")
_SIRET = re.compile(r"^\d{14}$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a value: the field it is about and what is wrong."""

    field: str
    message: str


@dataclass(frozen=True)
class HolderSpec:
    name: str
    siret: str = ""


@dataclass
class ContractSpec:
    """A contract as submitted (through the API, a page or a CSV row), before it is stored."""

    reference: str
    title: str
    vehicle: str
    max_amount: Decimal
    start_on: dt.date
    end_on: dt.date
    nature: str = "contract"
    parent: str = ""
    needs: list[str] = field(default_factory=list)
    holders: list[HolderSpec] = field(default_factory=list)
    min_amount: Decimal | None = None
    currency: str = "EUR"
    renewal_on: dt.date | None = None
    launched_on: dt.date | None = None
    notified_on: dt.date | None = None
    buyer_siret: str = ""
    procedure: str = ""
    cpv_code: str = ""
    place_type: str = ""
    place_code: str = ""
    place_name: str = ""
    price_form: str = ""


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum: from the right, every second digit doubled (minus 9 above 9)."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def siret_valid(siret: str) -> bool:
    """Fourteen digits passing the Luhn check; La Poste's establishments (SIREN 356 000 000),
    too many for the checksum, are checked by their digit sum being a multiple of 5 instead."""
    if not _SIRET.match(siret):
        return False
    if siret.startswith(LA_POSTE_SIREN):
        return sum(int(c) for c in siret) % 5 == 0
    return luhn_valid(siret)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` (negative goes back), clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def framework_last_day(start_on: dt.date) -> dt.date:
    """The last day a framework agreement starting on ``start_on`` may run (four years, its
    renewals included: a start on 1 March 2020 ends on 28 February 2024 at the latest)."""
    return add_months(start_on, FRAMEWORK_MAX_YEARS * 12) - dt.timedelta(days=1)


def duration_months(start_on: dt.date, end_on: dt.date) -> int:
    """The duration in whole months, a started month counting as one (the essential data's
    ``dureeMois``)."""
    months = (end_on.year - start_on.year) * 12 + end_on.month - start_on.month
    if add_months(start_on, months) <= end_on:
        months += 1
    return max(1, months)


def renewal_date(end_on: dt.date, renewal_on: dt.date | None) -> dt.date:
    return renewal_on or end_on


def alert_dates(renewal: dt.date) -> dict[int, dt.date]:
    """When each renewal alert is due: six and three months before the renewal date."""
    return {months: add_months(renewal, -months) for months in ALERT_MONTHS}


def essential_data_required(spec: ContractSpec) -> bool:
    return spec.max_amount >= ESSENTIAL_DATA_FROM


def check_amounts(spec: ContractSpec) -> list[Problem]:
    problems = []
    if spec.currency != "EUR":
        problems.append(Problem("currency", "amounts are kept in EUR"))
    if spec.max_amount <= 0:
        problems.append(Problem("max_amount", "must be more than 0"))
    if spec.min_amount is not None and spec.min_amount < 0:
        problems.append(Problem("min_amount", "must not be negative"))
    elif spec.min_amount is not None and spec.min_amount > spec.max_amount:
        problems.append(Problem("min_amount", "must not exceed the maximum amount"))
    return problems


def check_dates(spec: ContractSpec) -> list[Problem]:
    problems = []
    if spec.end_on < spec.start_on:
        problems.append(Problem("end_on", "must not be before the start date"))
    elif spec.nature == "framework" and spec.end_on > framework_last_day(spec.start_on):
        last = framework_last_day(spec.start_on).isoformat()
        problems.append(Problem("end_on", f"a framework agreement runs four years at most (until {last})"))
    if spec.renewal_on and not spec.start_on <= spec.renewal_on <= spec.end_on:
        problems.append(Problem("renewal_on", "must fall between the start and end dates"))
    if spec.launched_on and spec.notified_on and spec.notified_on < spec.launched_on:
        problems.append(Problem("notified_on", "must not be before the procedure was launched"))
    return problems


def check_holders(spec: ContractSpec) -> list[Problem]:
    problems = []
    if not spec.holders:
        problems.append(Problem("holders", "name at least one holder (the supplier)"))
    for holder in spec.holders:
        if not holder.name.strip():
            problems.append(Problem("holders", "a holder has no name"))
        elif holder.siret and not siret_valid(holder.siret):
            problems.append(Problem("holders", f"SIRET {holder.siret} of {holder.name} is not valid"))
    if spec.buyer_siret and not siret_valid(spec.buyer_siret):
        problems.append(Problem("buyer_siret", f"SIRET {spec.buyer_siret} is not valid"))
    if spec.cpv_code and not _CPV.match(spec.cpv_code):
        problems.append(Problem("cpv_code", "write a CPV code as 8 digits, a dash and a digit (60000000-8)"))
    return problems


ESSENTIAL_FIELDS = (
    "buyer_siret",
    "procedure",
    "cpv_code",
    "place_type",
    "place_code",
    "place_name",
    "notified_on",
    "price_form",
)


def check_essential_data(spec: ContractSpec) -> list[Problem]:
    """From €40,000: the buyer's SIRET, the procedure, the CPV code, the place of execution, the
    notification date, the form of price and every holder's SIRET (the nature, the duration, the
    amount and the identifier are always present)."""
    if not essential_data_required(spec):
        return []
    required = f"required for a contract of {ESSENTIAL_DATA_FROM:,.0f} EUR or more (essential data)"
    problems = [Problem(name, required) for name in ESSENTIAL_FIELDS if not getattr(spec, name)]
    if any(not holder.siret for holder in spec.holders):
        problems.append(Problem("holders", f"every holder's SIRET is {required}"))
    return problems


def check_contract(spec: ContractSpec) -> list[Problem]:
    """Every problem of a contract that does not need the database."""
    problems = [
        Problem(name, "required") for name in ("reference", "title", "vehicle") if not getattr(spec, name)
    ]
    if spec.nature == "subsequent" and not spec.parent:
        problems.append(Problem("parent", "a follow-on contract names its framework agreement"))
    if spec.parent and spec.nature != "subsequent":
        problems.append(Problem("nature", "a contract under a framework agreement is a follow-on contract"))
    return (
        problems + check_amounts(spec) + check_dates(spec) + check_holders(spec) + check_essential_data(spec)
    )
