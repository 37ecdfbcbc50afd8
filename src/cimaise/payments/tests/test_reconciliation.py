"""Reconciliation runs: a clean day of each provider has no difference, each kind of difference
is found and stored with both sides, a bad file stores nothing, and the fact is recorded."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

import pytest

from cimaise.core.errors import InvalidInput, PermissionDenied
from cimaise.core.tests.personas import Cast
from cimaise.ledger.models import Fact
from cimaise.payments.models import PaymentState, ReconciliationLine, ReconciliationRun, Refund
from cimaise.payments.rates import exchange_rate_set
from cimaise.payments.reconciliation import reconciliation_run, statement_window
from cimaise.payments.tests.factories_reconciliation import (
    DAY,
    SANDBOX_1,
    SANDBOX_2,
    SANDBOX_REFUND,
    alipay_day,
    fixture,
    grants_sync,
    paid_payment,
    paris,
    refund_done,
    sandbox_csv,
    sandbox_day,
    wechat_day,
)

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2020, 1, 3, 9, 0, tzinfo=dt.UTC)
P1 = f"2020-01-02T10:15:00+01:00,{SANDBOX_1},sbx_tx_0001,payment,12.50,EUR,paid"
P2 = f"2020-01-02T14:00:00+01:00,{SANDBOX_2},sbx_tx_0002,payment,30.00,EUR,paid"
R1 = f"2020-01-02T16:30:00+01:00,{SANDBOX_1},{SANDBOX_REFUND},refund,12.50,EUR,succeeded"


@pytest.fixture(autouse=True)
def _grants(db: object) -> None:
    grants_sync()


def run(cast: Cast, provider: str, data: bytes, day: dt.date = DAY) -> ReconciliationRun:
    actor = cast.ticketing_manager_a.actor
    return reconciliation_run(
        actor=actor, provider=provider, day=day, statement=data, filename="s.csv", now=NOW
    )


def kinds(found: ReconciliationRun) -> list[tuple[str, str]]:
    return [(line.kind, line.out_trade_no) for line in found.lines.order_by("id")]


@pytest.mark.parametrize(
    ("provider", "setup", "name"),
    [
        ("alipay", alipay_day, "alipay_trade_bill.csv"),
        ("wechatpay", wechat_day, "wechatpay_tradebill_all.csv"),
        ("sandbox", sandbox_day, "sandbox_statement.csv"),
    ],
)
def test_a_clean_day_of_each_provider_has_no_difference(
    cast: Cast, provider: str, setup: object, name: str
) -> None:
    setup(cast.institution_a)  # type: ignore[operator]
    found = run(cast, provider, fixture(name))
    assert found.differences == 0 and kinds(found) == []
    assert found.matched == found.provider_payments + found.provider_refunds > 0
    assert (found.our_payments, found.our_refunds) == (found.provider_payments, found.provider_refunds)
    assert found.totals["provider"] == found.totals["ours"]


def test_the_totals_of_both_sides_are_kept_per_currency(cast: Cast) -> None:
    alipay_day(cast.institution_a)
    found = run(cast, "alipay", fixture("alipay_trade_bill.csv"))
    assert found.totals["provider"] == {"CNY": {"payments": "180.00", "refunds": "20.00"}}


def test_the_alipay_day_is_a_beijing_day(cast: Cast) -> None:
    start, end = statement_window(provider="alipay", day=DAY)
    assert start == paris(17, day=dt.date(2020, 1, 1)) and end == paris(17)
    sandbox_start, _end = statement_window(provider="sandbox", day=DAY)
    assert sandbox_start == paris(0)


def test_a_payment_only_the_provider_lists_is_missing_here(cast: Cast) -> None:
    found = run(cast, "sandbox", sandbox_csv(P1))
    (line,) = found.lines.all()
    assert (line.kind, line.out_trade_no, line.statement_line) == ("missing_here", SANDBOX_1, 2)
    assert (line.provider_amount, line.provider_currency, line.our_amount) == (Decimal("12.50"), "EUR", None)


def test_a_payment_paid_here_that_the_provider_does_not_list_is_missing_there(cast: Cast) -> None:
    sandbox_day(cast.institution_a)
    found = run(cast, "sandbox", sandbox_csv(P1, R1))
    assert kinds(found) == [("missing_there", SANDBOX_2)]
    line = found.lines.get()
    assert (line.our_amount, line.our_state, line.statement_line) == (Decimal("30.00"), "paid", None)


def test_payments_of_other_days_providers_or_institutions_are_not_ours_of_the_day(cast: Cast) -> None:
    paid_payment(
        cast.institution_a,
        pk="d" * 32,
        provider="sandbox",
        amount="5.00",
        paid_at=paris(23, 59, day=dt.date(2020, 1, 1)),
    )
    paid_payment(cast.institution_a, pk="e" * 32, provider="alipay", amount="5.00", paid_at=paris(12))
    paid_payment(cast.institution_b, pk="f" * 32, provider="sandbox", amount="5.00", paid_at=paris(12))
    paid_payment(
        cast.institution_a,
        pk="9" * 32,
        provider="sandbox",
        amount="5.00",
        paid_at=paris(12),
        state=PaymentState.FAILED,
    )
    assert run(cast, "sandbox", sandbox_csv()).differences == 0


def test_another_institutions_payment_listed_is_missing_here_not_matched(cast: Cast) -> None:
    paid_payment(
        cast.institution_b,
        pk=SANDBOX_1,
        provider="sandbox",
        amount="12.50",
        currency="EUR",
        paid_at=paris(10, 15),
    )
    assert kinds(run(cast, "sandbox", sandbox_csv(P1))) == [("missing_here", SANDBOX_1)]


def test_another_amount_is_an_amount_mismatch_with_both_amounts(cast: Cast) -> None:
    sandbox_day(cast.institution_a)
    found = run(cast, "sandbox", sandbox_csv(P1.replace("12.50", "12.05"), P2, R1))
    line = found.lines.get()
    assert (line.kind, line.provider_amount, line.our_amount) == (
        "amount_mismatch",
        Decimal("12.05"),
        Decimal("12.50"),
    )


def test_another_currency_is_a_currency_mismatch_with_the_indicative_conversion(cast: Cast) -> None:
    exchange_rate_set(base="EUR", quote="CNY", rate=Decimal("7.83"), valid_from=DAY, source="test")
    sandbox_day(cast.institution_a)
    found = run(cast, "sandbox", sandbox_csv(P1.replace("12.50,EUR", "97.88,CNY"), P2, R1))
    line = found.lines.get()
    assert (line.kind, line.provider_currency, line.our_currency) == ("currency_mismatch", "CNY", "EUR")
    assert "97.88 CNY" in line.note


def test_a_payment_the_provider_says_failed_but_we_marked_paid_is_a_status_mismatch(cast: Cast) -> None:
    sandbox_day(cast.institution_a)
    found = run(cast, "sandbox", sandbox_csv(P1, P2.replace(",paid", ",failed"), R1))
    assert kinds(found) == [("status_mismatch", SANDBOX_2)]
    line = found.lines.get()
    assert (line.provider_status, line.our_state) == ("failed", "paid")


def test_a_payment_paid_at_the_provider_but_still_awaiting_here_is_a_status_mismatch(cast: Cast) -> None:
    paid_payment(
        cast.institution_a,
        pk=SANDBOX_1,
        provider="sandbox",
        amount="12.50",
        currency="EUR",
        paid_at=paris(10),
        state=PaymentState.EXPIRED,
    )
    assert kinds(run(cast, "sandbox", sandbox_csv(P1))) == [("status_mismatch", SANDBOX_1)]


def test_a_refund_only_the_provider_lists_is_refund_missing_here(cast: Cast) -> None:
    sandbox_day(cast.institution_a)
    extra = R1.replace(SANDBOX_REFUND, "rs-unknown")
    found = run(cast, "sandbox", sandbox_csv(P1, P2, R1, extra))
    line = found.lines.get()
    assert (line.kind, line.refund_id, line.statement_line) == ("refund_missing_here", "rs-unknown", 5)


def test_a_refund_made_here_that_the_provider_does_not_list_is_refund_missing_there(cast: Cast) -> None:
    sandbox_day(cast.institution_a)
    found = run(cast, "sandbox", sandbox_csv(P1, P2))
    line = found.lines.get()
    assert (line.kind, line.refund_id, line.out_trade_no, line.our_amount) == (
        "refund_missing_there",
        SANDBOX_REFUND,
        SANDBOX_1,
        Decimal("12.50"),
    )


def test_a_refund_still_pending_here_but_done_at_the_provider_is_a_status_mismatch(cast: Cast) -> None:
    payment = paid_payment(
        cast.institution_a,
        pk=SANDBOX_1,
        provider="sandbox",
        amount="12.50",
        currency="EUR",
        paid_at=paris(10, 15),
    )
    refund_done(
        payment, refund_id=SANDBOX_REFUND, amount="12.50", at=paris(16, 30), state=Refund.State.PENDING
    )
    found = run(cast, "sandbox", sandbox_csv(P1, R1))
    line = found.lines.get()
    assert (line.kind, line.transaction, line.provider_status, line.our_state) == (
        "status_mismatch",
        "refund",
        "succeeded",
        "pending",
    )


def test_a_transaction_listed_twice_is_a_duplicate_naming_the_first_line(cast: Cast) -> None:
    sandbox_day(cast.institution_a)
    found = run(cast, "sandbox", sandbox_csv(P1, P2, R1, P1, R1))
    assert [(line.kind, line.statement_line, line.note) for line in found.lines.order_by("id")] == [
        ("duplicate", 5, "also on line 2"),
        ("duplicate", 6, "also on line 4"),
    ]
    assert found.totals["provider"] == found.totals["ours"]  # counted once


def test_a_payment_recorded_just_after_midnight_is_flagged_as_maybe_on_the_day_before(cast: Cast) -> None:
    paid_payment(
        cast.institution_a,
        pk=SANDBOX_1,
        provider="sandbox",
        amount="12.50",
        currency="EUR",
        paid_at=paris(0, 3),
    )
    line = run(cast, "sandbox", sandbox_csv()).lines.get()
    assert line.kind == "missing_there" and "previous day" in line.note


def test_a_malformed_file_is_refused_naming_the_line_and_nothing_is_stored(cast: Cast) -> None:
    sandbox_day(cast.institution_a)
    facts = Fact.objects.count()
    with pytest.raises(InvalidInput) as caught:
        run(cast, "sandbox", sandbox_csv(P1, P2.replace("30.00", "thirty")))
    assert caught.value.details == {"field": "statement", "line": 3}
    assert ReconciliationRun.objects.count() == ReconciliationLine.objects.count() == 0
    assert Fact.objects.count() == facts


@pytest.mark.parametrize(
    ("provider", "day", "field"),
    [("paypal", DAY, "provider"), ("desk", DAY, "provider"), ("sandbox", dt.date(2020, 1, 4), "day")],
)
def test_an_unknown_provider_or_a_future_day_is_refused_naming_the_field(
    cast: Cast, provider: str, day: dt.date, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        run(cast, provider, sandbox_csv(), day=day)
    assert caught.value.field == field and not ReconciliationRun.objects.exists()


def test_a_gate_agent_may_not_reconcile(cast: Cast) -> None:
    with pytest.raises(PermissionDenied):
        reconciliation_run(
            actor=cast.gate_agent_a.actor,
            provider="sandbox",
            day=DAY,
            statement=sandbox_csv(),
            filename="s.csv",
            now=NOW,
        )


def test_the_run_is_stored_with_its_source_and_recorded_as_a_fact(cast: Cast) -> None:
    sandbox_day(cast.institution_a)
    data = sandbox_csv(P1, R1)
    found = reconciliation_run(
        actor=cast.ticketing_manager_a.actor, provider="sandbox", day=DAY, statement=data,
        filename="C:\\exports\\sandbox-2020-01-02.csv", now=NOW,
    )  # fmt: skip
    assert found.institution == cast.institution_a and found.created_by == "user:ticketing-a"
    assert found.filename == "sandbox-2020-01-02.csv" and found.sha256 == hashlib.sha256(data).hexdigest()
    fact = Fact.objects.get(type="payments.reconciliation.run")
    assert fact.stream == "payments.reconciliation:louvre:sandbox"
    body = json.loads(fact.body)
    assert body["run"] == found.pk and body["source"]["sha256"] == found.sha256
    assert body["differences"] == {"missing_there": 1}
    assert body["counts"]["matched"] == 2
