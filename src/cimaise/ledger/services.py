"""Writing facts: the only way anything enters the ledger."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
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


def _check(draft: FactDraft) -> str:
    if fact_types.lookup(draft.type) is None:
        raise ValueError(f"fact type {draft.type!r} is not registered")
    for name in ("stream", "actor"):
        value = getattr(draft, name)
        if not value or "\n" in value:
            raise ValueError(f"fact {name} must be one non-empty line")
    if draft.occurred_at is not None and timezone.is_naive(draft.occurred_at):
        raise ValueError("fact occurred_at must be timezone-aware")
    return canonical_json(dict(draft.body))


def _lock_head() -> ChainHead:
    """Lock the chain head row (created on first use, e.g. after a test flush)."""
    head = ChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        ChainHead.objects.bulk_create([ChainHead(pk=1)], ignore_conflicts=True)
        head = ChainHead.objects.select_for_update().get(pk=1)
    return head


def facts_append(drafts: Sequence[FactDraft], *, now: dt.datetime | None = None) -> list[Fact]:
    """Append facts in order, inside the caller's transaction, chaining each to the last.

    Takes the chain-head lock, so call it as late as possible in the transaction: the lock is
    held until the caller commits.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("facts_append must run inside the caller's transaction")
    if not drafts:
        return []
    bodies = [_check(draft) for draft in drafts]
    recorded_at = now or timezone.now()
    head = _lock_head()
    streams = {draft.stream for draft in drafts}
    seqs = {h.stream: h.last_seq for h in StreamHead.objects.filter(stream__in=streams)}
    facts: list[Fact] = []
    prev_hash, last_id = head.last_hash, head.last_id
    for draft, body in zip(drafts, bodies, strict=True):
        last_id += 1
        seqs[draft.stream] = seqs.get(draft.stream, 0) + 1
        fact = _build(draft, body, last_id, seqs[draft.stream], recorded_at, prev_hash)
        prev_hash = fact.hash
        facts.append(fact)
    Fact.objects.bulk_create(facts, batch_size=500)
    _advance_streams(facts)
    ChainHead.objects.filter(pk=1).update(last_id=last_id, last_hash=prev_hash)
    return facts


def _build(
    draft: FactDraft, body: str, fact_id: int, seq: int, recorded_at: dt.datetime, prev: str
) -> Fact:
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
    return Fact(
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
    )


def _advance_streams(facts: list[Fact]) -> None:
    last: dict[str, Fact] = {}
    for fact in facts:
        last[fact.stream] = fact
    StreamHead.objects.bulk_create(
        [StreamHead(stream=s, last_seq=f.seq, last_fact_id=f.id) for s, f in last.items()],
        update_conflicts=True,
        unique_fields=["stream"],
        update_fields=["last_seq", "last_fact_id"],
    )


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
