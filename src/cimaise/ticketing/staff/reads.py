"""What the staff pages read and how they shape it: a day's slots per entrance with their fill,
the entrance quotas of a day, a capacity edit's preview, an order's tickets and payments, and
today's figures for the home page.

The few direct ORM reads here are candidates for ``ticketing.selectors`` (see the report).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.safestring import SafeString

from cimaise.access.models import Entrance
from cimaise.core.models import Institution
from cimaise.payments import selectors as payment_selectors
from cimaise.ticketing import capacity
from cimaise.ticketing.capacity import PARIS, CapacityEdit
from cimaise.ticketing.models import Channel, Order, Product, Quota, Slot, Ticket
from cimaise.ticketing.selectors import SlotView, day_bounds, slots_available
from cimaise.ticketing.services import PURPOSE
from cimaise.ticketing.staff import charts

if TYPE_CHECKING:
    from cimaise.payments.models import Payment, Refund

DESK = Channel.DESK.value
CENT = Decimal("0.01")


def local_day(when: dt.datetime) -> dt.date:
    return timezone.localtime(when, PARIS).date()


def today() -> dt.date:
    return local_day(timezone.now())


# --- choices for the forms -------------------------------------------------------------------


def product_choices(institution: Institution) -> list[tuple[str, str]]:
    return [
        (p.code, f"{p.name} ({p.code})") for p in Product.objects.filter(institution=institution, active=True)
    ]


def entrance_choices(institution: Institution) -> list[tuple[str, str]]:
    entrances = Entrance.objects.filter(institution=institution, active=True).order_by("code")
    return [(e.code, f"{e.name} ({e.code})") for e in entrances]


# --- the day's capacity overview ---------------------------------------------------------------


@dataclass(frozen=True)
class SlotRow:
    """A slot as the overview shows it: its own quota's capacity and taken, what is left to sell
    (its tightest quota; nothing once closed or over) and a fill bar."""

    slot: Slot
    capacity: int
    taken: int
    left: int
    over: bool
    bar: SafeString

    @property
    def percent(self) -> int:
        return charts.percent(self.taken, self.capacity)


@dataclass
class EntranceDay:
    entrance: Entrance
    rows: list[SlotRow] = field(default_factory=list)
    chart: SafeString = SafeString("")

    @property
    def capacity(self) -> int:
        return sum(r.capacity for r in self.rows)

    @property
    def taken(self) -> int:
        return sum(r.taken for r in self.rows)


def slot_row(view: SlotView, now: dt.datetime) -> SlotRow:
    taken = view.slot.own_quota.taken
    return SlotRow(
        slot=view.slot,
        capacity=view.capacity,
        taken=taken,
        left=view.left,
        over=view.slot.ends_at <= now,
        bar=charts.fill_bar(taken, view.capacity),
    )


def day_overview(
    *, institution: Institution, day: dt.date, product: str | None, chart_title: str
) -> list[EntranceDay]:
    """The day's slots grouped by entrance (by code), each entrance with its fill chart."""
    now = timezone.now()
    views = slots_available(institution=institution, day=day, product=product or None, now=now)
    days: dict[int, EntranceDay] = {}
    for view in views:
        entrance = view.slot.entrance
        days.setdefault(entrance.pk, EntranceDay(entrance)).rows.append(slot_row(view, now))
    series = entrance_series(institution, [v.slot.pk for v in views])
    for entrance_day in days.values():
        points = series.get(entrance_day.entrance.pk, [])
        title = f"{chart_title} {entrance_day.entrance.name}"
        entrance_day.chart = charts.entrance_chart(points, title)
    return sorted(days.values(), key=lambda d: d.entrance.code)


def entrance_series(institution: Institution, slot_ids: list[int]) -> dict[int, list[charts.Point]]:
    """The entrance quotas (shared by every product entering there) the slots draw on, per
    entrance, in time order."""
    rows = (
        Quota.objects.filter(institution=institution, kind=Quota.Kind.ENTRANCE, slots__in=slot_ids)
        .values_list("pk", "starts_at", "capacity", "taken", "slots__entrance_id")
        .distinct()
    )
    series: dict[int, dict[int, charts.Point]] = defaultdict(dict)
    for pk, starts_at, cap, taken, entrance_id in rows:
        label = timezone.localtime(starts_at, PARIS).strftime("%H:%M")
        series[entrance_id][pk] = charts.Point(starts_at, label, taken, cap)
    return {e: sorted(points.values(), key=lambda p: p.at) for e, points in series.items()}


