"""Allowances at the boundaries of the rules (DESIGN §7), with the rates of the day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cimaise.core.errors import InvalidInput
from cimaise.missions.allowances import allowances_compute, covered_periods, default_rates_load
from cimaise.missions.models import AllowanceRate
from cimaise.missions.tests.conftest import at

pytestmark = pytest.mark.django_db
DAY_2020 = dt.date(2020, 3, 10)
DAY_2019 = dt.date(2019, 3, 12)


@pytest.fixture(autouse=True)
def rates() -> None:
    default_rates_load()


def test_a_mission_from_10_59_to_14_01_earns_one_meal() -> None:
    due = allowances_compute(starts_at=at(DAY_2020, 10, 59), ends_at=at(DAY_2020, 14, 1), city="Liévin")
    assert (due.meals, due.nights, due.total) == (1, 0, Decimal("17.50"))


def test_a_mission_from_11_01_or_to_13_59_earns_no_meal() -> None:
    late = allowances_compute(starts_at=at(DAY_2020, 11, 1), ends_at=at(DAY_2020, 14, 1), city="Liévin")
    early = allowances_compute(starts_at=at(DAY_2020, 10, 59), ends_at=at(DAY_2020, 13, 59), city="Liévin")
    assert (late.meals, late.total) == (0, Decimal("0.00"))
    assert (early.meals, early.total) == (0, Decimal("0.00"))


def test_exact_boundaries_count() -> None:
    due = allowances_compute(starts_at=at(DAY_2020, 11), ends_at=at(DAY_2020, 21), city="Liévin")
    assert (due.meals, due.nights, due.total) == (2, 0, Decimal("35.00"))


def test_an_overnight_mission_earns_its_meals_and_one_night() -> None:
    due = allowances_compute(
        starts_at=at(DAY_2020, 8), ends_at=at(DAY_2020 + dt.timedelta(days=1), 18, 30), city="Liévin"
    )
    assert [(k, d) for k, d, _ in due.lines] == [
        ("meal", DAY_2020),
        ("meal", DAY_2020),
        ("night", DAY_2020),
        ("meal", DAY_2020 + dt.timedelta(days=1)),
    ]
    assert (due.meals, due.nights, due.total) == (3, 1, Decimal("122.50"))  # 3 × 17.50 + 70


def test_a_night_needs_the_whole_of_23_00_to_05_00() -> None:
    night = allowances_compute(
        starts_at=at(DAY_2020, 22, 59), ends_at=at(DAY_2020 + dt.timedelta(days=1), 5, 0), city="Liévin"
    )
    short = allowances_compute(
        starts_at=at(DAY_2020, 23, 1), ends_at=at(DAY_2020 + dt.timedelta(days=1), 6, 0), city="Liévin"
    )
    assert (night.meals, night.nights, night.total) == (0, 1, Decimal("70.00"))
    assert (short.nights, short.total) == (0, Decimal("0.00"))


def test_a_night_in_paris_is_paid_at_the_paris_rate() -> None:
    due = allowances_compute(
        starts_at=at(DAY_2020, 18), ends_at=at(DAY_2020 + dt.timedelta(days=1), 9), city="Paris"
    )
    assert (due.meals, due.nights, due.total) == (1, 1, Decimal("127.50"))  # 17.50 + 110


def test_2019_missions_use_the_2019_rates() -> None:
    due = allowances_compute(
        starts_at=at(DAY_2019, 8), ends_at=at(DAY_2019 + dt.timedelta(days=1), 18, 30), city="Paris"
    )
    assert (due.meals, due.nights, due.total) == (3, 1, Decimal("105.75"))  # 3 × 15.25 + 60


def test_a_mission_across_new_year_uses_each_days_rate() -> None:
    eve = dt.date(2019, 12, 31)
    due = allowances_compute(starts_at=at(eve, 11), ends_at=at(eve + dt.timedelta(days=1), 14), city="Liévin")
    assert due.lines == (
        ("meal", eve, Decimal("15.25")),
        ("meal", eve, Decimal("15.25")),
        ("night", eve, Decimal("60.00")),
        ("meal", dt.date(2020, 1, 1), Decimal("17.50")),
    )


def test_rates_are_data_a_new_row_applies_from_its_date() -> None:
    AllowanceRate.objects.create(
        kind="meal", area="base", valid_from=dt.date(2026, 1, 1), amount=Decimal("20.00")
    )
    due = allowances_compute(
        starts_at=at(dt.date(2026, 2, 2), 11), ends_at=at(dt.date(2026, 2, 2), 14), city="Lens"
    )
    assert due.total == Decimal("20.00")


def test_no_rate_before_the_first_is_an_error_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        allowances_compute(
            starts_at=at(dt.date(2018, 5, 2), 11), ends_at=at(dt.date(2018, 5, 2), 14), city="Lens"
        )
    assert caught.value.field == "starts_at"


def test_periods_are_counted_in_paris_time_whatever_the_zone_given() -> None:
    utc = dt.UTC
    start = dt.datetime(2020, 7, 1, 9, 0, tzinfo=utc)  # 11:00 in Paris (summer time)
    end = dt.datetime(2020, 7, 1, 12, 0, tzinfo=utc)  # 14:00 in Paris
    assert [p.kind for p in covered_periods(start, end)] == ["meal"]
