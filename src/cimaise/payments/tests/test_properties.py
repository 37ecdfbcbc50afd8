"""Properties: any change to a signed notification's bytes is refused; any signed amount or
currency other than the payment's is refused; amounts are checked and written consistently."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cimaise.core.errors import InvalidInput
from cimaise.payments.models import Notification, Payment
from cimaise.payments.money import amount_check, amount_parse, amount_text
from cimaise.payments.tests.conftest import deliver, signed

pytestmark = pytest.mark.django_db
DB_EXAMPLES = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def unchanged(payment: Payment) -> bool:
    payment.refresh_from_db()
    return payment.state == "created" and not Notification.objects.exists()


@DB_EXAMPLES
@given(data=st.data())
def test_any_changed_byte_of_a_signed_notification_is_refused(payment: Payment, data: st.DataObject) -> None:
    body, headers = signed(payment)
    index = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
    replacement = data.draw(st.integers(min_value=0, max_value=255).filter(lambda b: b != body[index]))
    tampered = body[:index] + bytes([replacement]) + body[index + 1 :]
    outcome = deliver(tampered, headers)
    assert (outcome.accepted, outcome.code) == (False, "bad_signature")
    assert unchanged(payment)


@DB_EXAMPLES
@given(amount=st.decimals(min_value=0, max_value=10**9, places=2).filter(lambda a: a != Decimal("12.50")))
def test_any_other_signed_amount_is_refused(payment: Payment, amount: Decimal) -> None:
    outcome = deliver(*signed(payment, amount=amount_text(amount)))
    assert (outcome.accepted, outcome.code) == (False, "amount_mismatch")
    assert unchanged(payment)


@DB_EXAMPLES
@given(currency=st.from_regex(r"\A[A-Z]{3}\Z").filter(lambda c: c != "EUR"))
def test_any_other_signed_currency_is_refused(payment: Payment, currency: str) -> None:
    outcome = deliver(*signed(payment, currency=currency))
    assert (outcome.accepted, outcome.code) == (False, "currency_mismatch")
    assert unchanged(payment)


@given(amount=st.decimals(allow_nan=True, allow_infinity=True))
def test_an_amount_is_either_a_positive_two_decimal_value_or_refused(amount: Decimal) -> None:
    try:
        checked = amount_check(amount)
    except InvalidInput as error:
        assert error.field == "amount"
        return
    assert checked > 0 and checked == amount and checked.as_tuple().exponent == -2


@given(amount=st.decimals(min_value=0, max_value=Decimal("9999999999.99"), places=2))
def test_amounts_travel_as_text_and_back(amount: Decimal) -> None:
    assert amount_parse(amount_text(amount)) == amount
