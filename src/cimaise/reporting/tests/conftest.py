"""A small operational world for the reporting tests: two entrances, paid orders on the web and
at the desk (card, Alipay, WeChat Pay), tickets, entries this year and the year before (accepted,
refused, overridden, offline, re-entries, one cancelled), a refund, a convoy with works of two
departments and an incident. Facts go to a throw-away directory."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from cimaise.access.models import Entry, EntryCancellation, Lane
from cimaise.access.tests.conftest import Gate, make_gate
from cimaise.collection.models import Work
from cimaise.core.roles import Role
from cimaise.core.tests.personas import Cast, Persona, make_persona
from cimaise.moves.models import Convoy, ConvoyItem, CustodyEvent, Incident
from cimaise.payments.models import Payment, Refund
from cimaise.ticketing.models import Order, Ticket
from cimaise.ticketing.tests.ticket_factories import T0, make_paid_order, make_slot
from cimaise.ticketing.tickets import tickets_issue

_n = itertools.count(1)


@pytest.fixture(autouse=True)
def reporting_dir(settings: Any, tmp_path: Path) -> Path:
    settings.REPORTING_DIR = tmp_path / "reporting"
    return Path(settings.REPORTING_DIR)


@dataclass
class World:
    cast: Cast
    gate: Gate
    analyst: Persona
    orders: list[Order]
    start: dt.date
    end: dt.date


def entry(gate: Gate, lane: Lane, at: dt.datetime, **fields: Any) -> Entry:
    values: dict[str, Any] = {
        "institution": gate.catalogue.institution, "entrance": lane.entrance, "lane": lane,
        "direction": "in", "nonce": f"w-{next(_n)}", "scanned_at": at, "recorded_at": at,
        "operator": "agent", "result": "accepted", "reason": "ok", **fields,
    }  # fmt: skip
    return Entry.objects.create(**values)


def _order(gate: Gate, starts_at: dt.datetime, lines: list[tuple[str, int]], **changes: Any) -> Order:
    order = make_paid_order(gate.catalogue, make_slot(gate.catalogue, starts_at), lines=lines)
    if changes:
        Order.objects.filter(pk=order.pk).update(**changes)
        order.refresh_from_db()
    with transaction.atomic():
        tickets_issue(order=order, actor="system:test", now=starts_at - dt.timedelta(days=20))
    return order


def _payment(order: Order, refund: Decimal | None = None) -> None:
    payment = Payment.objects.create(
        institution=order.institution, purpose="order", reference=order.code, provider=order.provider,
        amount=order.total, currency="EUR", state="paid", created_at=order.created_at, paid_at=order.paid_at,
    )  # fmt: skip
    Order.objects.filter(pk=order.pk).update(payment_id=payment.id)
    if refund is not None:
        Refund.objects.create(
            payment=payment, refund_id=f"r-{next(_n)}", amount=refund, state="succeeded", requested_by="t",
            created_at=T0 + dt.timedelta(hours=2), completed_at=T0 + dt.timedelta(hours=2),
        )  # fmt: skip
        Order.objects.filter(pk=order.pk).update(state="refunded", refunded=refund)


def _entries(gate: Gate, orders: list[Order]) -> None:
    lanes = [gate.lane_1, gate.lane_2, gate.lane_ric]
    for i, ticket in enumerate(Ticket.objects.filter(order__in=orders).order_by("id")):
        when = ticket.slot.starts_at + dt.timedelta(minutes=5 + i)
        entry(gate, lanes[i % 3], when, ticket=ticket, code_id=ticket.code_id)
    first = Ticket.objects.filter(order=orders[0]).order_by("id").first()
    assert first is not None
    at = T0 + dt.timedelta(hours=3)
    entry(gate, gate.lane_1, at, ticket=first, reason="reentry")
    entry(gate, gate.lane_1, at, result="rejected", reason="forged")
    entry(gate, gate.lane_ric, at, result="rejected", reason="already_used", ticket=first)
    entry(gate, gate.lane_2, at, reason="override", source="override", override_reason="lost phone")
    entry(gate, gate.lane_2, at + dt.timedelta(hours=1), source="offline", people=3)
    gone = entry(gate, gate.lane_1, at + dt.timedelta(hours=2))
    EntryCancellation.objects.create(
        entry=gone, institution=gone.institution, operator="agent", cancelled_at=at + dt.timedelta(hours=2)
    )


def _transfers(cast: Cast) -> None:
    convoy = Convoy.objects.create(
        institution=cast.institution_a, code="CV-1", planned_departure=T0 - dt.timedelta(days=1)
    )
    later = Convoy.objects.create(
        institution=cast.institution_a, code="CV-2", planned_departure=T0 + dt.timedelta(days=8)
    )
    for i, department in enumerate(["AO", "AO", "PEI", "PEI", "PEI"]):
        work = Work.objects.create(
            institution=cast.institution_a, inventory=f"INV {i}", title=f"work {i}", department=department
        )
        ConvoyItem.objects.create(convoy=convoy if i < 3 else later, work=work)
    CustodyEvent.objects.create(
        institution=cast.institution_a, event_id=f"e-{next(_n)}", event_type="ObjectEvent", action="OBSERVE",
        biz_step="departing", event_time=T0 - dt.timedelta(hours=20), record_time=T0,
        biz_transaction="urn:cimaise:convoy:louvre:CV-1", who="escort", body={}, fact_id=0,
    )  # fmt: skip
    Incident.objects.create(
        institution=cast.institution_a, convoy=convoy, kind="temperature",
        started_at=T0 - dt.timedelta(hours=19), evidence={}, fact_id=0,
    )  # fmt: skip


def _passes(cast: Cast) -> None:
    """A pass network run by another institution; the Louvre and Orsay are partner sites."""
    from cimaise.core.models import Institution
    from cimaise.passnet.models import PartnerSite, Pass, PassEntry, PassProduct

    pmp = Institution.objects.create(code="pmp", name="Paris Museum Pass")
    product = PassProduct.objects.create(
        operator=pmp, code="PMP2", name="2 days", days=2, validity_hours=48, price=Decimal("52.00")
    )
    sites = {
        inst.code: PartnerSite.objects.create(
            operator=pmp, institution=inst, code=inst.code.upper(), name=inst.name, latitude=0, longitude=0
        )
        for inst in (cast.institution_a, cast.institution_b)
    }
    card = Pass.objects.create(
        operator=pmp,
        code_id="P1",
        code="P1",
        product=product,
        channel="web",
        price=Decimal("52.00"),
        issued_at=T0,
    )
    for site, result, activated in (("louvre", "accepted", True), ("louvre", "accepted", False),
                                    ("louvre", "rejected", False), ("orsay", "accepted", False)):  # fmt: skip
        at = T0 + dt.timedelta(hours=next(_n) % 5)
        PassEntry.objects.create(
            operator=pmp, site=sites[site], pass_ref=card, code_id="P1", lane="L1", direction="in",
            nonce=f"p-{next(_n)}", scanned_at=at, recorded_at=at, operator_label="agent", result=result,
            reason="ok" if result == "accepted" else "already_used", activated=activated,
        )  # fmt: skip


def make_world(cast: Cast) -> World:
    gate = make_gate(cast)
    year_before = T0 - dt.timedelta(days=365)
    orders = [
        gate.order,
        _order(gate, T0 + dt.timedelta(hours=1), [("full", 1), ("free", 2)]),
        _order(gate, T0 + dt.timedelta(days=1), [("reduced", 2)], channel="desk", provider="desk"),
        _order(gate, T0 + dt.timedelta(days=1, hours=2), [("full", 3)], provider="alipay"),
        _order(gate, T0 + dt.timedelta(days=2), [("full", 1)], provider="wechatpay"),
        _order(gate, year_before, [("full", 2), ("free", 1)]),
    ]
    for order in orders:
        order.refresh_from_db()
    _payment(orders[3], refund=Decimal("17.00"))
    _payment(orders[4])
    _entries(gate, orders)
    _transfers(cast)
    _passes(cast)
    analyst = make_persona("analyst-a", cast.institution_a, [Role.ANALYST], cast.site_a)
    return World(cast, gate, analyst, orders, dt.date(2019, 10, 1), dt.date(2019, 10, 31))


@pytest.fixture
def world(cast: Cast) -> World:
    return make_world(cast)
