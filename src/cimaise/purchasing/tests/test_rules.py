"""The register's rules: SIRET numbers (Luhn), months, the four-year limit of framework agreements,
the essential data required from €40,000."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from cimaise.purchasing.rules import (
    add_months,
    alert_dates,
    check_contract,
    duration_months,
    framework_last_day,
    siret_valid,
)
from cimaise.purchasing.tests.conftest import make_spec


def test_a_siret_must_pass_the_luhn_check() -> None:
    assert siret_valid("73282932000074")
    assert not siret_valid("73282932000075")
    assert not siret_valid("7328293200007")  # 13 digits
    assert not siret_valid("7328293200007A")


def test_la_poste_establishments_are_checked_by_their_digit_sum() -> None:
    assert siret_valid("35600000049837")  # digit sum 45
    assert not siret_valid("35600000049838")


def test_months_are_moved_to_the_end_of_a_shorter_month() -> None:
    assert add_months(dt.date(2027, 8, 31), -6) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2026, 11, 15), 3) == dt.date(2027, 2, 15)
    assert alert_dates(dt.date(2027, 6, 30)) == {6: dt.date(2026, 12, 30), 3: dt.date(2027, 3, 30)}


def test_a_framework_agreement_runs_four_years_at_most() -> None:
    assert framework_last_day(dt.date(2020, 3, 1)) == dt.date(2024, 2, 29)
    ok = make_spec(nature="framework", start_on=dt.date(2020, 3, 1), end_on=dt.date(2024, 2, 29))
    assert check_contract(ok) == []
    too_long = make_spec(nature="framework", start_on=dt.date(2020, 3, 1), end_on=dt.date(2024, 3, 1))
    problems = check_contract(too_long)
    assert [(p.field, p.message) for p in problems] == [
        ("end_on", "a framework agreement runs four years at most (until 2024-02-29)")
    ]
    # an ordinary contract is not bound by the four years
    assert check_contract(make_spec(start_on=dt.date(2020, 3, 1), end_on=dt.date(2025, 3, 1))) == []


def test_essential_data_are_required_from_40000_euros() -> None:
    bare = {
        "buyer_siret": "", "procedure": "", "cpv_code": "", "place_type": "", "place_code": "",
        "place_name": "", "notified_on": None, "price_form": "",
    }  # fmt: skip
    below = make_spec(max_amount=Decimal("39999.99"), **bare)
    assert check_contract(below) == []
    at = make_spec(max_amount=Decimal("40000"), **bare)
    assert [p.field for p in check_contract(at)] == [
        "buyer_siret", "procedure", "cpv_code", "place_type", "place_code", "place_name", "notified_on",
        "price_form",
    ]  # fmt: skip
    assert all("40,000 EUR" in p.message for p in check_contract(at))


def test_every_holder_needs_a_valid_siret_from_40000_euros() -> None:
    from cimaise.purchasing.rules import HolderSpec

    no_siret = make_spec(holders=[HolderSpec("Art Convoi SAS", "")])
    assert [p.field for p in check_contract(no_siret)] == ["holders"]
    bad = make_spec(holders=[HolderSpec("Art Convoi SAS", "44011223300010")])
    assert [(p.field, p.message) for p in check_contract(bad)] == [
        ("holders", "SIRET 44011223300010 of Art Convoi SAS is not valid")
    ]


def test_amounts_and_dates_are_consistent() -> None:
    spec = make_spec(min_amount=Decimal("200000"), end_on=dt.date(2024, 12, 31), cpv_code="6010000")
    assert [p.field for p in check_contract(spec)] == ["min_amount", "end_on", "cpv_code"]


def test_the_duration_counts_started_months() -> None:
    assert duration_months(dt.date(2025, 1, 1), dt.date(2026, 12, 31)) == 24
    assert duration_months(dt.date(2025, 1, 15), dt.date(2025, 2, 14)) == 1
    assert duration_months(dt.date(2025, 1, 15), dt.date(2025, 2, 15)) == 2
