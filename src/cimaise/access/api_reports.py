"""What supervisors read through the API: the day's fraud signals
(``GET /api/v1/access/fraud-signals?date=``) and the live monitor (``GET /api/v1/access/monitor``).
Both need the permission to view entries (gate supervisors)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from cimaise.access import fraud, monitor
from cimaise.access.roles import VIEW
from cimaise.core.access import own_institution, require_permission
from cimaise.core.auth import request_actor
from cimaise.core.models import Institution

router = Router(tags=["access (supervisors)"])


def _institution(request: HttpRequest) -> Institution:
    actor = request_actor(request)
    institution = own_institution(actor)
    require_permission(actor, VIEW)
    return institution


class DayQuery(Schema):
    date: dt.date | None = Field(None, description="the day, YYYY-MM-DD (Europe/Paris); today by default")


class EvidenceOut(Schema):
    entry: int | None = Field(description="the entry's id; null for a turnstile count")
    nonce: str
    at: dt.datetime
    entrance: str
    lane: str
    note: str


class SignalOut(Schema):
    kind: str = Field(description=", ".join(fraud.KINDS))
    severity: str = Field(description=", ".join(fraud.SEVERITIES))
    flagged: bool = Field(description="false for a line listed for completeness (a few overrides)")
    when: dt.datetime
    entrance: str
    lane: str
    operator: str
    code_id: str
    count: int
    summary: str
    evidence: list[EvidenceOut]


class SignalsOut(Schema):
    date: dt.date
    signals: list[SignalOut]


@router.get("/access/fraud-signals", response=SignalsOut, summary="The day's fraud signals, with evidence")
def fraud_signals(request: HttpRequest, query: Query[DayQuery]) -> dict[str, Any]:
    institution = _institution(request)
    day = query.date or fraud.today()
    signals = fraud.fraud_signals(institution=institution, day=day)
    return {"date": day, "signals": [s.as_dict() for s in signals]}


class QueueOut(Schema):
    load: float = Field(description="share of the lane's capacity used in the last 5 minutes")
    waiting: int = Field(description="people estimated to be waiting")
    wait_minutes: float
    saturated: bool = Field(description="the lane is at capacity: the queue may be longer")


class BucketOut(Schema):
    start: dt.datetime
    accepted: int
    rejected: int


class RecentOut(Schema):
    accepted: int
    rejected: int


class LaneOut(Schema):
    code: str
    kind: str
    direction: str
    people_in: int
    people_out: int
    last_5_minutes: RecentOut
    queue: QueueOut
    per_5_minutes: list[BucketOut]


class AgentOut(Schema):
    state: str = Field(description="online, offline, or none (no agent heard from)")
    last_seen_at: dt.datetime | None
    last_sync_at: dt.datetime | None
    last_upload_at: dt.datetime | None
    queued: int


class EntranceOut(Schema):
    code: str
    name: str
    agent: AgentOut
    people_in: int
    people_out: int
    waiting: int
    lanes: list[LaneOut]


class MonitorOut(Schema):
    at: dt.datetime
    window_start: dt.datetime
    bucket_minutes: int
    inside: int = Field(description="people in minus people out today (accepted, not cancelled)")
    people_in: int
    people_out: int
    entrances: list[EntranceOut]


@router.get(
    "/access/monitor", response=MonitorOut, summary="The entrances now: scans, inside, queues, agents"
)
def monitor_now(request: HttpRequest) -> dict[str, Any]:
    return monitor.monitor_read(institution=_institution(request)).as_dict()
