"""Monthly settlement: shares that sum exactly, frozen statements, corrections, who sees what."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cimaise.passnet.models import PassEntry, SettlementRule
from cimaise.passnet.settlement import settlement_issue, settlement_read, shares_split, statement_compute
from cimaise.passnet.sync import OfflineEntry, entries_upload
from cimaise.passnet.tests.conftest import PARIS, Network

MARCH = dt.date(2026, 3, 1)
APRIL_5 = dt.datetime(2026, 4, 5, 12, 0, tzinfo=PARIS)


@settings(max_examples=60, deadline=None)
@given(
    cents=st.integers(min_value=0, max_value=10**11),
    visits=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=60),
)
def test_shares_always_sum_exactly_to_the_distributable_revenue(cents: int, visits: list[int]) -> None:
    distributable = Decimal(cents) / 100
    by_site = {f"S{i:02d}": v for i, v in enumerate(visits)}
    shares = shares_split(distributable, by_site)
    if sum(visits):
        assert sum(shares.values()) == distributable
    assert all(share >= 0 and share == share.quantize(Decimal("0.01")) for share in shares.values())
    total = sum(visits)
    for site, share in shares.items():  # nobody is off by a cent or more from the exact share
        if total:
            assert abs(share - distributable * by_site[site] / total) < Decimal("0.01")


def test_largest_remainder_gives_the_leftover_cents_to_the_largest_remainders() -> None:
    shares = shares_split(Decimal("100.00"), {"A": 1, "B": 1, "C": 1})
    assert shares == {"A": Decimal("33.34"), "B": Decimal("33.33"), "C": Decimal("33.33")}
    assert shares_split(Decimal("10.00"), {"A": 2, "B": 1}) == {"A": Decimal("6.67"), "B": Decimal("3.33")}


def _month_of_scans(network: Network) -> None:
    passes = network.issue(quantity=4)  # 4 × 62.00 sold on 7 March
    at = dt.datetime(2026, 3, 10, 10, 0, tzinfo=PARIS)
    for p in passes[:3]:
        network.scan("ORSAY", p.code, at)
    network.scan("LOUVRE-PYR", passes[0].code, at + dt.timedelta(hours=1))
    network.scan("ORSAY", passes[0].code, at + dt.timedelta(hours=2))  # refused: not a visit


def test_a_month_is_shared_pro_rata_to_visits_net_of_costs(network: Network) -> None:
    _month_of_scans(network)
    statement = statement_compute(network.operator, MARCH)
    assert statement.revenue == Decimal("248.00")
    assert statement.costs == Decimal("37.20")  # 15 %
    assert statement.distributable == Decimal("210.80")
    assert [(line.site.code, line.visits, line.amount) for line in statement.lines] == [
        ("LOUVRE-PYR", 1, Decimal("52.70")),
        ("ORSAY", 3, Decimal("158.10")),
    ]


def test_a_fixed_amount_per_visit(network: Network) -> None:
    SettlementRule.objects.create(
        operator=network.operator, formula="per_visit", per_visit_amount=Decimal("11.50")
    )
    _month_of_scans(network)
    statement = statement_compute(network.operator, MARCH)
    assert [(line.site.code, line.amount) for line in statement.lines] == [
        ("LOUVRE-PYR", Decimal("11.50")),
        ("ORSAY", Decimal("34.50")),
    ]
    assert statement.distributable == Decimal("46.00")


def test_an_issued_statement_is_frozen_and_a_late_entry_is_a_correction_next_month(network: Network) -> None:
    _month_of_scans(network)
    actor = network.pass_operator.actor
    with pytest.raises(Exception, match="not over"):
        settlement_issue(actor=actor, month="2026-03", now=dt.datetime(2026, 3, 31, 23, 0, tzinfo=PARIS))
    settlement_issue(actor=actor, month="2026-03", now=APRIL_5)
    # an agent uploads in April an entry it decided offline on 20 March
    (late,) = network.issue()
    march_20 = dt.datetime(2026, 3, 20, 11, 0, tzinfo=PARIS)
    item = OfflineEntry("late-1", late.code, "H1", "in", march_20, march_20, "ok")
    entries_upload(site=network.sites["ORANGERIE"], entries=[item], who="agent", now=APRIL_5)
    frozen = settlement_read(actor=actor, month="2026-03")
    assert frozen.status == "issued" and frozen.visits == 4 and frozen.total_due == Decimal("210.80")
    april = statement_compute(network.operator, dt.date(2026, 4, 1))
    corrections = [line for line in april.lines if line.kind == "correction"]
    assert [(c.site.code, c.for_month, c.visits, c.amount) for c in corrections] == [
        ("ORANGERIE", MARCH, 1, Decimal("52.70"))
    ]
    with pytest.raises(Exception, match="already issued"):
        settlement_issue(actor=actor, month="2026-03", now=APRIL_5)
    assert frozen.last_entry == PassEntry.objects.filter(nonce__startswith="pn-").order_by("id").last().pk  # type: ignore[union-attr]
    # issued in May, April's statement counts the correction once; May's draft no more
    settlement_issue(actor=actor, month="2026-04", now=APRIL_5 + dt.timedelta(days=30))
    assert [line.kind for line in settlement_read(actor=actor, month="2026-04").lines] == ["correction"]
    may = statement_compute(network.operator, dt.date(2026, 5, 1))
    assert may.lines == []


def test_partners_see_their_own_lines_and_nobody_else_issues(network: Network) -> None:
    _month_of_scans(network)
    orsay = network.cast.partner_b.client()
    data = orsay.get("/api/v1/passnet/settlements/2026-03").json()
    assert data["status"] == "draft" and data["distributable"] == "210.80"
    assert [line["site"] for line in data["lines"]] == ["ORSAY"]
    full = network.pass_operator.client().get("/api/v1/passnet/settlements/2026-03").json()
    assert sum(Decimal(line["amount"]) for line in full["lines"]) == Decimal(full["distributable"])
    assert orsay.post("/api/v1/passnet/settlements/2026-03").status_code == 403
    assert network.cast.gate_agent_a.client().get("/api/v1/passnet/settlements/2026-03").status_code == 403
    bad = network.pass_operator.client().get("/api/v1/passnet/settlements/2026-13")
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "month"
