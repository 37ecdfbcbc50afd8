"""What turnstiles count (issue 7, item 4): a lane reports how many people went through it in one
direction during a period. Set against the accepted entries of the lane, a surplus of passages
is tailgating or a group waved through (``fraud.passages_without_scans``). A "not passed" report
for one scan is ``services.entry_not_passed``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from cimaise.access.facts import PASSAGES_COUNTED, draft
from cimaise.access.models import Entry, Passage
from cimaise.access.roles import SCAN
from cimaise.access.services import lane_for
from cimaise.core.access import require_permission
from cimaise.core.actors import Actor
from cimaise.core.errors import InvalidInput
from cimaise.ledger.services import facts_append

MAX_PERIOD = dt.timedelta(hours=1)
MAX_COUNT = 10_000
CLOCK_SKEW_MAX = dt.timedelta(hours=12)


@dataclass(frozen=True)
class PassageReport:
    entrance: str
    lane: str
    direction: str
    count: int
    period_start: dt.datetime
    period_end: dt.datetime
    nonce: str
    operator: str = ""


def passages_report(
    *, actor: Actor, report: PassageReport, now: dt.datetime | None = None
) -> tuple[Passage, bool]:
    """Record a turnstile's count; a resent ``nonce`` returns the first record (``True`` when it
    was recorded before). Bad fields are named; nothing is written for them."""
    require_permission(actor, SCAN)
    _entrance, lane = lane_for(actor=actor, entrance=report.entrance, lane=report.lane)
    now = now or timezone.now()
    _check(report, now)
    earlier = Passage.objects.filter(lane=lane, nonce=report.nonce).first()
    if earlier is not None:
        return earlier, True
    try:
        with transaction.atomic(durable=True):
            passage = Passage.objects.create(
                lane=lane,
                direction=report.direction,
                count=report.count,
                period_start=report.period_start,
                period_end=report.period_end,
                operator=(report.operator or actor.label)[:200],
                nonce=report.nonce,
                reported_at=now,
            )
            body = {
                "passage": passage.pk,
                "lane": lane.code,
                "direction": report.direction,
                "count": report.count,
                "period_start": report.period_start.isoformat(),
                "period_end": report.period_end.isoformat(),
                "operator": passage.operator,
                "nonce": report.nonce,
            }
            facts_append([draft(lane.entrance, PASSAGES_COUNTED.name, body, actor.label, now)], now=now)
    except IntegrityError:
        earlier = Passage.objects.filter(lane=lane, nonce=report.nonce).first()
        if earlier is None:
            raise
        return earlier, True
    return passage, False


def _check(report: PassageReport, now: dt.datetime) -> None:
    if report.direction not in Entry.Direction.values:
        raise InvalidInput("direction: in or out", field="direction")
    if not 0 <= report.count <= MAX_COUNT:
        raise InvalidInput(f"count: 0 to {MAX_COUNT}", field="count")
    if not 0 < len(report.nonce) <= 64:
        raise InvalidInput("nonce: 1 to 64 characters", field="nonce")
    for name in ("period_start", "period_end"):
        if timezone.is_naive(getattr(report, name)):
            raise InvalidInput(f"{name}: a time with its offset", field=name)
    if not report.period_start < report.period_end <= report.period_start + MAX_PERIOD:
        raise InvalidInput("period_end: after period_start, at most an hour later", field="period_end")
    if report.period_end - now > CLOCK_SKEW_MAX:
        raise InvalidInput("period_end: in the future", field="period_end")
