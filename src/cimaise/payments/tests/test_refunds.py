"""Refunds: partial then the rest, idempotent by refund id, never more than paid; a purpose may
refund a late payment from inside its ``on_paid`` hook."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from cimaise.core.errors import Conflict, InvalidInput
from cimaise.ledger.models import Fact
from cimaise.ledger.verify import ledger_verify
from cimaise.payments import hooks, services
from cimaise.payments.models import Payment, Refund
from cimaise.payments.tests.conftest import PURPOSE, Shop, deliver, facts_of, signed

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(payment: Payment) -> Payment:
    deliver(*signed(payment))
    payment.refresh_from_db()
    return payment


def refund(payment: Payment, amount: str, refund_id: str) -> Refund:
    return services.payment_refund(
        payment=payment,
        amount=Decimal(amount),
        refund_id=refund_id,
        reason="visitor asked",
        actor="user:finance",
    )


def test_a_partial_refund_then_the_rest(paid: Payment, shop: Shop) -> None:
    first = refund(paid, "5.00", "A1B2-r1")
    assert (first.state, paid.state, paid.refunded_amount) == (
        "succeeded",
        "partially_refunded",
        Decimal("5.00"),
    )
    second = refund(paid, "7.50", "A1B2-r2")
    assert (second.state, paid.state, paid.refunded_amount) == ("succeeded", "refunded", Decimal("12.50"))
    assert shop.refunded == [("A1B2-r1", Decimal("5.00")), ("A1B2-r2", Decimal("7.50"))]
    assert facts_of(paid)[2:] == ["payments.refund.requested", "payments.refund.succeeded"] * 2
    assert ledger_verify().ok


def test_the_same_refund_id_again_returns_the_first_refund_and_writes_nothing(
    paid: Payment, shop: Shop
) -> None:
    first = refund(paid, "5.00", "A1B2-r1")
    facts = Fact.objects.count()
    again = refund(paid, "5.00", "A1B2-r1")
    paid.refresh_from_db()
    assert again.pk == first.pk and paid.refunded_amount == Decimal("5.00")
    assert Fact.objects.count() == facts and len(shop.refunded) == 1


def test_another_amount_under_a_used_refund_id_is_a_conflict(paid: Payment) -> None:
    refund(paid, "5.00", "A1B2-r1")
    with pytest.raises(Conflict) as caught:
        refund(paid, "6.00", "A1B2-r1")
    assert caught.value.code == "refund_id_reused"


@pytest.mark.parametrize(("amount", "done"), [("12.51", "0"), ("8.00", "5.00"), ("0", "0"), ("1.001", "0")])
def test_more_than_is_left_is_refused_naming_the_amount(paid: Payment, amount: str, done: str) -> None:
    if done != "0":
        refund(paid, done, "before")
    with pytest.raises(InvalidInput) as caught:
        refund(paid, amount, "too-much")
    assert caught.value.field == "amount"
    assert not Refund.objects.filter(refund_id="too-much").exists()


def test_an_unpaid_payment_cannot_be_refunded(payment: Payment) -> None:
    with pytest.raises(Conflict) as caught:
        refund(payment, "1.00", "r")
    assert caught.value.code == "not_paid"


def test_a_purpose_can_refund_a_late_payment_from_its_hook(payment: Payment) -> None:
    """What ticketing does when a payment arrives after its order expired."""

    def refund_late(late: Payment, now: dt.datetime) -> None:
        assert late.late
        services.payment_refund(
            payment=late, amount=late.amount, refund_id=f"{late.reference}-late", actor="system:test", now=now
        )

    services.payment_cancel(payment=payment, actor="system:test", expired=True)
    hooks.register(PURPOSE, hooks.PurposeHooks(on_paid=refund_late))
    outcome = deliver(*signed(payment))
    payment.refresh_from_db()
    assert outcome.accepted and (payment.state, payment.late, payment.refunded_amount) == (
        "refunded",
        True,
        Decimal("12.50"),
    )
    assert outcome.payment is not None and outcome.payment.state == "refunded"
    assert facts_of(payment) == [
        "payments.payment.created",
        "payments.payment.cancelled",
        "payments.refund.requested",
        "payments.refund.succeeded",
        "payments.payment.paid",
    ]
    paid_fact = Fact.objects.filter(type="payments.payment.paid").get()
    assert json.loads(paid_fact.body)["previous_state"] == "expired"
    assert ledger_verify().ok