def day_slot_views(*, institution: Institution, day: dt.date) -> list[SlotRow]:
    """Every slot of a day (for closing and reopening), by time and entrance."""
    now = timezone.now()
    return [slot_row(v, now) for v in slots_available(institution=institution, day=day, now=now)]


# --- capacity edit preview ---------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    selected: int
    changing: int
    too_small: list[Quota]


def capacity_preview(*, institution: Institution, edit: CapacityEdit) -> Preview:
    """What ``capacity_set`` would do with this edit, without doing it: how many quotas it
    selects, how many would change, and the first ones it would refuse (below what is taken).
    It uses the service's own selection so the preview cannot drift from the edit."""
    quotas: QuerySet[Quota] = capacity.capacity_selected(institution, edit)
    return Preview(
        selected=quotas.count(),
        changing=quotas.exclude(capacity=edit.capacity).count(),
        too_small=list(quotas.filter(taken__gt=edit.capacity).order_by("starts_at", "key")[:5]),
    )


# --- the desk ----------------------------------------------------------------------------------


def desk_slots(*, institution: Institution, day: dt.date) -> list[SlotView]:
    """The day's slots of the products sold at the desk, with their desk tariffs."""
    views = slots_available(institution=institution, day=day, channel=DESK)
    return [v for v in views if DESK in v.slot.product.channels and v.tariffs]


def desk_slot(*, institution: Institution, slot_id: int) -> SlotView | None:
    """One slot for a desk sale, with its places left and desk tariffs (None if not ours)."""
    slot = Slot.objects.filter(institution=institution, pk=slot_id).only("starts_at").first()
    if slot is None:
        return None
    views = desk_slots(institution=institution, day=local_day(slot.starts_at))
    return next((v for v in views if v.slot.pk == slot_id), None)


# --- orders ------------------------------------------------------------------------------------


def order_tickets(order: Order) -> list[Ticket]:
    return list(order.tickets.select_related("tariff").order_by("id"))


@dataclass(frozen=True)
class PaymentLine:
    payment: Payment
    refunds: list[Refund]


def order_payments(order: Order) -> list[PaymentLine]:
    """The order's payments (usually one) with their refunds, oldest first."""
    found = payment_selectors.payments_for(purpose=PURPOSE, reference=order.code)
    return [PaymentLine(p, list(p.refunds.order_by("created_at", "pk"))) for p in found]


# --- the home page panel -----------------------------------------------------------------------


@dataclass(frozen=True)
class Today:
    day: dt.date
    capacity: int
    taken: int
    slots: int
    closed: int
    orders: int
    paid: int
    revenue: list[tuple[str, Decimal]]  # per currency, net of refunds

    @property
    def percent(self) -> int:
        return charts.percent(self.taken, self.capacity)


def today_summary(*, institution: Institution) -> Today:
    """Today's slots (places taken of their own capacities) and today's orders: how many, how
    many were paid (some may have been refunded since), and what they brought net of refunds."""
    day = today()
    start, end = day_bounds(day)
    slots = Slot.objects.filter(institution=institution, starts_at__gte=start, starts_at__lt=end)
    places = slots.aggregate(
        capacity=Sum("own_quota__capacity"), taken=Sum("own_quota__taken"), n=Count("pk"),
        closed=Count("pk", filter=Q(closed=True)),
    )  # fmt: skip
    orders = Order.objects.filter(institution=institution, created_at__gte=start, created_at__lt=end)
    paid = Q(state__in=[Order.State.PAID, Order.State.REFUNDED])
    sold = orders.aggregate(n=Count("pk"), paid=Count("pk", filter=paid))
    net = orders.filter(paid).values("currency").annotate(net=Sum(F("total") - F("refunded")))
    revenue = [(row["currency"], Decimal(row["net"] or 0).quantize(CENT)) for row in net.order_by("currency")]
    return Today(
        day=day,
        capacity=places["capacity"] or 0,
        taken=places["taken"] or 0,
        slots=places["n"],
        closed=places["closed"],
        orders=sold["n"],
        paid=sold["paid"],
        revenue=revenue,
    )
