"""DESIGN §6.4: a payment is marked paid only from a notification whose signature and amount are
verified, once. A resend gets the first answer and writes nothing; anything forged, tampered
with or not matching the payment is refused and changes nothing."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction

from cimaise.core.errors import Conflict, NotFound
from cimaise.core.tests.personas import Cast
from cimaise.ledger.models import Fact
from cimaise.ledger.verify import ledger_verify
from cimaise.payments import hooks, services
from cimaise.payments.models import Notification, Payment
from cimaise.payments.tests.conftest import PURPOSE, Shop, deliver, facts_of, signed, start

pytestmark = pytest.mark.django_db


def snapshot(payment: Payment) -> tuple[object, ...]:
    payment.refresh_from_db()
    return (payment.state, payment.paid_at, Notification.objects.count(), Fact.objects.count())


def test_a_verified_notification_marks_the_payment_paid_once(payment: Payment, shop: Shop) -> None:
    outcome = deliver(*signed(payment))
    assert (outcome.status, json.loads(outcome.body), outcome.accepted) == (200, {"status": "ok"}, True)
    payment.refresh_from_db()
    assert payment.state == "paid" and payment.paid_at is not None and not payment.late
    assert payment.provider_reference.startswith("sbx_txn_")
    assert shop.paid == [(payment.pk, False)]
    assert facts_of(payment) == ["payments.payment.created", "payments.payment.paid"]
    stored = Notification.objects.get()
    assert (stored.outcome, stored.verified, stored.amount) == ("paid", True, Decimal("12.50"))
    assert "X-Sandbox-Signature" in stored.evidence
    assert ledger_verify().ok


def test_a_resent_notification_gets_the_first_answer_and_writes_nothing(payment: Payment, shop: Shop) -> None:
    body, headers = signed(payment)
    first = deliver(body, headers)
    before = snapshot(payment)
    again = deliver(body, headers)
    assert (again.status, again.body, again.duplicate) == (first.status, first.body, True)
    assert snapshot(payment) == before
    assert shop.paid == [(payment.pk, False)]


def test_a_second_paid_notification_changes_nothing(payment: Payment, shop: Shop) -> None:
    deliver(*signed(payment))
    outcome = deliver(*signed(payment))
    assert outcome.accepted and not outcome.duplicate
    assert outcome.notification is not None and outcome.notification.outcome == "ignored"
    assert shop.paid == [(payment.pk, False)]
    assert facts_of(payment)[-1] == "payments.notification.ignored"


def test_a_decline_marks_the_payment_failed_and_tells_the_purpose(payment: Payment, shop: Shop) -> None:
    outcome = deliver(*signed(payment, "failed"))
    payment.refresh_from_db()
    assert outcome.accepted and payment.state == "failed" and payment.paid_at is None
    assert shop.failed == [payment.pk] and shop.paid == []
    assert facts_of(payment)[-1] == "payments.payment.failed"


def test_a_decline_after_payment_does_not_unpay(payment: Payment, shop: Shop) -> None:
    deliver(*signed(payment))
    deliver(*signed(payment, "failed"))
    payment.refresh_from_db()
    assert payment.state == "paid" and shop.failed == []


def forged_body(payment: Payment) -> tuple[bytes, dict[str, str]]:
    body, headers = signed(payment)
    return body.replace(b'"12.50"', b'"0.01"'), headers


def foreign_key(payment: Payment) -> tuple[bytes, dict[str, str]]:
    return signed(payment, signer=Ed25519PrivateKey.generate())


def unknown_kid(payment: Payment) -> tuple[bytes, dict[str, str]]:
    return signed(payment, kid="louvre-payments-sandbox-20191024-000000")


def no_signature(payment: Payment) -> tuple[bytes, dict[str, str]]:
    return signed(payment)[0], {}


@pytest.mark.parametrize("forge", [forged_body, foreign_key, unknown_kid, no_signature])
def test_a_bad_signature_is_refused_and_writes_nothing(payment: Payment, shop: Shop, forge: object) -> None:
    before = snapshot(payment)
    outcome = deliver(*forge(payment))  # type: ignore[operator]
    assert (outcome.status, outcome.accepted, outcome.code) == (400, False, "bad_signature")
    assert json.loads(outcome.body)["error"]["code"] == "bad_signature"
    assert snapshot(payment) == before and shop.paid == []


def test_another_institutions_gateway_key_cannot_pay(cast: Cast, payment: Payment, shop: Shop) -> None:
    orsay_payment = start(cast.institution_b).payment
    _body, orsay_headers = signed(orsay_payment)
    body, _headers = signed(payment)
    outcome = deliver(body, orsay_headers)
    assert outcome.code == "bad_signature"
    payment.refresh_from_db()
    assert payment.state == "created"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"amount": "12.49"}, "amount_mismatch"),
        ({"amount": "1250.00"}, "amount_mismatch"),
        ({"currency": "CNY"}, "currency_mismatch"),
        ({"payment": "0" * 32}, "unknown_payment"),
        ({"status": "refunded"}, "malformed"),
        ({"time": "2019-10-24 10:00"}, "malformed"),
    ],
)
def test_a_signed_notification_that_does_not_match_is_refused(
    payment: Payment, shop: Shop, changes: dict[str, Any], code: str
) -> None:
    outcome = deliver(*signed(payment, **changes))
    assert (outcome.status, outcome.accepted, outcome.code) == (400, False, code)
    payment.refresh_from_db()
    assert payment.state == "created" and shop.paid == [] and not Notification.objects.exists()


def test_a_refused_signed_notification_is_recorded_once_for_the_audit(payment: Payment, shop: Shop) -> None:
    body, headers = signed(payment, amount="1.00")
    deliver(body, headers)
    deliver(body, headers)
    rejected = Fact.objects.filter(type="payments.notification.rejected")
    assert rejected.count() == 1
    recorded = json.loads(rejected.get().body)
    assert (recorded["code"], recorded["payment"], recorded["amount"]) == (
        "amount_mismatch",
        payment.pk,
        "1.00",
    )
    assert ledger_verify().ok


def test_a_notification_through_the_wrong_provider_is_refused(cast: Cast, shop: Shop) -> None:
    desk = start(cast.institution_a, provider="desk").payment
    outcome = deliver(*signed(desk))
    assert outcome.code == "provider_mismatch"
    desk.refresh_from_db()
    assert desk.state == "created"


def test_an_unknown_provider_is_not_found() -> None:
    for name in ("paypal", "desk"):
        with pytest.raises(NotFound) as caught:
            services.notification_receive(provider=name, body=b"{}", headers={})
        assert caught.value.code == "unknown_provider"


def test_a_late_payment_of_a_cancelled_order_is_taken_and_flagged(payment: Payment, shop: Shop) -> None:
    services.payment_cancel(payment=payment, actor="system:test", reason="order expired")
    assert payment.state == "cancelled"
    outcome = deliver(*signed(payment))
    payment.refresh_from_db()
    assert outcome.accepted and payment.state == "paid" and payment.late
    assert shop.paid == [(payment.pk, True)]
    assert payment.refundable == Decimal("12.50")


def test_a_payment_after_its_expiry_time_is_flagged_late(cast: Cast, shop: Shop) -> None:
    soon = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    payment = start(cast.institution_a, expires_at=soon).payment
    deliver(*signed(payment))
    payment.refresh_from_db()
    assert payment.state == "paid" and payment.late


def test_a_paid_payment_cannot_be_cancelled(payment: Payment, shop: Shop) -> None:
    deliver(*signed(payment))
    with pytest.raises(Conflict) as caught:
        services.payment_cancel(payment=payment, actor="system:test")
    assert caught.value.code == "already_paid"


def test_the_hook_runs_inside_the_transaction_and_its_failure_rolls_back(payment: Payment) -> None:
    seen: list[bool] = []

    def refuse(paid: Payment, now: dt.datetime) -> None:
        seen.append(transaction.get_connection().in_atomic_block)
        raise Conflict("the order is gone", code="order_gone")

    hooks.register(PURPOSE, hooks.PurposeHooks(on_paid=refuse))
    before = snapshot(payment)
    with pytest.raises(Conflict):
        deliver(*signed(payment))
    assert seen == [True] and snapshot(payment) == before
