"""A year of visits in the Louvre's 2019 shape, written straight to Parquet by DuckDB (no rows go
through Python): 9.6 million entries in 2019 (10.2 million in 2018, the year before), between
30,000 and 50,000 a day, closed on Tuesdays and on 1 January, 1 May and 25 December, with the
seasons, the weekdays (late openings on Wednesday and Friday) and the hours of the day, and from
24 October 2019 the Léonard de Vinci exhibition with its own 30-minute slots. Also the orders
that sold those visits (about half on the web, Alipay and WeChat Pay among the providers), their
refunds and the exhibition's slots.

Files are named ``demo-*.parquet`` in the same month directories as the built facts; the build
never touches them. Values are pseudo-random but reproducible (hashes of the row's day and index).
"""

# ruff: noqa: E501  (SQL reads better unwrapped)

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass

import duckdb

from cimaise.reporting import store

YEAR_TOTALS = {2018: 10_200_000, 2019: 9_600_000}
DAY_MIN, DAY_MAX = 30_000, 50_000
LEONARD_OPENS = dt.date(2019, 10, 24)
LEONARD_SHARE = 0.33  # of a day's visitors, once the exhibition is open
DEMO_PREFIX = "demo-"


@dataclass(frozen=True)
class Span:
    """Days ``start``–``end`` of each year in ``years``, at ``scale`` of the real volume."""

    start: str  # MM-DD
    end: str  # MM-DD
    years: tuple[int, ...]
    scale: float = 1.0
    institution: str = "louvre"


FULL = Span("01-01", "12-31", (2018, 2019))
SMALL = Span("10-14", "11-03", (2018, 2019), scale=0.02)

DAYS_SQL = """
INSERT INTO demo_days
WITH d AS (
    SELECT CAST(g AS DATE) AS day FROM generate_series(DATE '{y}-01-01', DATE '{y}-12-31', INTERVAL 1 DAY) t(g)
), open AS (
    SELECT day,
      [0.80, 0.88, 0.95, 1.10, 1.05, 1.05, 1.25, 1.30, 1.00, 1.00, 0.92, 0.85][month(day)]
      * [1.00, 1.00, 1.00, 1.05, 0.90, 1.10, 1.20, 1.15][isodow(day) + 1]
      * (1 + CASE WHEN day >= DATE '2019-10-24' THEN 0.10 ELSE 0 END)
      * (0.95 + (hash(day) % 1000) / 10000.0) AS w
    FROM d
    WHERE isodow(day) <> 2 AND strftime(day, '%m-%d') NOT IN ('01-01', '05-01', '12-25')
), lifted AS (
    SELECT day, w - min(w) OVER () AS lift FROM open
), spread AS (
    SELECT day, lift / sum(lift) OVER () AS share, count(*) OVER () AS n FROM lifted
)
SELECT day,
  CAST(round(({dmin} + ({total} - {dmin} * n) * share) * {scale}) AS BIGINT) AS visitors
FROM spread
WHERE strftime(day, '%m-%d') BETWEEN '{start}' AND '{end}'
"""

# The museum is open in the daytime, never across a daylight-saving change (2–3 a.m.): one UTC
# offset per day is exact, and far cheaper than converting each of ten million timestamps.
OFFSETS_SQL = """
CREATE OR REPLACE TABLE demo_days AS
SELECT day, visitors,
  CAST(epoch(CAST(timezone('Europe/Paris', CAST(day AS TIMESTAMP) + INTERVAL 12 HOUR) AS TIMESTAMP))
       - epoch(CAST(day AS TIMESTAMP) + INTERVAL 12 HOUR) AS BIGINT) * -1 AS utc_offset
FROM demo_days
"""

