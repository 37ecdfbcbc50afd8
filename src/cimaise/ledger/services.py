"""Writing facts: the only way anything enters the ledger."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models.base import ModelState
from django.utils import timezone

from cimaise.ledger import types as fact_types
from cimaise.ledger.canonical import canonical_json, fact_hash
from cimaise.ledger.models import ChainHead, Fact, StreamHead


@dataclass(frozen=True)
class FactDraft:
    """A fact about to be appended. ``actor`` is a label such as ``user:registrar``."""

    type: str
    stream: str
    body: Mapping[str, Any]
    actor: str
    institution_id: int | None = None
    occurred_at: dt.datetime | None = None


def _check(drafts: Sequence[FactDraft]) -> list[str]:
    """Validate a batch (each distinct type, stream and actor once) and serialise the bodies."""
    for name in {draft.type for draft in drafts}:
        if fact_types.lookup(name) is None:
            raise ValueError(f"fact type {name!r} is not registered")
    for label in {draft.stream for draft in drafts} | {draft.actor for draft in drafts}:
        if not label or "\n" in label:
            raise ValueError(f"fact stream and actor must be one non-empty line, not {label!r}")
    for draft in drafts:
        if draft.occurred_at is not None and timezone.is_naive(draft.occurred_at):
            raise ValueError("fact occurred_at must be timezone-aware")
    return [canonical_json(dict(draft.body)) for draft in drafts]


def _lock_head() -> ChainHead:
    """Lock the chain head row (created on first use, e.g. after a test flush)."""
    head = ChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        ChainHead.objects.bulk_create([ChainHead(pk=1)], ignore_conflicts=True)
        head = ChainHead.objects.select_for_update().get(pk=1)
    return head


def ledger_lock() -> None:
    """Take the chain-head lock now, inside the caller's transaction.

    For services whose checks must see every commit that could precede theirs (e.g. "is this
    eventID stored yet?"): every append takes this lock, so once held, nothing can be appended
    concurrently until the caller commits.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger_lock must run inside the caller's transaction")
    _lock_head()


def facts_append(drafts: Sequence[FactDraft], *, now: dt.datetime | None = None) -> list[Fact]:
    """Append facts in order, inside the caller's transaction, chaining each to the last.

    Takes the chain-head lock, so call it as late as possible in the transaction: the lock is
    held until the caller commits.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("facts_append must run inside the caller's transaction")
    if not drafts:
        return []
    bodies = _check(drafts)
    recorded_at = now or timezone.now()
    head = _lock_head()
    streams = {draft.stream for draft in drafts}
    seqs = _stream_seqs(streams)
    facts: list[Fact] = []
    prev_hash, last_id = head.last_hash, head.last_id
    for draft, body in zip(drafts, bodies, strict=True):
        last_id += 1
        seqs[draft.stream] = seqs.get(draft.stream, 0) + 1
        fact = _build(draft, body, last_id, seqs[draft.stream], recorded_at, prev_hash)
        prev_hash = fact.hash
        facts.append(fact)
    _insert(facts)
    _advance_streams(facts)
    ChainHead.objects.filter(pk=1).update(last_id=last_id, last_hash=prev_hash)
    return facts


def _build(draft: FactDraft, body: str, fact_id: int, seq: int, recorded_at: dt.datetime, prev: str) -> Fact:
    occurred_at = draft.occurred_at or recorded_at
    digest = fact_hash(
        prev_hash=prev,
        fact_id=fact_id,
        type=draft.type,
        stream=draft.stream,
        seq=seq,
        occurred_at=occurred_at,
        recorded_at=recorded_at,
        actor=draft.actor,
        institution_id=draft.institution_id,
        body=body,
    )
    # Model.__init__ costs more than hashing; the fields are all known, so fill them directly.
    fact: Fact = Fact.__new__(Fact)
    fact.__dict__.update(
        id=fact_id,
        type=draft.type,
        stream=draft.stream,
        seq=seq,
        occurred_at=occurred_at,
        recorded_at=recorded_at,
        actor=draft.actor,
        institution_id=draft.institution_id,
        body=body,
        prev_hash=prev,
        hash=digest,
        _state=ModelState(),
    )
    return fact


_COLUMNS = (
    "id",
    "type",
    "stream",
    "seq",
    "occurred_at",
    "recorded_at",
    "actor",
    "institution_id",
    "body",
    "prev_hash",
    "hash",
)
_INSERT = (
    f"INSERT INTO ledger_fact ({', '.join(_COLUMNS)}) "  # noqa: S608  (constant column names)
    f"VALUES ({', '.join(['%s'] * len(_COLUMNS))})"
)


def _insert(facts: list[Fact]) -> None:
    """One ``executemany``: the ORM's bulk_create spends most of its time preparing values."""
    connection = transaction.get_connection()
    adapt = connection.ops.adapt_datetimefield_value
    adapted: dict[dt.datetime, object] = {}

    def when(value: dt.datetime) -> object:
        if value not in adapted:
            adapted[value] = adapt(value)
        return adapted[value]

    rows = [
        (
            f.id,
            f.type,
            f.stream,
            f.seq,
            when(f.occurred_at),
            when(f.recorded_at),
            f.actor,
            f.institution_id,
            f.body,
            f.prev_hash,
            f.hash,
        )
        for f in facts
    ]
    with connection.cursor() as cursor:
        cursor.executemany(_INSERT, rows)
    for fact in facts:
        fact._state.adding = False
        fact._state.db = connection.alias


def _stream_seqs(streams: set[str]) -> dict[str, int]:
    """The last sequence number of each stream (the chain-head lock is held)."""
    names = sorted(streams)
    seqs: dict[str, int] = {}
    with transaction.get_connection().cursor() as cursor:
        for start in range(0, len(names), 500):
            chunk = names[start : start + 500]
            cursor.execute(
                f"SELECT stream, last_seq FROM {StreamHead._meta.db_table} "  # noqa: S608
                f"WHERE stream IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )
            seqs.update(cursor.fetchall())
    return seqs


_UPSERT_STREAM = (
    "INSERT INTO ledger_streamhead (stream, last_seq, last_fact_id) VALUES (%s, %s, %s) "
    "ON CONFLICT (stream) DO UPDATE SET last_seq = excluded.last_seq, last_fact_id = excluded.last_fact_id"
)


def _advance_streams(facts: list[Fact]) -> None:
    last: dict[str, Fact] = {}
    for fact in facts:
        last[fact.stream] = fact
    with transaction.get_connection().cursor() as cursor:
        cursor.executemany(_UPSERT_STREAM, [(s, f.seq, f.id) for s, f in last.items()])


def fact_append(
    *,
    type: str,
    stream: str,
    body: Mapping[str, Any],
    actor: str,
    institution_id: int | None = None,
    occurred_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Fact:
    """Append one fact (see :func:`facts_append`)."""
    draft = FactDraft(
        type=type,
        stream=stream,
        body=body,
        actor=actor,
        institution_id=institution_id,
        occurred_at=occurred_at,
    )
    return facts_append([draft], now=now)[0]
