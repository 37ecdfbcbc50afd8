"""The dashboards' queries, in DuckDB over the Parquet facts (nothing here reads the database).

Every query is scoped to one institution and a period of days (Europe/Paris); ``Filters`` carries
the optional entrance, product and channel. A visitor is an accepted entry, inwards, that is not a
re-entry and was not cancelled; ``people`` counts a group code's party.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa  # type: ignore[import-untyped]

from cimaise.reporting import store
from cimaise.reporting.sources import SOURCES

Rows = list[tuple[Any, ...]]


@dataclass(frozen=True)
class Filters:
    institution: str
    start: dt.date
    end: dt.date
    entrance: str | None = None
    product: str | None = None
    channel: str | None = None

    def year_before(self) -> Filters:
        return Filters(
            self.institution, shift_year(self.start, -1), shift_year(self.end, -1),
            self.entrance, self.product, self.channel,
        )  # fmt: skip

    def params(self) -> dict[str, Any]:
        return {"inst": self.institution, "start": self.start, "end": self.end}


def shift_year(day: dt.date, years: int) -> dt.date:
    """The same date ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@contextmanager
def connect() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with one view per source (an empty table when it has no files yet)."""
    con = duckdb.connect(":memory:")
    try:
        for source in SOURCES:
            if store.has_files(source.name):
                glob = store.source_glob(source.name).replace("'", "''")
                con.execute(
                    f"CREATE VIEW {source.name} AS SELECT * FROM "  # noqa: S608  (our own names and paths)
                    f"read_parquet('{glob}', union_by_name = true, hive_partitioning = false)"
                )
            else:
                con.register(source.name, pa.Table.from_pylist([], schema=source.schema))
        yield con
    finally:
        con.close()


def fetch(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> Rows:
    used = {k: v for k, v in params.items() if f"${k}" in sql}
    return [tuple(row) for row in con.execute(sql, used).fetchall()]


# --- entries ------------------------------------------------------------------------------------


def _entry_filters(f: Filters, alias: str = "e") -> tuple[str, dict[str, Any]]:
    clauses, params = [], {}
    for name in ("entrance", "product", "channel"):
        value = getattr(f, name)
        if value is not None:
            clauses.append(f"{alias}.{name} = ${name}")
            params[name] = value
    return "".join(f" AND {c}" for c in clauses), params


NOT_CANCELLED = (
    "(e.id IS NULL OR e.id NOT IN (SELECT entry_id FROM entry_cancellations WHERE entry_id IS NOT NULL))"
)
VISITS_CUBE = """
    CREATE TEMP TABLE IF NOT EXISTS {name} AS
    SELECT e.day >= $start AS current, e.day, e.hour, e.entrance, e.free_category, sum(e.people) AS n
    FROM entries e
    WHERE e.institution = $inst AND (e.day BETWEEN $start AND $end OR e.day BETWEEN $bstart AND $bend)
      AND e.result = 'accepted' AND e.direction = 'in' AND e.reason <> 'reentry' AND {not_cancelled}{extra}
    GROUP BY ALL
