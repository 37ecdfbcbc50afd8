"""The sources of the analytical facts: one per kind of operational row, each with its Parquet
schema and the ORM read that feeds it. ``reporting`` only reads other apps' tables.

Two ways to stay current:

- ``append`` sources (entries, their cancellations, custody events) only ever gain rows: the build
  reads the rows whose id is above the last watermark and adds one file per month touched;
- ``snapshot`` sources (orders and their lines, payments, refunds, slots, convoys' works,
  incidents) have rows that change state (paid, refunded, resolved…): the build reads them again,
  and rewrites only the months whose content digest changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa  # type: ignore[import-untyped]
from django.apps import apps
from django.db.models import Min, QuerySet

TS = pa.timestamp("us", tz="UTC")
MONEY = pa.decimal128(12, 2)
Row = tuple[Any, ...]


@dataclass(frozen=True)
class Source:
    """``fields`` are ORM lookups read in the order of ``columns`` (name, Arrow type); ``time``
    is the column that places a row in its month (Europe/Paris), also given as ``day`` and
    ``hour``. ``rows`` post-processes the rows read (joins done in Python), or is None."""

    name: str
    mode: Literal["append", "snapshot"]
    model: str
    fields: tuple[str, ...]
    columns: tuple[tuple[str, pa.DataType], ...]
    time: str
    filters: dict[str, Any] = field(default_factory=dict)
    rows: Callable[[list[Row]], list[Row]] | None = None

    def queryset(self) -> QuerySet[Any]:
        queryset: QuerySet[Any] = apps.get_model(self.model).objects.filter(**self.filters)
        return queryset.order_by("id")

    @property
    def schema(self) -> pa.Schema:
        extra = [("day", pa.date32()), ("hour", pa.int8())]
        return pa.schema([pa.field(n, t) for n, t in (*self.columns, *extra)])


S, I64, I32 = pa.string(), pa.int64(), pa.int32()

ENTRIES = Source(
    name="entries",
    mode="append",
    model="access.Entry",
    fields=(
        "id", "institution__code", "recorded_at", "entrance__code", "lane__code", "direction",
        "result", "reason", "people", "source", "ticket__slot__product__code", "ticket__tariff__code",
        "ticket__tariff__free_category__code", "ticket__order__channel", "ticket__slot_id",
        "ticket__slot__starts_at", "ticket_id",
    ),
    columns=(
        ("id", I64), ("institution", S), ("at", TS), ("entrance", S), ("lane", S), ("direction", S),
        ("result", S), ("reason", S), ("people", I32), ("source", S), ("product", S), ("tariff", S),
        ("free_category", S), ("channel", S), ("slot_id", I64), ("slot_start", TS), ("ticket_id", I64),
    ),
    time="at",
)  # fmt: skip

ENTRY_CANCELLATIONS = Source(
    name="entry_cancellations",
    mode="append",
    model="access.EntryCancellation",
    fields=("id", "entry_id", "institution__code", "cancelled_at"),
    columns=(("id", I64), ("entry_id", I64), ("institution", S), ("at", TS)),
    time="at",
)

ORDERS = Source(
    name="orders",
    mode="snapshot",
    model="ticketing.Order",
    fields=(
        "id", "institution__code", "code", "created_at", "paid_at", "slot_id", "slot__starts_at",
        "slot__product__code", "slot__entrance__code", "channel", "provider", "state", "total",
        "refunded", "currency", "cart__quantity", "payment_id",
    ),
    columns=(
        ("id", I64), ("institution", S), ("code", S), ("at", TS), ("paid_at", TS), ("slot_id", I64),
        ("slot_start", TS), ("product", S), ("entrance", S), ("channel", S), ("provider", S),
        ("state", S), ("total", MONEY), ("refunded", MONEY), ("currency", S), ("quantity", I32),
        ("payment_id", S),
    ),
    time="at",
)  # fmt: skip

ORDER_LINES = Source(
    name="order_lines",
    mode="snapshot",
    model="ticketing.CartLine",
    filters={"cart__order__isnull": False},
    fields=(
        "id", "cart__order__id", "cart__institution__code", "cart__order__created_at",
        "cart__order__channel", "cart__order__provider", "cart__order__state", "cart__slot__product__code",
        "tariff__code", "tariff__free_category__code", "quantity", "unit_price",
    ),
    columns=(
        ("id", I64), ("order_id", I64), ("institution", S), ("at", TS), ("channel", S), ("provider", S),
        ("state", S), ("product", S), ("tariff", S), ("free_category", S), ("quantity", I32),
        ("unit_price", MONEY),
    ),
    time="at",
)  # fmt: skip

PAYMENTS = Source(
    name="payments",
    mode="snapshot",
    model="payments.Payment",
    fields=(
        "id", "institution__code", "provider", "method", "state", "amount", "currency", "created_at",
        "paid_at", "refunded_amount", "purpose",
    ),
    columns=(
        ("id", S), ("institution", S), ("provider", S), ("method", S), ("state", S), ("amount", MONEY),
        ("currency", S), ("at", TS), ("paid_at", TS), ("refunded", MONEY), ("purpose", S),
    ),
    time="at",
)  # fmt: skip

REFUNDS = Source(
    name="refunds",
    mode="snapshot",
    model="payments.Refund",
    fields=(
        "id", "payment__institution__code", "payment_id", "payment__provider", "amount", "state",
        "created_at", "completed_at",
    ),
    columns=(
        ("id", I64), ("institution", S), ("payment_id", S), ("provider", S), ("amount", MONEY),
        ("state", S), ("at", TS), ("completed_at", TS),
    ),
    time="at",
)  # fmt: skip

SLOTS = Source(
    name="slots",
    mode="snapshot",
    model="ticketing.Slot",
    fields=(
        "id", "institution__code", "product__code", "entrance__code", "starts_at",
        "own_quota__capacity", "own_quota__taken", "closed",
    ),
    columns=(
        ("id", I64), ("institution", S), ("product", S), ("entrance", S), ("at", TS),
        ("capacity", I32), ("taken", I32), ("closed", pa.bool_()),
    ),
    time="at",
)  # fmt: skip

CUSTODY_EVENTS = Source(
    name="custody_events",
    mode="append",
    model="moves.CustodyEvent",
    fields=(
        "id", "institution__code", "event_time", "event_type", "action", "biz_step", "disposition",
        "biz_transaction", "who", "retracted",
    ),
    columns=(
        ("id", I64), ("institution", S), ("at", TS), ("event_type", S), ("action", S), ("biz_step", S),
        ("disposition", S), ("convoy", S), ("who", S), ("retracted", pa.bool_()),
    ),
    time="at",
)  # fmt: skip


def _departures() -> dict[str, Any]:
    """Each convoy's departure: its first ``departing`` custody event, by convoy URI."""
    events = apps.get_model("moves.CustodyEvent").objects.filter(biz_step="departing", retracted=False)
    rows = events.values("biz_transaction").annotate(first=Min("event_time"))
    return {r["biz_transaction"]: r["first"] for r in rows}