ENTRIES_SQL = """
CREATE OR REPLACE TABLE demo_entries AS
WITH rows AS (
    SELECT day, visitors, utc_offset, unnest(range(CAST(ceil(visitors * 1.015) AS BIGINT))) AS i FROM demo_days
), r AS (
    SELECT day, i, utc_offset, i >= visitors AS refused,
      (hash(day, i, 'h') % 1000000) / 1e6 AS rh, (hash(day, i, 'e') % 1000) AS re,
      (hash(day, i, 't') % 1000) AS rt, (hash(day, i, 'c') % 1000) AS rc, (hash(day, i, 's') % 1000) AS rs,
      hash(day, i, 'm') % 3600 AS sec, isodow(day) IN (3, 5) AS late
    FROM rows
), h AS (
    SELECT *, CASE
      WHEN rh < 0.13 THEN 9 WHEN rh < 0.29 THEN 10 WHEN rh < 0.43 THEN 11 WHEN rh < 0.55 THEN 12
      WHEN rh < 0.67 THEN 13 WHEN rh < 0.78 THEN 14 WHEN rh < 0.87 THEN 15 WHEN rh < 0.93 THEN 16
      WHEN rh < 0.97 OR NOT late THEN 17 WHEN rh < 0.985 THEN 18 WHEN rh < 0.995 THEN 19 ELSE 20 END AS hour
    FROM r
), x AS (
    SELECT *, day >= DATE '2019-10-24' AND rt < {leonard} AS leonard FROM h
)
SELECT
  CAST(NULL AS BIGINT) AS id, '{inst}' AS institution,
  CAST(CAST(day AS TIMESTAMP) + to_seconds(hour * 3600 + sec - utc_offset) AS TIMESTAMPTZ) AS at,
  CASE WHEN re < 600 THEN 'PYR' WHEN re < 750 THEN 'RIC' WHEN re < 950 THEN 'CAR' ELSE 'PDL' END AS entrance,
  'T' || (1 + i % 6) AS lane, 'in' AS direction,
  CASE WHEN refused THEN 'rejected' ELSE 'accepted' END AS result,
  CASE WHEN NOT refused THEN (CASE WHEN rs < 5 THEN 'override' ELSE 'ok' END)
       WHEN rs < 300 THEN 'already_used' WHEN rs < 450 THEN 'forged' WHEN rs < 700 THEN 'too_early'
       WHEN rs < 850 THEN 'wrong_entrance' ELSE 'revoked' END AS reason,
  CAST(1 AS INTEGER) AS people,
  CASE WHEN rs < 5 THEN 'override' WHEN rs > 975 THEN 'offline' ELSE 'online' END AS source,
  CASE WHEN leonard THEN 'LEONARD' ELSE 'MUSEE' END AS product,
  CASE WHEN rt < 420 THEN 'FULL' WHEN rt < 700 THEN 'U18' WHEN rt < 880 THEN 'EEA26' WHEN rt < 930 THEN 'DISABLED'
       WHEN rt < 960 THEN 'TEACHER' WHEN rt < 975 THEN 'JOBSEEKER' ELSE 'DESK' END AS tariff,
  CASE WHEN rt >= 420 AND rt < 975 THEN
    CASE WHEN rt < 700 THEN 'U18' WHEN rt < 880 THEN 'EEA26' WHEN rt < 930 THEN 'DISABLED'
         WHEN rt < 960 THEN 'TEACHER' ELSE 'JOBSEEKER' END END AS free_category,
  CASE WHEN leonard OR rc < 500 THEN 'web' WHEN rc < 950 THEN 'desk' ELSE 'reseller' END AS channel,
  CASE WHEN leonard THEN -(CAST(day - DATE '2019-01-01' AS BIGINT) * 100 + (hour - 9) * 2 + CAST(sec >= 1800 AS BIGINT) + 1) END AS slot_id,
  CASE WHEN leonard THEN CAST(CAST(day AS TIMESTAMP) + to_seconds(hour * 3600 + CASE WHEN sec >= 1800 THEN 1800 ELSE 0 END - utc_offset) AS TIMESTAMPTZ) END AS slot_start,
  CAST(NULL AS BIGINT) AS ticket_id, day, CAST(hour AS TINYINT) AS hour
FROM x
"""

SLOTS_SQL = """
CREATE OR REPLACE TABLE demo_slots AS
WITH s AS (
    SELECT slot_id AS id, min(slot_start) AS "at", min(day) AS day, min(hour) AS hour,
      count(*) FILTER (WHERE result = 'accepted') AS came
    FROM demo_entries WHERE slot_id IS NOT NULL GROUP BY 1
)
SELECT id, '{inst}' AS institution, 'LEONARD' AS product, 'PYR' AS entrance, "at",
  CAST(greatest(ceil(came * 1.15), 10) AS INTEGER) AS capacity,
  CAST(least(ceil(came * 1.08), greatest(ceil(came * 1.15), 10)) AS INTEGER) AS taken, false AS closed,
  CAST(s.day AS DATE) AS day, CAST(s.hour AS TINYINT) AS hour
FROM s
"""

