"""Matching a provider's statement rows with our payments and refunds (used by
``reconciliation.reconciliation_run``): every difference becomes an unsaved
``ReconciliationLine``.

Keys: a payment by ``out_trade_no`` (our payment id), a refund by its ``refund_id`` (Alipay's
``out_request_no``, WeChat Pay's ``out_refund_no``). Our side of the day is every payment of the
provider marked paid (``paid_at``) and every refund completed (``completed_at``) inside the
statement's window, plus whatever the statement names from outside it (a payment listed by the
provider is compared wherever its ``paid_at`` fell).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cimaise.core.models import Institution
from cimaise.payments.models import PAID_STATES, Payment, ReconciliationLine, Refund
from cimaise.payments.money import amount_text
from cimaise.payments.rates import indicative_amount
from cimaise.payments.statements import StatementRow

Kind = ReconciliationLine.Kind
EDGE = dt.timedelta(minutes=15)  # a payment recorded this soon after the day began may be on the day before
_CHUNK = 500  # ids per IN (…) query, well under SQLite's variable limit
_LIVE_REFUNDS = (Refund.State.SUCCEEDED, Refund.State.PENDING)


@dataclass
class Ours:
    """Our side: the payments and refunds of the window, and those the statement names."""

    payments: dict[str, Payment]
    refunds: dict[str, Refund]
    window_payments: list[str]
    window_refunds: list[str]


@dataclass
class Comparison:
    lines: list[ReconciliationLine] = field(default_factory=list)
    matched: int = 0
    provider_payments: int = 0
    provider_refunds: int = 0
    our_payments: int = 0
    our_refunds: int = 0
    totals: dict[str, Any] = field(default_factory=dict)

    def by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for line in self.lines:
            counts[line.kind] += 1
        return dict(sorted(counts.items()))


def _chunks(items: Iterable[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) == _CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def ours_load(
    *,
    institution: Institution,
    provider: str,
    window: tuple[dt.datetime, dt.datetime],
    rows: Sequence[StatementRow],
) -> Ours:
    """Our payments and refunds through ``provider`` in ``window``, and those ``rows`` name."""
    start, end = window
    payments = Payment.objects.filter(institution=institution, provider=provider)
    refunds = Refund.objects.select_related("payment").filter(
        payment__institution=institution, payment__provider=provider
    )
    in_window = payments.filter(state__in=PAID_STATES, paid_at__gte=start, paid_at__lt=end)
    refunds_in_window = refunds.filter(
        state=Refund.State.SUCCEEDED, completed_at__gte=start, completed_at__lt=end
    )
    ours = Ours(
        payments={p.pk: p for p in in_window.order_by("paid_at", "pk")},
        refunds={r.refund_id: r for r in refunds_in_window.order_by("completed_at", "pk")},
        window_payments=[],
        window_refunds=[],
    )
    ours.window_payments, ours.window_refunds = list(ours.payments), list(ours.refunds)
    for ids in _chunks({r.out_trade_no for r in rows if r.kind == "payment"}):
        ours.payments.update({p.pk: p for p in payments.filter(pk__in=ids)})
    for ids in _chunks({r.refund_id for r in rows if r.kind == "refund"}):
        ours.refunds.update({r.refund_id: r for r in refunds.filter(refund_id__in=ids)})
    return ours


def compare(
    *, rows: Sequence[StatementRow], ours: Ours, day: dt.date, window: tuple[dt.datetime, dt.datetime]
) -> Comparison:
    """Every difference between the statement's ``rows`` (of ``day``) and ``ours``."""
    result = Comparison()
    listed: dict[tuple[str, str], StatementRow] = {}
    for row in rows:
        key = (row.kind, row.refund_id if row.kind == "refund" else row.out_trade_no)
        first = listed.get(key)
        if first is not None:
            result.lines.append(line_new(Kind.DUPLICATE, row=row, note=f"also on line {first.line}"))
            continue
        listed[key] = row
        found = _row_differences(row, ours, day)
        result.lines.extend(found)
        result.matched += not found
    result.lines.extend(_missing_there(ours, listed, window))
    _count(result, list(listed.values()), ours)
    return result


def _row_differences(row: StatementRow, ours: Ours, day: dt.date) -> list[ReconciliationLine]:
    if row.kind == "payment":
        payment = ours.payments.get(row.out_trade_no)
        if payment is None:
            return [line_new(Kind.MISSING_HERE, row=row)]
        return _payment_differences(row, payment, day)
    refund = ours.refunds.get(row.refund_id)
    if refund is None:
        return [line_new(Kind.REFUND_MISSING_HERE, row=row)]
    if refund.payment_id != row.out_trade_no:
        note = f"our refund {refund.refund_id} is of payment {refund.payment_id}"
        return [line_new(Kind.REFUND_MISSING_HERE, row=row, note=note)]
    return _refund_differences(row, refund)