"""


def _cube_name(prefix: str, f: Filters) -> str:
    return f"{prefix}_{hashlib.sha256(repr(f).encode()).hexdigest()[:16]}"


def visits_cube(con: duckdb.DuckDBPyConnection, f: Filters) -> str:
    """Visitors of the period and of the same days a year before, by day, hour, entrance and
    free category, in a temporary table made once per connection and filters: the attendance
    tables all roll it up, so that the entries are scanned once."""
    name = _cube_name("visits", f)
    extra, params = _entry_filters(f)
    before = f.year_before()
    sql = VISITS_CUBE.format(name=name, not_cancelled=NOT_CANCELLED, extra=extra)
    con.execute(sql, {**f.params(), **params, "bstart": before.start, "bend": before.end})
    return name


def visits(con: duckdb.DuckDBPyConnection, f: Filters, key: str, *, before: bool = False) -> dict[Any, int]:
    """Visitors grouped by ``key`` (day, hour, entrance or free_category) in the period, or
    on the same days a year before."""
    if key not in ("day", "hour", "entrance", "free_category"):
        raise ValueError(key)
    sql = f"SELECT {key}, sum(n) FROM {visits_cube(con, f)} WHERE current = $current GROUP BY 1"  # noqa: S608
    return {k: int(v) for k, v in fetch(con, sql, {"current": not before})}


def _days(f: Filters) -> list[dt.date]:
    return [f.start + dt.timedelta(days=i) for i in range((f.end - f.start).days + 1)]


def attendance_by_day(con: duckdb.DuckDBPyConnection, f: Filters) -> Rows:
    now, before = visits(con, f, "day"), visits(con, f, "day", before=True)
    return [(d, now.get(d, 0), before.get(shift_year(d, -1), 0)) for d in _days(f)]


def attendance_by_hour(con: duckdb.DuckDBPyConnection, f: Filters) -> Rows:
    now, before = visits(con, f, "hour"), visits(con, f, "hour", before=True)
    hours = sorted(set(now) | set(before))
    return [(h, now.get(h, 0), before.get(h, 0)) for h in hours]


def attendance_by_entrance(con: duckdb.DuckDBPyConnection, f: Filters) -> Rows:
    now, before = visits(con, f, "entrance"), visits(con, f, "entrance", before=True)
    return [(k, now.get(k, 0), before.get(k, 0)) for k in sorted(set(now) | set(before))]


PAYING = "paying"


def free_share(con: duckdb.DuckDBPyConnection, f: Filters) -> Rows:
    """Visitors per free-admission category (``paying`` for the rest) and their share in %."""
    counts = {k or PAYING: n for k, n in visits(con, f, "free_category").items()}
    total = sum(counts.values())
    ordered = sorted(counts.items(), key=lambda kv: (kv[0] == PAYING, -kv[1], kv[0]))
    return [(k, n, round(100 * n / total, 1) if total else 0.0) for k, n in ordered]


# --- slots --------------------------------------------------------------------------------------

SLOT_FILL = """
    WITH s AS (
        SELECT s.id, s.day, s.product, s.capacity, s.taken, s."at"
        FROM slots s
        WHERE s.institution = $inst AND s.day BETWEEN $start AND $end{slot_extra}
    ), v AS (
        SELECT e.slot_id, sum(e.people) AS entered
        FROM entries e
        WHERE e.institution = $inst AND e.slot_id IN (SELECT id FROM s)
          AND e.result = 'accepted' AND e.direction = 'in' AND e.reason <> 'reentry'
          AND {not_cancelled}
        GROUP BY 1
    )
    SELECT s.{key} AS k, count(*), sum(s.capacity), sum(s.taken), coalesce(sum(v.entered), 0),
           sum(CASE WHEN s."at" < $now THEN greatest(s.taken - coalesce(v.entered, 0), 0) ELSE 0 END)
    FROM s LEFT JOIN v ON v.slot_id = s.id
    GROUP BY 1 ORDER BY 1
