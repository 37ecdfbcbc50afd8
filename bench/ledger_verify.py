"""Verification throughput of the ledger against a naive read-and-hash of the same rows.

Fills a throw-away ledger with N facts (batches of 5,000 through ``facts_append``), then times
``ledger_verify()`` and, as the baseline, a streaming ``SELECT`` of every fact in id order that
SHA-256s each body. Runs in a temporary var directory (SQLite unless ``DATABASE_URL`` says otherwise).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time

from _harness import emit, scratch_django
from tqdm import tqdm

BATCH = 5_000
CHUNK = 20_000
FACT_TYPE = "bench.thing.recorded"
COLUMNS = "id, type, stream, seq, occurred_at, recorded_at, actor, institution_id, body, prev_hash, hash"


def fill(n: int) -> None:
    """Append ``n`` facts, ``BATCH`` per transaction, with a progress bar on stderr."""
    from django.db import transaction

    from cimaise.ledger.services import FactDraft, facts_append
    from cimaise.ledger.types import register

    register(FACT_TYPE, "A benchmark fact (number, label); never part of a real ledger.")
    with tqdm(total=n, desc="filling ledger", unit="fact", file=sys.stderr) as bar:
        for offset in range(0, n, BATCH):
            drafts = [
                FactDraft(
                    type=FACT_TYPE,
                    stream=f"bench:{i % 100}",
                    body={"i": i, "label": f"thing {i}"},
                    actor="bench",
                )
                for i in range(offset, min(offset + BATCH, n))
            ]
            with transaction.atomic():
                facts_append(drafts)
            bar.update(len(drafts))


def naive_read_and_hash() -> int:
    """Stream every fact in id order and SHA-256 each body; return the number of rows."""
    from django.db import connection

    rows = 0
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {COLUMNS} FROM ledger_fact ORDER BY id")
        while batch := cursor.fetchmany(CHUNK):
            for row in batch:
                hashlib.sha256(row[8].encode()).hexdigest()
            rows += len(batch)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description="Ledger verification throughput vs naive read-and-hash.")
    parser.add_argument("--n", type=int, default=1_000_000, help="facts in the ledger (default 1,000,000)")
    args = parser.parse_args()
    with scratch_django():
        from cimaise.ledger.verify import ledger_verify

        fill(args.n)
        start = time.perf_counter()
        report = ledger_verify()
        verify_s = time.perf_counter() - start
        if not report.ok or report.facts != args.n:
            print(f"ledger_verify failed: {report.problem} ({report.facts} facts)", file=sys.stderr)
            return 1
        start = time.perf_counter()
        rows = naive_read_and_hash()
        raw_s = time.perf_counter() - start
    if rows != args.n:
        print(f"read {rows} rows, expected {args.n}", file=sys.stderr)
        return 1
    emit("ledger_verify", metric=report.facts / verify_s, baseline=rows / raw_s, unit="facts/s", n=args.n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