def _payment_differences(row: StatementRow, payment: Payment, day: dt.date) -> list[ReconciliationLine]:
    found = []
    if row.currency != payment.currency:
        note = _converted(payment.amount, payment.currency, row.currency, day)
        found.append(line_new(Kind.CURRENCY_MISMATCH, row=row, payment=payment, note=note))
    elif row.amount != payment.amount:
        found.append(line_new(Kind.AMOUNT_MISMATCH, row=row, payment=payment))
    if (row.status == "paid") != (payment.state in PAID_STATES):
        found.append(line_new(Kind.STATUS_MISMATCH, row=row, payment=payment))
    return found


def _refund_differences(row: StatementRow, refund: Refund) -> list[ReconciliationLine]:
    found = []
    if row.currency != refund.payment.currency:
        found.append(line_new(Kind.CURRENCY_MISMATCH, row=row, refund=refund))
    elif row.amount != refund.amount:
        found.append(line_new(Kind.AMOUNT_MISMATCH, row=row, refund=refund))
    if row.status != refund.state:
        found.append(line_new(Kind.STATUS_MISMATCH, row=row, refund=refund))
    return found


def _converted(amount: Decimal, base: str, quote: str, day: dt.date) -> str:
    """What our amount is worth in the statement's currency, at the indicative rate."""
    value = indicative_amount(amount=amount, base=base, quote=quote, day=day)
    if value is None:
        return f"no {base}→{quote} rate known for {day.isoformat()}"
    return f"ours ≈ {amount_text(value)} {quote} at the indicative rate of {day.isoformat()}"


def _missing_there(
    ours: Ours, listed: dict[tuple[str, str], StatementRow], window: tuple[dt.datetime, dt.datetime]
) -> Iterator[ReconciliationLine]:
    for payment_id in ours.window_payments:
        if ("payment", payment_id) not in listed:
            payment = ours.payments[payment_id]
            note = _edge_note(payment.paid_at, window[0])
            yield line_new(Kind.MISSING_THERE, payment=payment, note=note)
    for refund_id in ours.window_refunds:
        if ("refund", refund_id) not in listed:
            refund = ours.refunds[refund_id]
            yield line_new(
                Kind.REFUND_MISSING_THERE, refund=refund, note=_edge_note(refund.completed_at, window[0])
            )


def _edge_note(moment: dt.datetime | None, start: dt.datetime) -> str:
    if moment is not None and moment - start < EDGE:
        return "recorded just after the day began: it may be on the previous day's statement"
    return ""


def _count(result: Comparison, listed: list[StatementRow], ours: Ours) -> None:
    result.provider_payments = sum(1 for row in listed if row.kind == "payment")
    result.provider_refunds = sum(1 for row in listed if row.kind == "refund")
    result.our_payments = len(ours.payments)
    result.our_refunds = len(ours.refunds)
    provider: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: {"payments": Decimal(0), "refunds": Decimal(0)}
    )
    for row in listed:
        if row.status in ("paid", "succeeded", "pending"):
            provider[row.currency]["payments" if row.kind == "payment" else "refunds"] += row.amount
    mine: dict[str, dict[str, Decimal]] = defaultdict(lambda: {"payments": Decimal(0), "refunds": Decimal(0)})
    for payment in ours.payments.values():
        if payment.state in PAID_STATES:
            mine[payment.currency]["payments"] += payment.amount
    for refund in ours.refunds.values():
        if refund.state in _LIVE_REFUNDS:
            mine[refund.payment.currency]["refunds"] += refund.amount
    result.totals = {"provider": _as_text(provider), "ours": _as_text(mine)}


def _as_text(totals: dict[str, dict[str, Decimal]]) -> dict[str, dict[str, str]]:
    return {
        currency: {k: amount_text(v) for k, v in sums.items()} for currency, sums in sorted(totals.items())
    }


def line_new(
    kind: str,
    *,
    row: StatementRow | None = None,
    payment: Payment | None = None,
    refund: Refund | None = None,
    note: str = "",
) -> ReconciliationLine:
    """An unsaved line: the provider's side from ``row``, ours from ``payment`` or ``refund``."""
    line = ReconciliationLine(kind=kind, note=note[:300])
    if row is not None:
        line.transaction = row.kind
        line.out_trade_no, line.refund_id = row.out_trade_no[:64], row.refund_id[:64]
        line.provider_reference, line.statement_line = row.provider_reference, row.line
        line.occurred_at = row.occurred_at
        line.provider_amount, line.provider_currency = row.amount, row.currency
        line.provider_status = row.raw_status[:32]
    if payment is not None:
        line.transaction, line.out_trade_no = "payment", payment.pk
        line.our_amount, line.our_currency, line.our_state = payment.amount, payment.currency, payment.state
        line.occurred_at = line.occurred_at or payment.paid_at
    if refund is not None:
        line.transaction, line.out_trade_no, line.refund_id = "refund", refund.payment_id, refund.refund_id
        line.our_amount, line.our_currency = refund.amount, refund.payment.currency
        line.our_state = refund.state
        line.occurred_at = line.occurred_at or refund.completed_at
    return line