"""


def _slot_rows(con: duckdb.DuckDBPyConnection, f: Filters, key: str, now: dt.datetime) -> Rows:
    extra, params = "", {}
    for name in ("entrance", "product"):
        value = getattr(f, name)
        if value is not None:
            extra += f" AND s.{name} = ${name}"
            params[name] = value
    sql = SLOT_FILL.format(slot_extra=extra, key=key, not_cancelled=NOT_CANCELLED)
    rows = fetch(con, sql, {**f.params(), **params, "now": now})
    return [
        (k, int(n), int(cap), int(taken), int(entered), _pct(taken, cap), int(no_shows))
        for k, n, cap, taken, entered, no_shows in rows
    ]


def _pct(part: Any, whole: Any) -> float:
    return round(100 * float(part) / float(whole), 1) if whole else 0.0


def slots_by_day(con: duckdb.DuckDBPyConnection, f: Filters, now: dt.datetime) -> Rows:
    """Per day: slots, capacity, places sold, visitors who came, fill rate %, no-shows."""
    return _slot_rows(con, f, "day", now)


def slots_by_product(con: duckdb.DuckDBPyConnection, f: Filters, now: dt.datetime) -> Rows:
    return _slot_rows(con, f, "product", now)


# --- sales --------------------------------------------------------------------------------------

PAID = "('paid', 'refunded')"


def _order_filters(f: Filters) -> tuple[str, dict[str, Any]]:
    extra, params = "", {}
    for name in ("entrance", "product", "channel"):
        value = getattr(f, name)
        if value is not None:
            extra += f" AND o.{name} = ${name}"
            params[name] = value
    return extra, params


def _refunds(con: duckdb.DuckDBPyConnection, f: Filters, key: str) -> dict[Any, Any]:
    extra, params = _order_filters(f)
    sql = (
        f"SELECT {key}, sum(r.amount) FROM refunds r JOIN orders o ON o.payment_id = r.payment_id "  # noqa: S608
        "WHERE r.institution = $inst AND o.institution = $inst AND r.state = 'succeeded' "
        f"AND r.day BETWEEN $start AND $end{extra} GROUP BY 1"
    )
    return dict(fetch(con, sql, {**f.params(), **params}))


def sales_by_day(con: duckdb.DuckDBPyConnection, f: Filters) -> Rows:
    """Per day of sale: paid web orders and revenue, paid desk orders and revenue, refunds."""
    extra, params = _order_filters(f)
    sql = (
        "SELECT o.day, o.channel, count(*), sum(o.total) FROM orders o "  # noqa: S608
        f"WHERE o.institution = $inst AND o.day BETWEEN $start AND $end AND o.state IN {PAID}{extra} "
        "GROUP BY 1, 2"
    )
    sold = {(d, c): (n, t) for d, c, n, t in fetch(con, sql, {**f.params(), **params})}
    refunds = _refunds(con, f, "r.day")
    zero = (0, _zero())
    return [
        (d, *sold.get((d, "web"), zero), *sold.get((d, "desk"), zero), refunds.get(d, _zero()))
        for d in _days(f)
    ]


def _zero() -> Any:
    from decimal import Decimal

    return Decimal("0.00")


def sales_by_channel(con: duckdb.DuckDBPyConnection, f: Filters) -> Rows:
    """Per channel: paid orders, tickets, revenue, refunds."""
    extra, params = _order_filters(f)
    sql = (
        "SELECT o.channel, count(*), sum(o.quantity), sum(o.total) FROM orders o "  # noqa: S608
        f"WHERE o.institution = $inst AND o.day BETWEEN $start AND $end AND o.state IN {PAID}{extra} "
        "GROUP BY 1 ORDER BY 1"
    )
    refunds = _refunds(con, f, "o.channel")
    return [
        (c, n, int(q), t, refunds.get(c, _zero())) for c, n, q, t in fetch(con, sql, {**f.params(), **params})
    ]


def sales_by_provider(con: duckdb.DuckDBPyConnection, f: Filters) -> Rows:
    """Per payment provider: paid orders, revenue and its share of the revenue in %."""
    extra, params = _order_filters(f)
    sql = (
        "SELECT o.provider, count(*), sum(o.total) FROM orders o "  # noqa: S608
        f"WHERE o.institution = $inst AND o.day BETWEEN $start AND $end AND o.state IN {PAID}{extra} "
        "GROUP BY 1 ORDER BY 3 DESC, 1"
    )
    rows = fetch(con, sql, {**f.params(), **params})
    total = sum(t for _, _, t in rows)
    return [(p, n, t, _pct(t, total)) for p, n, t in rows]


# --- transfers ----------------------------------------------------------------------------------


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def transfers_by_week(con: duckdb.DuckDBPyConnection, f: Filters) -> Rows:
    """Per week (its Monday): works planned to leave, works that left."""
    sql = """
        SELECT date_trunc('week', CAST(timezone('Europe/Paris', {col}) AS DATE)) AS w, count(*)
        FROM convoy_works WHERE institution = $inst AND {col} IS NOT NULL
          AND CAST(timezone('Europe/Paris', {col}) AS DATE) BETWEEN $start AND $end
        GROUP BY 1
    """
    planned: dict[Any, Any] = dict(fetch(con, sql.format(col="planned_departure"), f.params()))
    left: dict[Any, Any] = dict(fetch(con, sql.format(col="departed_at"), f.params()))
    weeks = sorted({_as_date(w) for w in (*planned, *left)})
    return [(w, _get(planned, w), _get(left, w)) for w in weeks]


def _as_date(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _get(counts: dict[Any, Any], week: dt.date) -> int:
    for key, n in counts.items():
        if _as_date(key) == week:
            return int(n)
    return 0


def transfers_by_department(con: duckdb.DuckDBPyConnection, f: Filters) -> Rows:
    sql = """
        SELECT department,
          count(*) FILTER (
            WHERE CAST(timezone('Europe/Paris', planned_departure) AS DATE) BETWEEN $start AND $end),
          count(*) FILTER (
            WHERE CAST(timezone('Europe/Paris', departed_at) AS DATE) BETWEEN $start AND $end)
        FROM convoy_works WHERE institution = $inst GROUP BY 1 ORDER BY 1
    """
    return [(d, int(p), int(x)) for d, p, x in fetch(con, sql, f.params()) if p or x]


def incidents_by_kind(con: duckdb.DuckDBPyConnection, f: Filters) -> Rows:
    sql = """
        SELECT kind, count(*), count(*) FILTER (WHERE resolved_at IS NULL), count(DISTINCT convoy)
        FROM incidents WHERE institution = $inst AND day BETWEEN $start AND $end
        GROUP BY 1 ORDER BY 2 DESC, 1
    """
    return fetch(con, sql, f.params())


# --- fraud signals ------------------------------------------------------------------------------

FRAUD_COLUMNS = """
    count(*) FILTER (WHERE e.result = 'rejected' AND e.reason = 'forged') AS c0,
    count(*) FILTER (WHERE e.result = 'rejected' AND e.reason = 'already_used') AS c1,
    count(*) FILTER (
        WHERE e.result = 'rejected' AND e.reason IN ('revoked', 'wrong_entrance', 'unpaid')) AS c2,
    count(*) FILTER (WHERE e.result = 'rejected') AS c3,
    count(*) FILTER (WHERE e.source = 'override') AS c4,
    count(*) FILTER (WHERE e.source = 'offline') AS c5
