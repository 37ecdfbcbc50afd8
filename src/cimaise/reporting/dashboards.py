"""The dashboards: each is a list of tables, each table a DuckDB query with its columns and the
chart drawn from it. Pages, CSV/XLSX exports and the monthly PDF all go through ``table_run``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb
from django.utils.functional import Promise
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from cimaise.reporting import charts, queries
from cimaise.reporting.queries import Filters, Rows
from cimaise.reporting.sources import names, sources

Query = Callable[[duckdb.DuckDBPyConnection, Filters, dt.datetime], Rows]


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise
    kind: str = "int"  # text, date, int, money, pct


@dataclass(frozen=True)
class TableSpec:
    """``chart``: ``column`` (bars from ``bars``, a line from ``line``) or ``share``."""

    key: str
    title: str | Promise
    columns: tuple[Column, ...]
    query: Query
    bars: int = 1
    line: int | None = None
    chart: str = "column"


@dataclass(frozen=True)
class Dashboard:
    key: str
    title: str | Promise
    description: str | Promise
    tables: tuple[TableSpec, ...]
    filters: tuple[str, ...] = ("entrance", "product", "channel")

    def table(self, key: str) -> TableSpec | None:
        return next((t for t in self.tables if t.key == key), None)


@dataclass
class Table:
    spec: TableSpec
    rows: Rows

    @property
    def chart(self) -> SafeString:
        labels = [cell_text(row[0], self.spec.columns[0].kind) for row in self.rows]
        names = [str(self.spec.columns[self.spec.bars].label)]
        title = str(self.spec.title)
        if self.spec.chart == "share":
            return charts.share_chart(labels, [float(r[self.spec.bars]) for r in self.rows], title)
        compare = None
        if self.spec.line is not None:
            names.append(str(self.spec.columns[self.spec.line].label))
            compare = [float(r[self.spec.line]) for r in self.rows]
        values = [float(r[self.spec.bars]) for r in self.rows]
        return charts.column_chart(labels, values, title, names=names, compare=compare)

    def display_rows(self) -> list[list[str]]:
        kinds = [c.kind for c in self.spec.columns]
        return [[cell_text(v, k) for v, k in zip(row, kinds, strict=True)] for row in self.rows]

    def display_totals(self) -> list[str]:
        kinds = [c.kind for c in self.spec.columns]
        return [cell_text(v, k) for v, k in zip(self.totals(), kinds, strict=True)]

    def totals(self) -> list[Any]:
        """The sum of each int or money column (other columns empty)."""
        return [
            sum(r[i] for r in self.rows) if c.kind in ("int", "money") else None
            for i, c in enumerate(self.spec.columns)
        ]


def cell_text(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    if kind == "hour":
        return f"{int(value):02d}h"
    if kind == "money":
        return f"{Decimal(value):.2f}"
    if kind == "pct":
        return f"{float(value):.1f}"
    return str(value)


def _ignore_now(fn: Callable[[duckdb.DuckDBPyConnection, Filters], Rows]) -> Query:
    return lambda con, f, now: fn(con, f)


DAY = Column("day", _("day"), "date")
WEEK = Column("week", _("week of"), "date")
VISITORS = Column("visitors", _("visitors"))
YEAR_BEFORE = Column("year_before", _("the year before"))

ATTENDANCE = Dashboard(
    "attendance",
    _("Attendance"),
    _(
        "Visitors let in per day, hour and entrance against the same days a year before, "
        "and the share of free entries."
    ),
    (
        TableSpec(
            "by-day",
            _("Visitors per day"),
            (DAY, VISITORS, YEAR_BEFORE),
            _ignore_now(queries.attendance_by_day),
            line=2,
        ),
        TableSpec(
            "by-hour",
            _("Visitors per hour"),
            (Column("hour", _("hour"), "hour"), VISITORS, YEAR_BEFORE),
            _ignore_now(queries.attendance_by_hour),
            line=2,
        ),
        TableSpec(
            "by-entrance",
            _("Visitors per entrance"),
            (Column("entrance", _("entrance"), "text"), VISITORS, YEAR_BEFORE),
            _ignore_now(queries.attendance_by_entrance),
            line=2,
        ),
        TableSpec(
            "free",
            _("Free entries by category"),
            (
                Column("category", _("free category"), "text"),
                VISITORS,
                Column("share", _("share (%)"), "pct"),
            ),
            _ignore_now(queries.free_share),
            bars=2,
            chart="share",
        ),
    ),
)

SLOT_COLUMNS = (
    Column("slots", _("slots")),
    Column("capacity", _("capacity")),
    Column("sold", _("places sold")),
    Column("entered", _("visitors who came")),
    Column("fill", _("fill rate (%)"), "pct"),
    Column("no_shows", _("no-shows")),
)

SLOTS = Dashboard(
    "slots",
    _("Slots"),
    _("Timed slots: places sold against capacity (fill rate) and booked visitors who did not come."),
    (
        TableSpec(
            "by-day", _("Slot fill per day"), (DAY, *SLOT_COLUMNS), queries.slots_by_day, bars=3, line=2
        ),
        TableSpec(
            "by-product",
            _("Slot fill per product"),
            (Column("product", _("product"), "text"), *SLOT_COLUMNS),
            queries.slots_by_product,
            bars=5,
            chart="share",
        ),
    ),
    filters=("entrance", "product"),
)

SALES = Dashboard(
    "sales",
    _("Sales"),
    _(
        "Paid orders on the web shop and at the desk, revenue, refunds, and the share of each "
        "payment provider (Alipay, WeChat Pay…)."
    ),
    (
        TableSpec(
            "by-day",
            _("Sales per day"),
            (
                DAY,
                Column("web_orders", _("web orders")),
                Column("web_revenue", _("web revenue (€)"), "money"),
                Column("desk_orders", _("desk orders")),
                Column("desk_revenue", _("desk revenue (€)"), "money"),
                Column("refunds", _("refunds (€)"), "money"),
            ),
            _ignore_now(queries.sales_by_day),
            bars=2,
            line=4,
        ),
        TableSpec(
            "by-channel",
            _("Sales per channel"),
            (
                Column("channel", _("channel"), "text"),
                Column("orders", _("orders")),
                Column("tickets", _("tickets")),
                Column("revenue", _("revenue (€)"), "money"),
                Column("refunds", _("refunds (€)"), "money"),
            ),
            _ignore_now(queries.sales_by_channel),
            bars=3,
        ),
        TableSpec(
            "by-provider",
            _("Revenue per payment provider"),
            (
                Column("provider", _("provider"), "text"),
                Column("orders", _("orders")),
                Column("revenue", _("revenue (€)"), "money"),
                Column("share", _("share (%)"), "pct"),
            ),
            _ignore_now(queries.sales_by_provider),
            bars=3,
            chart="share",
        ),
    ),
)

TRANSFERS = Dashboard(
    "transfers",
    _("Transfers"),
    _(
        "The transfer programme to the conservation centre: works per week and per department "
        "against the plan, and convoy incidents."
    ),
    (
        TableSpec(
            "by-week",
            _("Works per week"),
            (WEEK, Column("planned", _("planned")), Column("departed", _("departed"))),
            _ignore_now(queries.transfers_by_week),
            bars=2,
            line=1,
        ),
        TableSpec(
            "by-department",
            _("Works per department"),
            (
                Column("department", _("department"), "text"),
                Column("planned", _("planned")),
                Column("departed", _("departed")),
            ),
            _ignore_now(queries.transfers_by_department),
            bars=2,
            line=1,
        ),
        TableSpec(
            "incidents",
            _("Convoy incidents"),
            (
                Column("kind", _("kind"), "text"),
                Column("incidents", _("incidents")),
                Column("open", _("not resolved")),
                Column("convoys", _("convoys")),
            ),
            _ignore_now(queries.incidents_by_kind),
        ),
    ),
    filters=(),
)

FRAUD_COLUMNS = (
    Column("forged", _("forged codes")),
    Column("already_used", _("codes already used")),
    Column("revoked_other", _("revoked, unpaid or other entrance")),
    Column("refused", _("all refusals")),
    Column("overrides", _("overrides")),
    Column("offline", _("decided offline")),
)

FRAUD = Dashboard(
    "fraud",
    _("Fraud signals"),
    _("Refused codes by reason, visitors let through by staff, and entries decided offline, over time."),
    (
        TableSpec(
            "by-day",
            _("Signals per day"),
            (DAY, *FRAUD_COLUMNS),
            _ignore_now(queries.fraud_by_day),
            bars=4,
            line=5,
        ),
        TableSpec(
            "by-entrance",
            _("Signals per entrance"),
            (Column("entrance", _("entrance"), "text"), *FRAUD_COLUMNS),
            _ignore_now(queries.fraud_by_entrance),
            bars=4,
            line=5,
        ),
    ),
    filters=("entrance",),
)

PASS_COLUMNS = (
    Column("entries", _("pass entries")),
    Column("activations", _("activations")),
    Column("refused", _("refused")),
)

PASSES = Dashboard(
    "passes",
    _("Passes"),
    _("Pass entries and activations per partner site of the pass network."),
    (
        TableSpec(
            "by-site",
            _("Pass entries per partner site"),
            (Column("site", _("partner site"), "text"), *PASS_COLUMNS),
            _ignore_now(queries.passes_by_site),
            bars=1,
            line=2,
        ),
        TableSpec(
            "by-day",
            _("Pass entries per day"),
            (DAY, *PASS_COLUMNS),
            _ignore_now(queries.passes_by_day),
            bars=1,
            line=2,
        ),
    ),
    filters=(),
)


def _dashboards() -> dict[str, Dashboard]:
    """The passes dashboard exists only when the passnet source does."""
    chosen = [ATTENDANCE, SLOTS, SALES, TRANSFERS, FRAUD]
    if "pass_entries" in names(sources()):
        chosen.append(PASSES)
    return {d.key: d for d in chosen}


DASHBOARDS: dict[str, Dashboard] = _dashboards()


def table_run(con: duckdb.DuckDBPyConnection, spec: TableSpec, f: Filters, now: dt.datetime) -> Table:
    return Table(spec, spec.query(con, f, now))


def dashboard_run(dashboard: Dashboard, f: Filters, now: dt.datetime) -> list[Table]:
    with queries.connect() as con:
        return [table_run(con, spec, f, now) for spec in dashboard.tables]


def header(columns: Sequence[Column]) -> list[str]:
    return [c.key for c in columns]
