"""Payments on PostgreSQL, where row locks are real: copies of one notification arriving together
pay once and call the hook once; a paid and a failed notification racing settle the payment once;
refunds racing never give back more than was paid."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from cimaise.core.errors import DomainError
from cimaise.core.tests.concurrency import at_once
from cimaise.core.tests.personas import make_cast
from cimaise.ledger.models import Fact
from cimaise.ledger.verify import ledger_verify
from cimaise.payments import services
from cimaise.payments.models import Notification, Payment, Refund
from cimaise.payments.tests.conftest import Shop, deliver, signed, start

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def live_payment(shop: Shop) -> Iterator[Payment]:
    yield start(make_cast().institution_a).payment


def test_copies_of_one_notification_arriving_together_pay_once(live_payment: Payment, shop: Shop) -> None:
    body, headers = signed(live_payment)
    outcomes, errors = at_once([lambda: deliver(body, headers) for _ in range(6)])
    assert errors == [] and all(o.status == 200 for o in outcomes)
    assert sorted(o.duplicate for o in outcomes) == [False] + [True] * 5
    assert Notification.objects.count() == 1 and shop.paid == [(live_payment.pk, False)]
    assert Fact.objects.filter(type="payments.payment.paid").count() == 1
    assert ledger_verify().ok


def test_a_paid_and_a_failed_notification_racing_settle_once(live_payment: Payment, shop: Shop) -> None:
    jobs = [lambda: deliver(*signed(live_payment)), lambda: deliver(*signed(live_payment, "failed"))]
    outcomes, errors = at_once(jobs)
    assert errors == [] and all(o.accepted for o in outcomes)
    live_payment.refresh_from_db()
    assert sorted(Notification.objects.values_list("outcome", flat=True)) in (
        ["ignored", "paid"],  # paid first: the decline changes nothing
        ["failed", "paid"],  # failed first: the payment is then paid late
    )
    assert live_payment.state == "paid" and len(shop.paid) == 1


def test_refunds_racing_never_give_back_more_than_was_paid(live_payment: Payment, shop: Shop) -> None:
    deliver(*signed(live_payment))

    def refund(n: int) -> Refund:
        return services.payment_refund(
            payment=Payment.objects.get(pk=live_payment.pk),
            amount=Decimal("5.00"),
            refund_id=f"r{n}",
            actor="x",
        )

    done, errors = at_once([lambda n=n: refund(n) for n in range(4)])  # type: ignore[misc]
    assert len(done) == 2 and len(errors) == 2 and all(isinstance(e, DomainError) for e in errors)
    live_payment.refresh_from_db()
    assert live_payment.refunded_amount == Decimal("10.00") and live_payment.state == "partially_refunded"
    assert ledger_verify().ok