"""


def _fraud(con: duckdb.DuckDBPyConnection, f: Filters, key: str) -> Rows:
    """The signals grouped by ``day`` or ``entrance``, from one scan per period (a cube by day
    and entrance, as for the visits)."""
    name = _cube_name("fraud", f)
    extra, params = _entry_filters(f)
    con.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {name} AS "  # noqa: S608  (our own names)
        f"SELECT e.day, e.entrance, {FRAUD_COLUMNS} FROM entries e "
        f"WHERE e.institution = $inst AND e.day BETWEEN $start AND $end{extra} "
        # a signal is a refusal, an override or an offline decision: the rest never counts
        "AND (e.result = 'rejected' OR e.source <> 'online') GROUP BY ALL",
        {**f.params(), **params},
    )
    sums = ", ".join(f"CAST(sum(c{i}) AS BIGINT)" for i in range(6))
    return fetch(con, f"SELECT {key}, {sums} FROM {name} GROUP BY 1 ORDER BY 1", {})  # noqa: S608


def fraud_by_day(con: duckdb.DuckDBPyConnection, f: Filters) -> Rows:
    """Per day: forged codes, codes already used, revoked/other-entrance/unpaid, all refusals,
    overrides, entries decided offline."""
    found = {row[0]: row[1:] for row in _fraud(con, f, "day")}
    return [(d, *found.get(d, (0, 0, 0, 0, 0, 0))) for d in _days(f)]


def fraud_by_entrance(con: duckdb.DuckDBPyConnection, f: Filters) -> Rows:
    return _fraud(con, f, "entrance")


# --- passes -------------------------------------------------------------------------------------

PASSES = """
    SELECT {key} AS k,
      count(*) FILTER (WHERE p.result = 'accepted' AND p.direction = 'in'),
      count(*) FILTER (WHERE p.activated),
      count(*) FILTER (WHERE p.result = 'rejected')
    FROM pass_entries p
    WHERE (p.institution = $inst OR p.site_institution = $inst) AND p.day BETWEEN $start AND $end
    GROUP BY 1 ORDER BY 1
"""


def passes_by_site(con: duckdb.DuckDBPyConnection, f: Filters) -> Rows:
    """Per partner site: pass entries let in, passes activated there, refusals. The pass operator
    sees its whole network; a partner institution, its own sites."""
    return fetch(con, PASSES.format(key="p.site"), f.params())


def passes_by_day(con: duckdb.DuckDBPyConnection, f: Filters) -> Rows:
    found = {row[0]: row[1:] for row in fetch(con, PASSES.format(key="p.day"), f.params())}
    return [(d, *found.get(d, (0, 0, 0))) for d in _days(f)]


def choices(con: duckdb.DuckDBPyConnection, institution: str) -> dict[str, list[str]]:
    """The entrances, products and channels the facts know, for the filter menus."""
    out = {}
    for name in ("entrance", "product", "channel"):
        sql = (
            f"SELECT DISTINCT {name} FROM entries WHERE institution = $inst AND {name} IS NOT NULL "  # noqa: S608
            f"UNION SELECT DISTINCT {name} FROM orders WHERE institution = $inst AND {name} IS NOT NULL"
        )
        out[name] = sorted(str(r[0]) for r in fetch(con, sql, {"inst": institution}))
    return out


def last_day(con: duckdb.DuckDBPyConnection, institution: str) -> dt.date | None:
    rows = fetch(con, "SELECT max(day) FROM entries WHERE institution = $inst", {"inst": institution})
    value = rows[0][0] if rows else None
    return value if isinstance(value, dt.date) else None
