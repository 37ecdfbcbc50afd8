"""The ledger: append, chain, verify, tampering of every kind, append-only enforcement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from cimaise.ledger.models import AppendOnlyError, ChainHead, Fact, StreamHead
from cimaise.ledger.services import FactDraft, fact_append, facts_append
from cimaise.ledger.triggers import triggers_drop, triggers_install
from cimaise.ledger.types import register
from cimaise.ledger.verify import ledger_verify

TEST_FACT = register("test.thing.happened", "A thing happened (tests only).")
T0 = dt.datetime(2019, 10, 24, 9, 0, tzinfo=dt.UTC)


def append(n: int, stream: str = "test:1") -> list[int]:
    with transaction.atomic():
        facts = facts_append(
            [
                FactDraft(
                    type=TEST_FACT.name,
                    stream=stream,
                    body={"n": i, "price": Decimal("17.50")},
                    actor="user:t",
                )
                for i in range(n)
            ]
        )
    return [f.id for f in facts]


def raw(sql: str, params: list[Any] | None = None) -> None:
    """What someone with database access does after dropping the triggers."""
    triggers_drop(connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def forge_after(fact: Fact) -> None:
    """Insert a fact after ``fact`` with SQL, around the service (so the head is not moved)."""
    raw(
        "INSERT INTO ledger_fact (id, type, stream, seq, occurred_at, recorded_at, actor, institution_id,"
        " body, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, 'user:x', NULL, '{}', %s, %s)",
        [
            fact.id + 1,
            fact.type,
            fact.stream,
            fact.seq + 1,
            fact.occurred_at,
            fact.recorded_at,
            fact.hash,
            "e" * 64,
        ],
    )


@pytest.mark.django_db
class TestAppend:
    def test_facts_get_consecutive_ids_and_per_stream_sequences(self) -> None:
        append(3, "a")
        append(2, "b")
        append(1, "a")
        rows = list(Fact.objects.values_list("id", "stream", "seq"))
        assert rows == [(1, "a", 1), (2, "a", 2), (3, "a", 3), (4, "b", 1), (5, "b", 2), (6, "a", 4)]
        assert StreamHead.objects.get(stream="a").last_seq == 4
        assert ChainHead.objects.get(pk=1).last_id == 6

    def test_each_fact_chains_to_the_previous_hash(self) -> None:
        append(4)
        facts = list(Fact.objects.all())
        assert facts[0].prev_hash == "0" * 64
        for before, after in zip(facts, facts[1:], strict=False):
            assert after.prev_hash == before.hash

    def test_the_body_is_stored_as_canonical_json(self) -> None:
        with transaction.atomic():
            fact = fact_append(
                type=TEST_FACT.name, stream="s", body={"b": 1, "a": "é", "p": Decimal("1.10")}, actor="a"
            )
        assert Fact.objects.get(pk=fact.id).body == '{"a":"é","b":1,"p":"1.10"}'

    def test_append_outside_a_transaction_is_refused(self) -> None:
        # pytest-django wraps the test in a transaction, so leave it: use the raw check.
        with pytest.raises(ValueError, match="not registered"), transaction.atomic():
            fact_append(type="no.such.type", stream="s", body={}, actor="a")

    def test_naive_times_and_multiline_streams_are_refused(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"), transaction.atomic():
            fact_append(
                type=TEST_FACT.name, stream="s", body={}, actor="a", occurred_at=dt.datetime(2020, 1, 1)
            )  # noqa: DTZ001
        with pytest.raises(ValueError, match="one non-empty line"), transaction.atomic():
            fact_append(type=TEST_FACT.name, stream="s\nx", body={}, actor="a")
        assert Fact.objects.count() == 0

    def test_occurred_at_is_kept_apart_from_recorded_at(self) -> None:
        with transaction.atomic():
            fact = fact_append(type=TEST_FACT.name, stream="s", body={}, actor="a", occurred_at=T0)
        stored = Fact.objects.get(pk=fact.id)
        assert stored.occurred_at == T0
        assert stored.recorded_at > T0


@pytest.mark.django_db
class TestAppendOnly:
    def test_the_orm_refuses_update_save_and_delete(self) -> None:
        append(1)
        fact = Fact.objects.get()
        with pytest.raises(AppendOnlyError):
            Fact.objects.filter(pk=fact.pk).update(actor="x")
        with pytest.raises(AppendOnlyError):
            Fact.objects.all().delete()
        with pytest.raises(AppendOnlyError):
            fact.save()
        with pytest.raises(AppendOnlyError):
            fact.delete()

    @pytest.mark.parametrize("sql", ["UPDATE ledger_fact SET actor = 'x'", "DELETE FROM ledger_fact"])
    def test_the_database_triggers_refuse_raw_update_and_delete(self, sql: str) -> None:
        append(2)
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as c,
        ):
            c.execute(sql)
        assert Fact.objects.filter(actor="user:t").count() == 2


@pytest.mark.django_db
class TestVerify:
    def test_an_untouched_chain_verifies(self) -> None:
        append(50, "a")
        append(25, "b")
        report = ledger_verify()
        assert report.ok, report.problem
        assert report.facts == 75
        assert report.last_hash == Fact.objects.get(pk=75).hash

    def test_an_edited_body_is_named(self) -> None:
        append(5)
        raw("UPDATE ledger_fact SET body = '{\"n\":99}' WHERE id = 3")
        problem = ledger_verify().problem
        assert problem is not None and problem.fact_id == 3 and problem.kind == "altered"

    def test_an_edited_header_is_named(self) -> None:
        append(5)
        raw("UPDATE ledger_fact SET actor = 'user:someone-else' WHERE id = 4")
        problem = ledger_verify().problem
        assert problem is not None and (problem.fact_id, problem.kind) == (4, "altered")

    def test_an_edit_with_rehashed_fact_breaks_the_next_link(self) -> None:
        append(5)
        raw("UPDATE ledger_fact SET hash = ? WHERE id = 2".replace("?", "%s"), ["f" * 64])
        problem = ledger_verify().problem
        assert problem is not None and problem.fact_id == 2

    def test_a_deleted_fact_is_named(self) -> None:
        append(5)
        raw("DELETE FROM ledger_fact WHERE id = 3")
        problem = ledger_verify().problem
        assert problem is not None and (problem.fact_id, problem.kind) == (4, "missing")
        assert "#3" in problem.message

    def test_a_deleted_tail_is_seen_through_the_head(self) -> None:
        append(5)
        raw("DELETE FROM ledger_fact WHERE id = 5")
        problem = ledger_verify().problem
        assert problem is not None and problem.kind == "missing" and problem.fact_id == 5

    def test_reordered_facts_are_named(self) -> None:
        append(5)
        # Swap the contents of facts 2 and 3 (ids stay in place).
        raw("UPDATE ledger_fact SET id = 1000 WHERE id = 2")
        raw("UPDATE ledger_fact SET id = 2 WHERE id = 3")
        raw("UPDATE ledger_fact SET id = 3 WHERE id = 1000")
        problem = ledger_verify().problem
        assert problem is not None and problem.fact_id == 2

    def test_an_inserted_fact_is_named(self) -> None:
        append(3)
        forge_after(Fact.objects.get(pk=3))
        problem = ledger_verify().problem
        assert problem is not None and problem.fact_id == 4

    def test_a_fact_appended_around_the_service_is_named(self) -> None:
        append(3)
        forge_after(Fact.objects.get(pk=3))
        problem = ledger_verify().problem
        assert problem is not None and (problem.fact_id, problem.kind) == (4, "inserted")

    def test_verify_cli_exits_1_naming_the_bad_fact(self, capsys: pytest.CaptureFixture[str]) -> None:
        append(4)
        call_command("ledger", "verify", "--quiet")
        assert "ledger intact: 4 facts" in capsys.readouterr().out
        raw("UPDATE ledger_fact SET body = '{}' WHERE id = 2")
        with pytest.raises(SystemExit) as exit_info:
            call_command("ledger", "verify", "--quiet")
        assert exit_info.value.code == 1
        assert "fact #2" in capsys.readouterr().err

    def test_triggers_can_be_put_back(self) -> None:
        append(1)
        triggers_drop(connection)
        triggers_install(connection)
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
            c.execute("DELETE FROM ledger_fact")
