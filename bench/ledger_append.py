"""Append throughput of the ledger against a raw ``executemany`` insert of the same rows.

Appends N facts through ``facts_append`` in batches of 1,000 (one transaction each), then inserts
the same rows with a plain ``cursor.executemany`` into an unconstrained copy of ``ledger_fact``.
Runs in a throw-away var directory (SQLite by default; ``DATABASE_URL`` chooses another database).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from _harness import emit, scratch_django

BATCH = 1_000
FACT_TYPE = "bench.thing.recorded"
RAW_TABLE = "bench_raw_fact"


def bench_service(n: int) -> tuple[float, list[tuple[Any, ...]]]:
    """Seconds to append ``n`` facts, and the appended rows as database parameters."""
    from django.db import connection, transaction

    from cimaise.ledger.models import Fact
    from cimaise.ledger.services import FactDraft, facts_append
    from cimaise.ledger.types import register

    register(FACT_TYPE, "A benchmark fact (number, label); never part of a real ledger.")
    drafts = [
        FactDraft(
            type=FACT_TYPE, stream=f"bench:{i % 100}", body={"i": i, "label": f"thing {i}"}, actor="bench"
        )
        for i in range(n)
    ]
    facts: list[Fact] = []
    start = time.perf_counter()
    for offset in range(0, n, BATCH):
        with transaction.atomic():
            facts.extend(facts_append(drafts[offset : offset + BATCH]))
    elapsed = time.perf_counter() - start
    fields = Fact._meta.concrete_fields
    rows = [tuple(f.get_db_prep_save(getattr(fact, f.attname), connection) for f in fields) for fact in facts]
    return elapsed, rows


def bench_raw(rows: list[tuple[Any, ...]]) -> float:
    """Seconds to insert ``rows`` with ``executemany`` into a plain table of the same columns."""
    from django.db import connection, transaction

    from cimaise.ledger.models import Fact

    qn = connection.ops.quote_name
    fields = Fact._meta.concrete_fields
    columns = ", ".join(
        f"{qn(str(f.column))} {f.db_type(connection)}{' PRIMARY KEY' if f.primary_key else ''}"
        for f in fields
    )
    insert = (
        f"INSERT INTO {RAW_TABLE} ({', '.join(qn(str(f.column)) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {RAW_TABLE} ({columns})")
    start = time.perf_counter()
    for offset in range(0, len(rows), BATCH):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(insert, rows[offset : offset + BATCH])
    elapsed = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {RAW_TABLE}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description="Ledger append throughput vs raw executemany.")
    parser.add_argument("--n", type=int, default=20_000, help="facts to append (default 20,000)")
    args = parser.parse_args()
    with scratch_django():
        service_s, rows = bench_service(args.n)
        raw_s = bench_raw(rows)
    emit("ledger_append", metric=args.n / service_s, baseline=args.n / raw_s, unit="facts/s", n=args.n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
