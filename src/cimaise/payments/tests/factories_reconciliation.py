"""Payments and refunds as a provider's statement would list them, for the reconciliation tests.

Alipay and WeChat Pay payments are made paid directly in the database: the reconciliation reads
only what the notification path leaves behind (state, ``paid_at``, ``completed_at``), and those
providers need a configured gateway to be paid through the services.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from pathlib import Path

from cimaise.core.models import Institution
from cimaise.core.services import roles_sync
from cimaise.payments import roles_reconciliation  # noqa: F401  (the grants, until apps.ready imports them)
from cimaise.payments.models import Payment, PaymentState, Refund

STATEMENTS = Path(__file__).parent / "statements"
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")
DAY = dt.date(2020, 1, 2)

# The ids the fixture statements name (out_trade_no / out_refund_no).
ALIPAY_1 = "a1000000000000000000000000000001"
ALIPAY_2 = "a1000000000000000000000000000002"
ALIPAY_REFUND = "ra-20200102-0001"
WECHAT_1 = "b2000000000000000000000000000001"
WECHAT_REFUND = "rw-20200102-0001"
SANDBOX_1 = "c3000000000000000000000000000001"
SANDBOX_2 = "c3000000000000000000000000000002"
SANDBOX_REFUND = "rs-20200102-0001"


def grants_sync() -> None:
    """Make the role groups hold the reconciliation grants."""
    roles_sync()


def paid_payment(
    institution: Institution,
    *,
    pk: str,
    provider: str,
    amount: str,
    currency: str = "CNY",
    paid_at: dt.datetime,
    state: str = PaymentState.PAID,
) -> Payment:
    """A payment marked paid at ``paid_at`` (or left in ``state`` when that is not a paid one)."""
    paid = state in (PaymentState.PAID, PaymentState.PARTIALLY_REFUNDED, PaymentState.REFUNDED)
    return Payment.objects.create(
        id=pk,
        institution=institution,
        purpose="test.order",
        reference=pk[-6:],
        provider=provider,
        amount=Decimal(amount),
        currency=currency,
        state=state,
        created_at=paid_at - dt.timedelta(minutes=3),
        paid_at=paid_at if paid else None,
        provider_reference="",
    )


def refund_done(
    payment: Payment, *, refund_id: str, amount: str, at: dt.datetime, state: str = Refund.State.SUCCEEDED
) -> Refund:
    """A refund of ``payment`` completed at ``at`` (pending when ``state`` says so)."""
    refund = Refund.objects.create(
        payment=payment,
        refund_id=refund_id,
        amount=Decimal(amount),
        state=state,
        requested_by="user:test",
        created_at=at - dt.timedelta(seconds=5),
        completed_at=at if state != Refund.State.PENDING else None,
    )
    Payment.objects.filter(pk=payment.pk).update(
        refunded_amount=payment.refunded_amount + refund.amount, state=PaymentState.PARTIALLY_REFUNDED
    )
    return refund


def alipay_day(institution: Institution) -> None:
    """What ``alipay_trade_bill.csv`` lists, here: two payments and a refund of the first."""
    first = paid_payment(
        institution, pk=ALIPAY_1, provider="alipay", amount="120.00", paid_at=_beijing(10, 0, 31)
    )
    paid_payment(institution, pk=ALIPAY_2, provider="alipay", amount="60.00", paid_at=_beijing(15, 20, 5))
    refund_done(first, refund_id=ALIPAY_REFUND, amount="20.00", at=_beijing(16, 45, 11))


def wechat_day(institution: Institution) -> None:
    """What ``wechatpay_tradebill_all.csv`` lists, here: a payment in EUR and its refund."""
    payment = paid_payment(
        institution,
        pk=WECHAT_1,
        provider="wechatpay",
        amount="17.00",
        currency="EUR",
        paid_at=_beijing(9, 30, 2),
    )
    refund_done(payment, refund_id=WECHAT_REFUND, amount="17.00", at=_beijing(18, 2, 40))


def sandbox_day(institution: Institution) -> None:
    """What ``sandbox_statement.csv`` lists, here (a Paris day)."""
    first = paid_payment(
        institution, pk=SANDBOX_1, provider="sandbox", amount="12.50", currency="EUR", paid_at=paris(10, 15)
    )
    paid_payment(
        institution, pk=SANDBOX_2, provider="sandbox", amount="30.00", currency="EUR", paid_at=paris(14, 0)
    )
    refund_done(first, refund_id=SANDBOX_REFUND, amount="12.50", at=paris(16, 30))


def _beijing(hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(2020, 1, 2, hour, minute, second, tzinfo=BEIJING)


def paris(hour: int, minute: int = 0, *, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


def sandbox_csv(*lines: str) -> bytes:
    """A sandbox statement: the header, then ``lines``."""
    header = "time,out_trade_no,provider_reference,type,amount,currency,status"
    return "\n".join((header, *lines)).encode() + b"\n"


def fixture(name: str) -> bytes:
    return (STATEMENTS / name).read_bytes()
