"""Settlement at its edges: costs above revenue, no visits, one site, months issued out of order."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cimaise.core.errors import Conflict
from cimaise.passnet.models import SettlementRule
from cimaise.passnet.settlement import settlement_issue, shares_split, statement_compute
from cimaise.passnet.tests.conftest import PARIS, Network

MARCH = dt.date(2026, 3, 1)
AT = dt.datetime(2026, 3, 10, 10, 0, tzinfo=PARIS)


def _sum(statement: object) -> Decimal:
    return sum((line.amount for line in statement.lines), Decimal("0.00"))  # type: ignore[attr-defined]


def test_costs_above_revenue_leave_nothing_to_share_and_no_negative_share(network: Network) -> None:
    SettlementRule.objects.create(operator=network.operator, fixed_costs=Decimal("1000.00"))
    passes = network.issue(quantity=3)
    for p, site in zip(passes, ("ORSAY", "LOUVRE-PYR", "VERSAILLES"), strict=True):
        network.scan(site, p.code, AT)
    statement = statement_compute(network.operator, MARCH)
    assert (statement.revenue, statement.costs, statement.distributable) == (
        Decimal("186.00"),
        Decimal("186.00"),
        Decimal("0.00"),
    )
    assert [line.amount for line in statement.lines] == [Decimal("0.00")] * 3
    assert _sum(statement) == statement.distributable


@pytest.mark.parametrize("cents", [-1, -2, -100, -12345])
def test_a_negative_amount_still_splits_exactly(cents: int) -> None:
    amount = Decimal(cents) / 100
    shares = shares_split(amount, {"A": 1, "B": 1, "C": 1})
    assert sum(shares.values()) == amount
    assert max(shares.values()) - min(shares.values()) <= Decimal("0.01")


def test_one_site_gets_it_all_and_no_visits_gets_no_line(network: Network) -> None:
    passes = network.issue(quantity=3)
    assert statement_compute(network.operator, MARCH).lines == []  # sold, never used
    network.scan("ORSAY", passes[0].code, AT)
    statement = statement_compute(network.operator, MARCH)
    assert [(line.site.code, line.amount) for line in statement.lines] == [("ORSAY", Decimal("158.10"))]
    assert _sum(statement) == statement.distributable


def test_an_earlier_month_cannot_be_issued_after_a_later_one(network: Network) -> None:
    actor = network.pass_operator.actor
    settlement_issue(actor=actor, month="2026-04", now=dt.datetime(2026, 5, 2, tzinfo=PARIS))
    with pytest.raises(Conflict, match="later month"):
        settlement_issue(actor=actor, month="2026-03", now=dt.datetime(2026, 5, 2, tzinfo=PARIS))
