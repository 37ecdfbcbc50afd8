"""The desk: a cashier's payment is paid at once (zero allowed), tells the purpose, and its
refunds complete at once; a desk payment asked for earlier is settled by the cashier."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cimaise.core.errors import InvalidInput
from cimaise.core.tests.personas import Cast
from cimaise.payments import services
from cimaise.payments.models import Payment
from cimaise.payments.tests.conftest import PURPOSE, Shop, facts_of, start

pytestmark = pytest.mark.django_db


def desk(cast: Cast, amount: str = "17.00", method: str = "cash", reference: str = "D-1") -> Payment:
    return services.payment_record_desk(
        institution=cast.institution_a, purpose=PURPOSE, reference=reference, amount=Decimal(amount),
        currency="EUR", method=method, actor=cast.ticketing_manager_a.actor.label,
    )  # fmt: skip


def test_a_desk_payment_is_paid_at_once_and_tells_the_purpose(cast: Cast, shop: Shop) -> None:
    payment = desk(cast)
    payment.refresh_from_db()
    assert (payment.state, payment.provider, payment.method) == ("paid", "desk", "cash")
    assert payment.paid_at is not None and shop.paid == [(payment.pk, False)]
    assert facts_of(payment) == ["payments.payment.created", "payments.payment.paid"]


def test_a_free_ticket_at_the_desk_is_a_zero_payment(cast: Cast, shop: Shop) -> None:
    assert desk(cast, amount="0").amount == Decimal("0.00")


@pytest.mark.parametrize(
    ("amount", "method", "field"), [("17.00", "cheque", "method"), ("-1", "cash", "amount")]
)
def test_bad_desk_input_is_refused(cast: Cast, shop: Shop, amount: str, method: str, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        desk(cast, amount=amount, method=method)
    assert caught.value.field == field and not Payment.objects.exists()


def test_a_desk_payment_asked_for_earlier_is_settled_by_the_cashier(cast: Cast, shop: Shop) -> None:
    begun = start(
        cast.institution_a, provider="desk", amount=Decimal("17.00"), reference="D-1", return_url=""
    )
    assert (begun.redirect_url, begun.qr, begun.payment.state) == (None, None, "created")
    settled = desk(cast, method="card")
    assert settled.pk == begun.payment.pk and Payment.objects.count() == 1
    assert facts_of(settled) == ["payments.payment.created", "payments.payment.paid"]


def test_a_desk_refund_completes_at_once(cast: Cast, shop: Shop) -> None:
    payment = desk(cast)
    refund = services.payment_refund(
        payment=payment, amount=Decimal("17.00"), refund_id="D-1-r", actor="user:x"
    )
    assert refund.state == "succeeded" and payment.state == "refunded"
    assert shop.refunded == [("D-1-r", Decimal("17.00"))]
