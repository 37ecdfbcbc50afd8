"""Every dashboard figure, read by DuckDB from the Parquet facts, equals the same aggregate
computed by the operational database (through the ORM's SQL, days and hours in Paris time)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import ExtractHour, TruncDate
from django.utils import timezone

from cimaise.access.models import Entry
from cimaise.moves.models import ConvoyItem, Incident
from cimaise.payments.models import Refund
from cimaise.reporting.build import facts_build
from cimaise.reporting.dashboards import DASHBOARDS, Table, dashboard_run
from cimaise.reporting.queries import Filters
from cimaise.reporting.tests.conftest import World
from cimaise.ticketing.models import Order, Slot

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def _period(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return (
        dt.datetime.combine(start, dt.time(), PARIS),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), PARIS),
    )


def visits(start: dt.date, end: dt.date) -> QuerySet[Entry]:
    lo, hi = _period(start, end)
    return Entry.objects.filter(
        institution__code="louvre", result="accepted", direction="in", recorded_at__gte=lo,
        recorded_at__lt=hi, cancellation__isnull=True,
    ).exclude(reason="reentry")  # fmt: skip


def _grouped(qs: QuerySet[Any], key: Any, value: Any) -> dict[Any, Any]:
    return {r["k"]: r["v"] for r in qs.annotate(k=key).values("k").annotate(v=value).values("k", "v")}


def _tables(world: World, dashboard: str, **filters: Any) -> dict[str, Table]:
    f = Filters("louvre", world.start, world.end, **filters)
    return {t.spec.key: t for t in dashboard_run(DASHBOARDS[dashboard], f, timezone.now())}


@pytest.fixture
def built(world: World) -> World:
    facts_build()
    return world


def test_attendance_equals_the_database(built: World) -> None:
    t = _tables(built, "attendance")
    day = TruncDate("recorded_at", tzinfo=PARIS)
    now = _grouped(visits(built.start, built.end), day, Sum("people"))
    before = _grouped(visits(dt.date(2018, 10, 1), dt.date(2018, 10, 31)), day, Sum("people"))
    assert {r[0]: r[1] for r in t["by-day"].rows if r[1]} == now
    assert {r[0].replace(year=2018): r[2] for r in t["by-day"].rows if r[2]} == before
    hours = _grouped(visits(built.start, built.end), ExtractHour("recorded_at", tzinfo=PARIS), Sum("people"))
    assert {r[0]: r[1] for r in t["by-hour"].rows if r[1]} == hours
    entrances = _grouped(visits(built.start, built.end), _f("entrance__code"), Sum("people"))
    assert {r[0]: r[1] for r in t["by-entrance"].rows if r[1]} == entrances
    assert sum(now.values()) == 15  # 11 tickets, an override, an offline party of 3


def _f(name: str) -> Any:
    from django.db.models import F

    return F(name)


def test_free_share_equals_the_database(built: World) -> None:
    rows = _tables(built, "attendance")["free"].rows
    free = _grouped(visits(built.start, built.end), _f("ticket__tariff__free_category__code"), Sum("people"))
    expected = {k or "paying": v for k, v in free.items()}
    assert {r[0]: r[1] for r in rows} == expected
    assert dict((r[0], r[2]) for r in rows)["U26"] == round(100 * expected["U26"] / sum(expected.values()), 1)


def test_entrance_and_channel_filters_match_the_database(built: World) -> None:
    rows = _tables(built, "attendance", entrance="RIC", channel="web")["by-day"].rows
    qs = visits(built.start, built.end).filter(entrance__code="RIC", ticket__order__channel="web")
    assert sum(r[1] for r in rows) == qs.aggregate(n=Sum("people"))["n"]


def test_slot_fill_and_no_shows_equal_the_database(built: World) -> None:
    rows = {r[0]: r for r in _tables(built, "slots")["by-day"].rows}
    lo, hi = _period(built.start, built.end)
    for slot in Slot.objects.filter(starts_at__gte=lo, starts_at__lt=hi).select_related("own_quota"):
        day = timezone.localtime(slot.starts_at, PARIS).date()
        came = visits(built.start, built.end).filter(ticket__slot=slot).aggregate(n=Sum("people"))["n"] or 0
        row = rows[day]
        assert row[2] >= slot.own_quota.capacity and row[3] >= slot.own_quota.taken
        assert row[4] >= came
    total_taken = Slot.objects.filter(starts_at__gte=lo, starts_at__lt=hi).aggregate(
        n=Sum("own_quota__taken")
    )["n"]
    assert sum(r[3] for r in rows.values()) == total_taken
    came = visits(built.start, built.end).filter(ticket__isnull=False).aggregate(n=Sum("people"))["n"]
    assert sum(r[4] for r in rows.values()) == came
    assert sum(r[6] for r in rows.values()) == total_taken - came  # every slot is in the past


def _paid(world: World) -> QuerySet[Order]:
    lo, hi = _period(world.start, world.end)
    return Order.objects.filter(state__in=["paid", "refunded"], created_at__gte=lo, created_at__lt=hi)


def test_sales_equal_the_database(built: World) -> None:
    t = _tables(built, "sales")
    by_channel = {
        r["channel"]: (r["n"], r["q"], r["t"])
        for r in _paid(built)
        .values("channel")
        .annotate(n=Count("id"), q=Sum("cart__quantity"), t=Sum("total"))
    }
    assert {r[0]: (r[1], r[2], r[3]) for r in t["by-channel"].rows} == by_channel
    by_provider = dict(_paid(built).values_list("provider").annotate(t=Sum("total")))
    assert {r[0]: r[2] for r in t["by-provider"].rows} == by_provider
    refunds = Refund.objects.filter(state="succeeded").aggregate(t=Sum("amount"))["t"]
    assert sum((r[5] for r in t["by-day"].rows), Decimal(0)) == refunds == Decimal("17.00")
    web = _paid(built).filter(channel="web").aggregate(t=Sum("total"))["t"]
    assert sum((r[2] for r in t["by-day"].rows), Decimal(0)) == web
    shares = {r[0]: r[3] for r in t["by-provider"].rows}
    assert shares["alipay"] == round(100 * float(by_provider["alipay"]) / float(sum(by_provider.values())), 1)


def test_transfers_and_incidents_equal_the_database(built: World) -> None:
    t = _tables(built, "transfers")
    lo, hi = _period(built.start, built.end)
    planned = Counter(
        ConvoyItem.objects.filter(
            convoy__planned_departure__gte=lo, convoy__planned_departure__lt=hi
        ).values_list("work__department", flat=True)
    )
    assert {r[0]: r[1] for r in t["by-department"].rows} == dict(planned)
    assert {r[0]: r[2] for r in t["by-department"].rows} == {"AO": 2, "PEI": 1}  # CV-1 left, CV-2 not yet
    assert sum(r[1] for r in t["by-week"].rows) == sum(planned.values())
    kinds = dict(Incident.objects.values_list("kind").annotate(n=Count("id")))
    assert {r[0]: r[1] for r in t["incidents"].rows} == kinds


def test_fraud_signals_equal_the_database(built: World) -> None:
    rows = _tables(built, "fraud")["by-entrance"].rows
    lo, hi = _period(built.start, built.end)
    qs = Entry.objects.filter(recorded_at__gte=lo, recorded_at__lt=hi)
    expected = {
        r["entrance__code"]: (r["forged"], r["used"], r["refused"], r["overrides"], r["offline"])
        for r in qs.values("entrance__code").annotate(
            forged=Count("id", filter=Q(result="rejected", reason="forged")),
            used=Count("id", filter=Q(result="rejected", reason="already_used")),
            refused=Count("id", filter=Q(result="rejected")),
            overrides=Count("id", filter=Q(source="override")),
            offline=Count("id", filter=Q(source="offline")),
        )
    }
    assert {r[0]: (r[1], r[2], r[4], r[5], r[6]) for r in rows} == expected


def test_pass_entries_per_partner_site_equal_the_database(built: World) -> None:
    from cimaise.passnet.models import PassEntry

    rows = _tables(built, "passes")["by-site"].rows
    mine = PassEntry.objects.filter(site__institution__code="louvre")
    expected = {
        r["site__code"]: (r["n"], r["a"], r["x"])
        for r in mine.values("site__code").annotate(
            n=Count("id", filter=Q(result="accepted", direction="in")),
            a=Count("id", filter=Q(activated=True)),
            x=Count("id", filter=Q(result="rejected")),
        )
    }
    assert {r[0]: (r[1], r[2], r[3]) for r in rows} == expected == {"LOUVRE": (2, 1, 1)}  # not Orsay's
