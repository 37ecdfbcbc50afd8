"""Mission allowances (decree 2006-781, DESIGN §7): a meal for each period 11:00–14:00 and
18:00–21:00 the mission covers entirely, a night for each period 23:00–05:00 it covers entirely,
in Paris time. Rates are data (``AllowanceRate``): the rate of a meal or night is the one valid on
the day it starts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from cimaise.core.errors import InvalidInput
from cimaise.missions.models import AllowanceRate

PARIS = ZoneInfo("Europe/Paris")
MEAL_WINDOWS = ((dt.time(11), dt.time(14)), (dt.time(18), dt.time(21)))
NIGHT_WINDOW = (dt.time(23), dt.time(5))  # ends the next day


@dataclass(frozen=True)
class Period:
    kind: str  # "meal" or "night"
    day: dt.date  # the day the period starts


@dataclass(frozen=True)
class Allowances:
    meals: int
    nights: int
    total: Decimal
    currency: str
    lines: tuple[tuple[str, dt.date, Decimal], ...]  # (kind, day, rate)


def _at(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=PARIS)


def _day_periods(day: dt.date) -> list[tuple[str, dt.datetime, dt.datetime]]:
    meals = [("meal", _at(day, a), _at(day, b)) for a, b in MEAL_WINDOWS]
    night = ("night", _at(day, NIGHT_WINDOW[0]), _at(day + dt.timedelta(days=1), NIGHT_WINDOW[1]))
    return [*meals, night]


def covered_periods(starts_at: dt.datetime, ends_at: dt.datetime) -> list[Period]:
    """Every meal and night period lying entirely within the mission."""
    start, end = starts_at.astimezone(PARIS), ends_at.astimezone(PARIS)
    day = start.date() - dt.timedelta(days=1)  # a night starting the evening before cannot count,
    found: list[Period] = []  # but starting there keeps the loop simple
    while day <= end.date():
        found += [Period(k, day) for k, a, b in _day_periods(day) if start <= a and b <= end]
        day += dt.timedelta(days=1)
    return found


def rate_on(kind: str, area: str, day: dt.date, rates: list[AllowanceRate] | None = None) -> AllowanceRate:
    """The rate of ``kind`` in ``area`` valid on ``day`` (the base rate when the area has none);
    ``rates`` are the candidates, newest first (all rates by default)."""
    candidates = rates if rates is not None else list(AllowanceRate.objects.order_by("-valid_from"))
    for wanted in dict.fromkeys((area, "base")):
        for rate in candidates:
            if rate.kind == kind and rate.area == wanted and rate.valid_from <= day:
                return rate
    raise InvalidInput(f"no {kind} allowance rate on {day.isoformat()}", field="starts_at")


def allowances_compute(*, starts_at: dt.datetime, ends_at: dt.datetime, city: str) -> Allowances:
    """The allowances of one traveller on a mission to ``city`` (nights in Paris at the Paris
    rate)."""
    area = "paris" if city.strip().lower() == "paris" else "base"
    lines: list[tuple[str, dt.date, Decimal]] = []
    currency = "EUR"
    rates = list(AllowanceRate.objects.order_by("-valid_from"))
    for period in covered_periods(starts_at, ends_at):
        rate = rate_on(period.kind, area if period.kind == "night" else "base", period.day, rates)
        currency = rate.currency
        lines.append((period.kind, period.day, rate.amount))
    return Allowances(
        meals=sum(1 for k, _, _ in lines if k == "meal"),
        nights=sum(1 for k, _, _ in lines if k == "night"),
        total=sum((amount for _, _, amount in lines), Decimal("0.00")),
        currency=currency,
        lines=tuple(lines),
    )


# The rates the migration loads (kind, area, valid from, amount). Before the arrêté of
# 26 February 2019 a meal was €15.25 and a night €60 everywhere; the 2020 values are those of
# DESIGN §7. Dates are data: an administrator adds a row when the rates change.
DEFAULT_RATES: tuple[tuple[str, str, dt.date, Decimal], ...] = (
    ("meal", "base", dt.date(2019, 1, 1), Decimal("15.25")),
    ("night", "base", dt.date(2019, 1, 1), Decimal("60.00")),
    ("night", "paris", dt.date(2019, 1, 1), Decimal("60.00")),
    ("meal", "base", dt.date(2020, 1, 1), Decimal("17.50")),
    ("night", "base", dt.date(2020, 1, 1), Decimal("70.00")),
    ("night", "paris", dt.date(2020, 1, 1), Decimal("110.00")),
)


def default_rates_load() -> int:
    """Create the default rates that are missing; how many were created."""
    created = 0
    for kind, area, valid_from, amount in DEFAULT_RATES:
        _, made = AllowanceRate.objects.get_or_create(
            kind=kind, area=area, valid_from=valid_from, defaults={"amount": amount}
        )
        created += int(made)
    return created