def _convoy_works(rows: list[Row]) -> list[Row]:
    """Add the departure time, and place each work at its departure, else its planned one."""
    departed = _departures()
    out = []
    for row in rows:
        uri = f"urn:cimaise:convoy:{row[2]}:{row[3]}"
        left = departed.get(uri)
        when = left or row[5]
        if when is not None:
            out.append((*row[:6], left, when, *row[6:]))
    return out


CONVOY_WORKS = Source(
    name="convoy_works",
    mode="snapshot",
    model="moves.ConvoyItem",
    fields=(
        "id", "convoy_id", "convoy__institution__code", "convoy__code", "convoy__state",
        "convoy__planned_departure", "work__department", "convoy__programme__code",
    ),
    columns=(
        ("id", I64), ("convoy_id", I64), ("institution", S), ("convoy", S), ("state", S),
        ("planned_departure", TS), ("departed_at", TS), ("at", TS), ("department", S), ("programme", S),
    ),
    time="at",
    rows=_convoy_works,
)  # fmt: skip

INCIDENTS = Source(
    name="incidents",
    mode="snapshot",
    model="moves.Incident",
    fields=("id", "institution__code", "convoy__code", "kind", "started_at", "resolved_at"),
    columns=(
        ("id", I64), ("institution", S), ("convoy", S), ("kind", S), ("at", TS), ("resolved_at", TS),
    ),
    time="at",
)  # fmt: skip

# Pass scans at partner sites, the first of which activates the pass: read only when the passnet
# app is installed and has its PassEntry model (see ``sources``).
PASS_ENTRIES = Source(
    name="pass_entries",
    mode="append",
    model="passnet.PassEntry",
    fields=(
        "id", "operator__code", "site__institution__code", "site__code", "pass_ref__product__code",
        "pass_ref__channel", "recorded_at", "lane", "direction", "result", "reason", "activated", "source",
    ),
    columns=(
        ("id", I64), ("institution", S), ("site_institution", S), ("site", S), ("product", S),
        ("channel", S), ("at", TS), ("lane", S), ("direction", S), ("result", S), ("reason", S),
        ("activated", pa.bool_()), ("source", S),
    ),
    time="at",
)  # fmt: skip

SOURCES: tuple[Source, ...] = (
    ENTRIES, ENTRY_CANCELLATIONS, ORDERS, ORDER_LINES, PAYMENTS, REFUNDS, SLOTS, CUSTODY_EVENTS,
    CONVOY_WORKS, INCIDENTS, PASS_ENTRIES,
)  # fmt: skip


def sources() -> Sequence[Source]:
    """The sources whose models are installed (each app's module stands on its own)."""
    return [s for s in SOURCES if _installed(s.model)]


def _installed(model: str) -> bool:
    label, name = model.split(".")
    if not apps.is_installed(f"cimaise.{label}"):
        return False
    try:
        apps.get_model(label, name)
    except LookupError:
        return False
    return True


def by_name(name: str) -> Source:
    for source in SOURCES:
        if source.name == name:
            return source
    raise KeyError(name)


def names(items: Iterable[Source]) -> list[str]:
    return [s.name for s in items]
