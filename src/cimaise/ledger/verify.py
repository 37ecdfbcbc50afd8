"""Recompute the hash chain from the stored facts, streaming, and name the first bad fact."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from cimaise.ledger.anchors import AnchorStatement, anchor_signature_valid, statement_of
from cimaise.ledger.canonical import fact_hash
from cimaise.ledger.models import GENESIS_HASH, Anchor, ChainHead

_COLUMNS = "id, type, stream, seq, occurred_at, recorded_at, actor, institution_id, body, prev_hash, hash"
_CHUNK = 20_000


@dataclass(frozen=True)
class Problem:
    """The first thing found wrong: which fact (``fact_id``), what kind, and why."""

    fact_id: int | None
    kind: str
    message: str


@dataclass
class VerifyReport:
    facts: int = 0
    last_id: int = 0
    last_hash: str = GENESIS_HASH
    anchors_checked: int = 0
    problem: Problem | None = None
    _anchors: dict[int, list[AnchorStatement]] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return self.problem is None


def _aware(value: Any) -> dt.datetime:
    """Raw cursors give datetimes (PostgreSQL) or UTC text (SQLite)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime):
        raise TypeError(f"unexpected timestamp {value!r}")
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _rows(upto: int | None) -> Iterator[tuple[Any, ...]]:
    """Facts in id order; with ``upto``, those the head covered when verification began (facts
    appended while it runs are left to the next verification)."""
    where = "" if upto is None else f"WHERE id <= {int(upto)} "
    # A server-side cursor on PostgreSQL, so memory stays flat on millions of facts.
    with connection.chunked_cursor() as cursor:
        cursor.execute(f"SELECT {_COLUMNS} FROM ledger_fact {where}ORDER BY id")  # noqa: S608
        while batch := cursor.fetchmany(_CHUNK):
            yield from batch


def _check_row(row: tuple[Any, ...], report: VerifyReport, seqs: dict[str, int]) -> Problem | None:
    fid, ftype, stream, seq, occurred, recorded, actor, inst, body, prev, stored = row
    if fid != report.last_id + 1:
        if fid > report.last_id + 1:
            first_missing = report.last_id + 1
            return Problem(fid, "missing", f"facts #{first_missing}–#{fid - 1} are missing")
        return Problem(fid, "reordered", f"fact #{fid} is out of order after #{report.last_id}")
    if prev != report.last_hash:
        return Problem(fid, "chain", f"fact #{fid} does not chain to fact #{report.last_id}")
    digest = fact_hash(
        prev_hash=report.last_hash,
        fact_id=fid,
        type=ftype,
        stream=stream,
        seq=seq,
        occurred_at=_aware(occurred),
        recorded_at=_aware(recorded),
        actor=actor,
        institution_id=inst,
        body=body,
    )
    if digest != stored:
        return Problem(fid, "altered", f"fact #{fid} ({ftype}) was changed after it was recorded")
    if seq != seqs.get(stream, 0) + 1:
        return Problem(fid, "sequence", f"fact #{fid} breaks the sequence of stream {stream}")
    seqs[stream] = seq
    return None


def _check_anchors_at(report: VerifyReport, fid: int, digest: str) -> Problem | None:
    for statement in report._anchors.get(fid, []):
        report.anchors_checked += 1
        if statement.fact_hash != digest:
            return Problem(fid, "anchor", f"fact #{fid} differs from what anchor {statement.kid} signed")
    return None


def _load_anchors(extra: Iterable[AnchorStatement], report: VerifyReport) -> Problem | None:
    statements = [statement_of(a) for a in Anchor.objects.all()] + list(extra)
    for statement in statements:
        if not anchor_signature_valid(statement):
            return Problem(statement.fact_id, "anchor", f"anchor by {statement.kid} has a bad signature")
        report._anchors.setdefault(statement.fact_id, []).append(statement)
    return None


def ledger_verify(
    *,
    anchors: Iterable[AnchorStatement] = (),
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Walk every fact in id order, recomputing each hash; stop at the first problem."""
    report = VerifyReport()
    head = ChainHead.objects.filter(pk=1).first()
    head_id = head.last_id if head is not None else None
    report.problem = _load_anchors(anchors, report)
    seqs: dict[str, int] = {}
    for row in _rows(head_id):
        if report.problem is not None:
            return report
        report.problem = _check_row(row, report, seqs) or _check_anchors_at(report, row[0], row[10])
        if report.problem is None:
            report.facts += 1
            report.last_id, report.last_hash = row[0], row[10]
            if progress is not None and report.facts % _CHUNK == 0:
                progress(_CHUNK)
    if progress is not None:
        progress(report.facts % _CHUNK)
    if report.problem is None:
        report.problem = _check_tail(report, head_id)
    return report


def _check_tail(report: VerifyReport, head_id: int | None) -> Problem | None:
    beyond = [fid for fid in report._anchors if fid > report.last_id]
    if beyond:
        return Problem(min(beyond), "missing", f"fact #{min(beyond)}, signed by an anchor, is gone")
    if head_id is None:
        return None
    if head_id > report.last_id:
        message = f"the chain ends at fact #{report.last_id} but its head says #{head_id}"
        return Problem(report.last_id + 1, "missing", message)
    with connection.cursor() as cursor:
        cursor.execute("SELECT MAX(id) FROM ledger_fact")
        (last,) = cursor.fetchone() or (None,)
    current = ChainHead.objects.filter(pk=1).values_list("last_id", flat=True).first()
    if last is not None and last > head_id and current == head_id:
        return Problem(head_id + 1, "inserted", f"fact #{head_id + 1} was written around the ledger service")
    return None
