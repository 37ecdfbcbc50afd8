"""Asking for a payment: a sandbox payment gets a redirect to the card page; bad input is refused
naming the field and stores nothing; ids are unguessable; the caller's transaction holds."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings

from cimaise.core.errors import InvalidInput, NotFound
from cimaise.core.tests.personas import Cast
from cimaise.payments import selectors
from cimaise.payments.models import Payment
from cimaise.payments.tests.conftest import Shop, facts_of, start

pytestmark = pytest.mark.django_db


def test_a_sandbox_payment_starts_with_a_redirect_to_the_card_page(cast: Cast, shop: Shop) -> None:
    begun = start(cast.institution_a, language="zh-CN")
    payment = begun.payment
    assert begun.redirect_url == f"/payments/sandbox/{payment.pk}/" and begun.qr is None
    stored = Payment.objects.get()
    assert (stored.state, stored.amount, stored.currency, stored.language) == (
        "created",
        Decimal("12.50"),
        "EUR",
        "zh-hans",
    )
    assert facts_of(payment) == ["payments.payment.created"]


def test_payment_ids_are_long_random_hex(cast: Cast, shop: Shop) -> None:
    ids = {start(cast.institution_a, reference=f"R{n}").payment.pk for n in range(20)}
    assert len(ids) == 20 and all(re.fullmatch(r"[0-9a-f]{32}", pid) for pid in ids)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"provider": "paypal"}, "provider"),
        ({"amount": Decimal("0")}, "amount"),
        ({"amount": Decimal("-1.00")}, "amount"),
        ({"amount": Decimal("1.005")}, "amount"),
        ({"amount": 12.5}, "amount"),
        ({"currency": "eur"}, "currency"),
        ({"currency": "EURO"}, "currency"),
        ({"return_url": "javascript:alert(1)"}, "return_url"),
        ({"return_url": "//evil.example/"}, "return_url"),
        ({"language": "tlh"}, "language"),
        ({"purpose": "nobody.listens"}, "purpose"),
        ({"reference": "two\nlines"}, "reference"),
    ],
)
def test_bad_input_is_refused_naming_the_field(
    cast: Cast, shop: Shop, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        start(cast.institution_a, **changes)
    assert caught.value.field == field
    assert not Payment.objects.exists()


@override_settings(CIMAISE_PAYMENTS={"sandbox": {"enabled": False}})
def test_a_disabled_provider_is_refused(cast: Cast, shop: Shop) -> None:
    with pytest.raises(InvalidInput) as caught:
        start(cast.institution_a)
    assert caught.value.field == "provider"


@override_settings(CIMAISE_PAYMENTS={"sandbox": {"base_url": "https://pay.example"}})
def test_the_sandbox_base_url_makes_redirects_absolute(cast: Cast, shop: Shop) -> None:
    begun = start(cast.institution_a)
    assert begun.redirect_url == f"https://pay.example/payments/sandbox/{begun.payment.pk}/"


def test_a_payment_is_made_inside_the_callers_transaction(cast: Cast, shop: Shop) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        start(cast.institution_a)
        raise RuntimeError("the order could not be created")
    assert not Payment.objects.exists()


def test_payments_are_found_by_id_and_by_purpose(cast: Cast, shop: Shop) -> None:
    first = start(cast.institution_a).payment
    second = start(cast.institution_a).payment
    start(cast.institution_a, reference="OTHER")
    assert selectors.payment_get(payment_id=first.pk) == first
    assert selectors.payments_for(purpose="test.order", reference="A1B2") == [first, second]
    for bad in ("0" * 32, "not-an-id", first.pk.upper()):
        with pytest.raises(NotFound):
            selectors.payment_get(payment_id=bad)
