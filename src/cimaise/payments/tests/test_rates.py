"""Exchange rates as dated data: the rate in force on a day, indicative amounts rounded to the
cent half up, the demo's rates, and the admin where administrators keep them."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import IntegrityError, transaction
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from cimaise.core.demo import DemoContext, loaders
from cimaise.core.errors import InvalidInput
from cimaise.core.tests.personas import Cast
from cimaise.payments import demo_data
from cimaise.payments.models import ExchangeRate
from cimaise.payments.rates import exchange_rate_set, indicative_amount, rate_on


@pytest.fixture
def rates(db: object) -> None:
    for day, rate in (
        (dt.date(2019, 10, 1), "7.80"),
        (dt.date(2020, 1, 2), "7.83"),
        (dt.date(2026, 1, 1), "8.20"),
    ):
        exchange_rate_set(base="EUR", quote="CNY", rate=Decimal(rate), valid_from=day, source="test")


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2019, 9, 30), None),
        (dt.date(2019, 10, 1), "7.800000"),
        (dt.date(2020, 1, 1), "7.800000"),
        (dt.date(2020, 1, 2), "7.830000"),
        (dt.date(2025, 12, 31), "7.830000"),
        (dt.date(2026, 11, 28), "8.200000"),
    ],
)
def test_the_rate_of_a_day_is_the_latest_valid_on_or_before_it(
    rates: None, day: dt.date, expected: str | None
) -> None:
    found = rate_on(base="EUR", quote="CNY", day=day)
    assert (str(found.rate) if found else None) == expected


def test_another_pair_or_the_reverse_pair_has_no_rate(rates: None) -> None:
    assert rate_on(base="CNY", quote="EUR", day=dt.date(2020, 6, 1)) is None
    assert indicative_amount(amount=Decimal("10"), base="EUR", quote="USD", day=dt.date(2020, 6, 1)) is None


def test_an_indicative_amount_is_rounded_to_the_cent_half_up(rates: None) -> None:
    on = dt.date(2020, 1, 2)
    assert indicative_amount(amount=Decimal("17.00"), base="EUR", quote="CNY", day=on) == Decimal("133.11")
    assert indicative_amount(amount=Decimal("12.50"), base="EUR", quote="CNY", day=on) == Decimal(
        "97.88"
    )  # 97.875
    assert indicative_amount(
        amount=Decimal("17.00"), base="EUR", quote="CNY", day=dt.date(2019, 12, 31)
    ) == Decimal("132.60")
    assert indicative_amount(amount=Decimal("9.99"), base="EUR", quote="EUR", day=on) == Decimal("9.99")


class IndicativeAmountBounds(TestCase):
    """For any amount and rate the result is the exact product rounded half up: within half a
    cent of it, with two decimals."""

    @settings(max_examples=60, deadline=None)
    @given(
        amount=st.decimals(min_value=Decimal("0"), max_value=Decimal("99999.99"), places=2),
        rate=st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("999.999999"), places=6),
    )
    def test_the_rounding_stays_within_half_a_cent(self, amount: Decimal, rate: Decimal) -> None:
        exchange_rate_set(base="EUR", quote="CNY", rate=rate, valid_from=dt.date(2020, 1, 2), source="test")
        value = indicative_amount(amount=amount, base="EUR", quote="CNY", day=dt.date(2020, 3, 1))
        exact = amount * rate
        assert value is not None and value.as_tuple().exponent == -2
        assert abs(value - exact) <= Decimal("0.005")
        assert value == exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if exact - exact.quantize(Decimal("0.01"), rounding="ROUND_DOWN") == Decimal("0.005"):
            assert value > exact  # exactly half a cent goes up


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"base": "eur"}, "base"),
        ({"quote": "YUAN"}, "quote"),
        ({"rate": Decimal("0")}, "rate"),
        ({"rate": Decimal("7.1234567")}, "rate"),
        ({"rate": 7.83}, "rate"),
    ],
)
def test_a_bad_rate_is_refused_naming_the_field(db: object, changes: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {"base": "EUR", "quote": "CNY", "rate": Decimal("7.83")}
    arguments |= {"valid_from": dt.date(2020, 1, 2), "source": "t"}
    with pytest.raises(InvalidInput) as caught:
        exchange_rate_set(**(arguments | changes))  # type: ignore[arg-type]
    assert caught.value.field == field


def test_one_rate_per_pair_and_day(rates: None) -> None:
    exchange_rate_set(
        base="EUR", quote="CNY", rate=Decimal("7.84"), valid_from=dt.date(2020, 1, 2), source="fixed"
    )
    assert ExchangeRate.objects.filter(valid_from=dt.date(2020, 1, 2)).get().rate == Decimal("7.84")
    with pytest.raises(IntegrityError), transaction.atomic():
        ExchangeRate.objects.create(
            base="EUR", quote="CNY", rate=Decimal("7.9"), valid_from=dt.date(2020, 1, 2)
        )


def test_the_demo_loader_records_dated_rates_before_the_shop_and_twice_is_harmless(db: object) -> None:
    loader = next(loader for loader in loaders() if loader.name == "payments.rates")
    shop = next((loader for loader in loaders() if loader.name.startswith("ticketing")), None)
    assert loader.order == 65 and (shop is None or shop.order > loader.order)
    for _ in range(2):
        demo_data.load(DemoContext(scale="small", quiet=True))
    assert ExchangeRate.objects.count() == 3
    assert rate_on(base="EUR", quote="CNY", day=dt.date(2019, 10, 24)).rate == Decimal("7.80")  # type: ignore[union-attr]
    assert rate_on(base="EUR", quote="CNY", day=dt.date.today()) is not None  # noqa: DTZ011


def test_administrators_edit_rates_in_the_admin(cast: Cast) -> None:
    client = cast.admin_a.session_client()
    response = client.post(
        "/admin/payments/exchangerate/add/",
        {"base": "EUR", "quote": "CNY", "rate": "7.830000", "valid_from": "2020-01-02", "source": "BCE"},
    )
    assert response.status_code == 302
    assert rate_on(base="EUR", quote="CNY", day=dt.date(2020, 2, 1)).rate == Decimal("7.83")  # type: ignore[union-attr]
    refused = client.post(
        "/admin/payments/exchangerate/add/",
        {"base": "eur", "quote": "CNY", "rate": "7.9", "valid_from": "2020-01-03", "source": ""},
    )
    assert refused.status_code == 200 and ExchangeRate.objects.count() == 1
    assert cast.ticketing_manager_a.session_client().get("/admin/payments/exchangerate/").status_code == 302
