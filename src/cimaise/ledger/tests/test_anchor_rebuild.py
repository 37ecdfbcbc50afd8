"""Anchors prove the chain up to a point; rebuild refills projections from the facts."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from cimaise.core.models import Institution
from cimaise.ledger.anchors import ledger_anchor, parse_anchor_line
from cimaise.ledger.canonical import fact_hash
from cimaise.ledger.models import Anchor, ChainHead, Fact, StreamHead
from cimaise.ledger.services import fact_append
from cimaise.ledger.tests.test_ledger import TEST_FACT, append, raw
from cimaise.ledger.verify import ledger_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def louvre() -> Institution:
    return Institution.objects.create(code="louvre", name="Musée du Louvre")


def rewrite_whole_chain(new_body_of_2: str) -> None:
    """What an attacker with database access and no key does: edit a fact, re-hash everything."""
    raw(f"UPDATE ledger_fact SET body = '{new_body_of_2}' WHERE id = 2")
    prev = "0" * 64
    for fact in Fact.objects.order_by("id"):
        digest = fact_hash(
            prev_hash=prev,
            fact_id=fact.id,
            type=fact.type,
            stream=fact.stream,
            seq=fact.seq,
            occurred_at=fact.occurred_at,
            recorded_at=fact.recorded_at,
            actor=fact.actor,
            institution_id=fact.institution_id,
            body=fact.body,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE ledger_fact SET prev_hash = %s, hash = %s WHERE id = %s", [prev, digest, fact.id]
            )
        prev = digest
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_chainhead SET last_hash = %s", [prev])


def test_an_anchor_signs_the_head_and_verifies(louvre: Institution) -> None:
    append(5)
    statement = ledger_anchor(institution=louvre, actor="user:admin")
    assert statement.fact_id == 5
    assert statement.fact_hash == Fact.objects.get(pk=5).hash
    assert parse_anchor_line(statement.line()) == statement
    assert Fact.objects.filter(type="ledger.anchor.signed").count() == 1
    report = ledger_verify(anchors=[statement])
    assert report.ok and report.anchors_checked == 2  # the stored one and the line given


def test_a_rehashed_chain_is_caught_by_the_anchor(louvre: Institution) -> None:
    append(5)
    ledger_anchor(institution=louvre, actor="user:admin")
    rewrite_whole_chain('{"n":42}')
    problem = ledger_verify().problem
    assert problem is not None and problem.kind == "anchor" and problem.fact_id == 5


def test_an_anchor_line_kept_outside_survives_deleting_the_stored_anchors(louvre: Institution) -> None:
    append(5)
    line = ledger_anchor(institution=louvre, actor="user:admin").line()
    rewrite_whole_chain('{"n":7}')
    raw("DELETE FROM ledger_anchor")
    assert ledger_verify().ok  # without the line, a full rewrite cannot be seen
    problem = ledger_verify(anchors=[parse_anchor_line(line)]).problem
    assert problem is not None and problem.kind == "anchor"


def test_a_forged_anchor_line_is_refused(louvre: Institution) -> None:
    append(2)
    statement = ledger_anchor(institution=louvre, actor="user:admin")
    forged = statement.line().replace(statement.fact_hash, hashlib.sha256(b"x").hexdigest())
    problem = ledger_verify(anchors=[parse_anchor_line(forged)]).problem
    assert problem is not None and "bad signature" in problem.message


def test_the_anchor_command_prints_a_line_and_verify_accepts_it(louvre: Institution) -> None:
    append(3)
    out = io.StringIO()
    call_command("ledger", "anchor", "--institution", "louvre", stdout=out)
    line = out.getvalue().strip()
    assert line.startswith("cimaise-anchor/1 louvre-ledger-anchor-")
    verify_out = io.StringIO()
    call_command("ledger", "verify", "--quiet", "--anchor", line, stdout=verify_out)
    assert "2 anchor(s) checked" in verify_out.getvalue()
    with pytest.raises(CommandError, match="--anchor"):
        call_command("ledger", "verify", "--quiet", "--anchor", "not an anchor")
    with pytest.raises(CommandError, match="--institution"):
        call_command("ledger", "anchor", "--institution", "nowhere")
    assert Anchor.objects.count() == 1


def test_rebuild_restores_the_projections_from_the_facts() -> None:
    append(4, "a")
    append(2, "b")
    raw("DELETE FROM ledger_streamhead")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_chainhead SET last_id = 0")
    call_command("ledger", "rebuild", stdout=io.StringIO(), stderr=io.StringIO())
    assert dict(StreamHead.objects.values_list("stream", "last_seq")) == {
        "a": 4,
        "b": 2,
        "ledger.projections": 1,
    }
    assert ChainHead.objects.get(pk=1).last_id == 7
    assert ledger_verify().ok
    with transaction.atomic():
        fact_append(type=TEST_FACT.name, stream="a", body={}, actor="t")
    assert Fact.objects.filter(stream="a").order_by("-seq").first().seq == 5  # type: ignore[union-attr]