ORDERS_SQL = """
CREATE OR REPLACE TABLE demo_orders AS
WITH n AS (
    SELECT day, utc_offset, unnest(range(CAST(round(visitors * 0.2) AS BIGINT))) AS i FROM demo_days
), r AS (
    SELECT day, i, utc_offset, hash(day, i, 'o') % 1000 AS ro, hash(day, i, 'q') % 4 + 1 AS q, hash(day, i, 'p') % 1000 AS rp,
      hash(day, i, 'k') % 36000 AS sec FROM n
)
SELECT
  CAST(-(CAST(day - DATE '2018-01-01' AS BIGINT) * 100000 + i + 1) AS BIGINT) AS id, '{inst}' AS institution,
  'D' || strftime(day, '%y%m%d') || '-' || i AS code,
  CAST(CAST(day AS TIMESTAMP) + to_seconds(8 * 3600 + sec - utc_offset) AS TIMESTAMPTZ) AS at,
  CAST(CAST(day AS TIMESTAMP) + to_seconds(8 * 3600 + sec + 60 - utc_offset) AS TIMESTAMPTZ) AS paid_at,
  CAST(NULL AS BIGINT) AS slot_id, CAST(NULL AS TIMESTAMPTZ) AS slot_start,
  CASE WHEN day >= DATE '2019-10-24' AND rp < 330 THEN 'LEONARD' ELSE 'MUSEE' END AS product,
  'PYR' AS entrance, CASE WHEN ro < 540 THEN 'web' ELSE 'desk' END AS channel,
  CASE WHEN ro >= 540 THEN 'desk' WHEN rp < 60 THEN 'alipay' WHEN rp < 100 THEN 'wechatpay' ELSE 'sandbox' END AS provider,
  CASE WHEN ro % 97 = 0 THEN 'refunded' ELSE 'paid' END AS state,
  CAST(q * 17 AS DECIMAL(12, 2)) AS total,
  CAST(CASE WHEN ro % 97 = 0 THEN q * 17 ELSE 0 END AS DECIMAL(12, 2)) AS refunded, 'EUR' AS currency,
  CAST(q AS INTEGER) AS quantity, 'demo-' || strftime(day, '%y%m%d') || '-' || i AS payment_id,
  day, CAST(8 + sec // 3600 AS TINYINT) AS hour
FROM r
"""

REFUNDS_SQL = """
CREATE OR REPLACE TABLE demo_refunds AS
SELECT id, institution, payment_id, provider, refunded AS amount, 'succeeded' AS state,
  "at" + INTERVAL 2 HOUR AS at, "at" + INTERVAL 2 HOUR AS completed_at,
  CAST(timezone('Europe/Paris', "at" + INTERVAL 2 HOUR) AS DATE) AS day,
  CAST(hour(timezone('Europe/Paris', "at" + INTERVAL 2 HOUR)) AS TINYINT) AS hour
FROM demo_orders WHERE state = 'refunded'
"""


def _write(con: duckdb.DuckDBPyConnection, table: str, source: str) -> None:
    """Copy ``table`` into ``facts/<source>/month=YYYY-MM/demo-*.parquet``."""
    target = store.source_dir(source)
    target.mkdir(parents=True, exist_ok=True)
    path = str(target).replace("'", "''")
    con.execute(
        f"COPY (SELECT *, strftime(day, '%Y-%m') AS month FROM {table}) TO '{path}' "  # noqa: S608  (our names)
        f"(FORMAT parquet, PARTITION_BY (month), FILENAME_PATTERN '{DEMO_PREFIX}{{i}}', OVERWRITE_OR_IGNORE true)"
    )


def synthetic_remove() -> None:
    """Delete every synthetic file (the built facts stay)."""
    for path in store.facts_dir().glob(f"*/month=*/{DEMO_PREFIX}*.parquet"):
        path.unlink()


def synthetic_write(span: Span = FULL, *, threads: int | None = None) -> dict[str, int]:
    """Write the synthetic facts of ``span``; returns rows written per source."""
    synthetic_remove()
    con = duckdb.connect(":memory:")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE TABLE demo_days (day DATE, visitors BIGINT)")
    for year in span.years:
        con.execute(DAYS_SQL.format(
            y=year, total=YEAR_TOTALS.get(year, YEAR_TOTALS[2019]), dmin=DAY_MIN, scale=span.scale,
            start=span.start, end=span.end,
        ))  # fmt: skip
    con.execute(OFFSETS_SQL)
    inst = span.institution.replace("'", "''")
    counts = {}
    for sql, table, source in (
        (ENTRIES_SQL, "demo_entries", "entries"), (SLOTS_SQL, "demo_slots", "slots"),
        (ORDERS_SQL, "demo_orders", "orders"), (REFUNDS_SQL, "demo_refunds", "refunds"),
    ):  # fmt: skip
        con.execute(sql.format(inst=inst, leonard=int(LEONARD_SHARE * 1000)))
        _write(con, table, source)
        counts[source] = int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]  # noqa: S608
    con.close()
    return counts


def clear_all() -> None:
    """Remove every fact and the build state (tests and the benchmark start from nothing)."""
    shutil.rmtree(store.reporting_dir(), ignore_errors=True)
