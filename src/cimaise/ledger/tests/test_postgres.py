"""The ledger on PostgreSQL: triggers refuse UPDATE, DELETE and TRUNCATE; concurrent appenders
keep one gap-free chain."""

from __future__ import annotations

import threading

import pytest
from django.db import DatabaseError, connection, connections, transaction

from cimaise.ledger.models import Fact
from cimaise.ledger.services import fact_append
from cimaise.ledger.types import register
from cimaise.ledger.verify import ledger_verify

PG_FACT = register("test.pg.happened", "A thing happened on PostgreSQL (tests only).")

pytestmark = pytest.mark.postgres


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql", ["UPDATE ledger_fact SET actor = 'x'", "DELETE FROM ledger_fact", "TRUNCATE ledger_fact CASCADE"]
)
def test_the_triggers_refuse_tampering_on_postgresql(sql: str) -> None:
    assert connection.vendor == "postgresql"
    with transaction.atomic():
        fact_append(type=PG_FACT.name, stream="pg", body={}, actor="t")
    with connection.cursor() as c:
        c.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks, or TRUNCATE refuses first
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
        c.execute(sql)
    assert Fact.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_appenders_keep_one_gap_free_chain() -> None:
    writers, per_writer = 6, 25
    errors: list[BaseException] = []
    start = threading.Barrier(writers)

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(per_writer):
                with transaction.atomic(durable=True):
                    fact_append(type=PG_FACT.name, stream=f"w{n % 2}", body={"w": n, "i": i}, actor=f"w{n}")
        except BaseException as exc:  # collected and re-raised in the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    ids = list(Fact.objects.values_list("id", flat=True))
    assert ids == list(range(1, writers * per_writer + 1))
    for stream in ("w0", "w1"):
        seqs = list(Fact.objects.filter(stream=stream).values_list("seq", flat=True))
        assert seqs == list(range(1, len(seqs) + 1))
    report = ledger_verify()
    assert report.ok, report.problem
