"""The live monitor of an institution's entrances (issue 7 item 6): reads only.

Per entrance and lane: the scans of the last two hours in 5-minute buckets (accepted and
refused), the people who went in and out today, a queue estimate; per entrance, its agent's
state (online when it was heard from in the last :data:`ONLINE_WITHIN`), last sync and the
entries it still holds; for the institution, the inside count: people of accepted "in" entries
minus people of accepted "out" entries today (cancelled entries excluded). Exits are counted
only where visitors scan out, so the count is an upper bound.

The queue estimate reads the last 5 minutes of a lane as a single-server queue (M/M/1):

- load ρ = (accepted + :data:`REJECTION_COST` × refused) / (5 × capacity), where capacity is
  :data:`LANE_CAPACITY_PER_MINUTE` for the lane's kind (a turnstile takes about 25 people a
  minute, a handheld about 12); a refusal costs about three acceptances of the lane's time (the
  visitor is told why, an agent may be called, an override may follow);
- people waiting Lq = ρ² / (1 − ρ), with ρ capped at :data:`LOAD_CAP` (Lq is then at most 18:
  the lane is ``saturated`` and the real queue may be longer, since the scans seen are what the
  lane could serve, not how many came);
- wait ≈ Lq / capacity minutes.

It is a rough indication, not a measurement: a lane at 50 % load shows 0 or 1 person waiting,
one at 80 % about 3, a saturated one 18 or more.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Sum
from django.db.models.functions import TruncMinute
from django.utils import timezone

from cimaise.access import decide as d
from cimaise.access.models import AgentContact, Entry, Lane
from cimaise.core.models import Institution

WINDOW = dt.timedelta(hours=2)
BUCKET = dt.timedelta(minutes=5)
RECENT = dt.timedelta(minutes=5)  # what the queue estimate reads
ONLINE_WITHIN = dt.timedelta(seconds=60)
LANE_CAPACITY_PER_MINUTE: dict[str, int] = {Lane.Kind.TURNSTILE.value: 25, Lane.Kind.HANDHELD.value: 12}
REJECTION_COST = 3
LOAD_CAP = 0.95

ONLINE, OFFLINE, NO_AGENT = "online", "offline", "none"


@dataclass(frozen=True)
class Bucket:
    """Scans answered at a lane in 5 minutes from ``start``."""

    start: dt.datetime
    accepted: int = 0
    rejected: int = 0

    @property
    def total(self) -> int:
        return self.accepted + self.rejected


@dataclass(frozen=True)
class Queue:
    """The queue estimate of a lane (see the module docstring)."""

    load: float
    waiting: int
    wait_minutes: float
    saturated: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "load": self.load,
            "waiting": self.waiting,
            "wait_minutes": self.wait_minutes,
            "saturated": self.saturated,
        }


def queue_estimate(*, accepted: int, rejected: int, capacity_per_minute: int, minutes: float = 5) -> Queue:
    """ρ = (accepted + 3 × refused) / (minutes × capacity); Lq = ρ²/(1−ρ), ρ capped at 0.95."""
    load = (accepted + REJECTION_COST * rejected) / (minutes * capacity_per_minute)
    rho = min(load, LOAD_CAP)
    waiting = rho * rho / (1 - rho)
    return Queue(
        load=round(load, 2),
        waiting=math.floor(waiting + 0.5),
        wait_minutes=round(waiting / capacity_per_minute, 1),
        saturated=load >= LOAD_CAP,
    )


@dataclass
class LaneState:
    lane: Lane
    buckets: list[Bucket]
    queue: Queue
    people_in: int = 0
    people_out: int = 0
    recent_accepted: int = 0
    recent_rejected: int = 0

    @property
    def code(self) -> str:
        return self.lane.code

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.lane.code,
            "kind": self.lane.kind,
            "direction": self.lane.direction,
            "people_in": self.people_in,
            "people_out": self.people_out,
            "last_5_minutes": {"accepted": self.recent_accepted, "rejected": self.recent_rejected},
            "queue": self.queue.as_dict(),
            "per_5_minutes": [
                {"start": b.start.isoformat(), "accepted": b.accepted, "rejected": b.rejected}
                for b in self.buckets
            ],
        }


@dataclass(frozen=True)
class AgentState:
    """An entrance agent as the central service last heard from it."""

    state: str  # online, offline, or none (never heard from)
    last_seen_at: dt.datetime | None = None
    last_sync_at: dt.datetime | None = None
    last_upload_at: dt.datetime | None = None
    queued: int = 0

    def as_dict(self) -> dict[str, Any]:
        def iso(value: dt.datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "state": self.state,
            "last_seen_at": iso(self.last_seen_at),
            "last_sync_at": iso(self.last_sync_at),
            "last_upload_at": iso(self.last_upload_at),
            "queued": self.queued,
        }


@dataclass
class EntranceState:
    code: str
    name: str
    agent: AgentState
    lanes: list[LaneState] = field(default_factory=list)

    @property
    def people_in(self) -> int:
        return sum(lane.people_in for lane in self.lanes)

    @property
    def people_out(self) -> int:
        return sum(lane.people_out for lane in self.lanes)

    @property
    def waiting(self) -> int:
        return sum(lane.queue.waiting for lane in self.lanes)

    @property
    def saturated(self) -> bool:
        return any(lane.queue.saturated for lane in self.lanes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "agent": self.agent.as_dict(),
            "people_in": self.people_in,
            "people_out": self.people_out,
            "waiting": self.waiting,
            "lanes": [lane.as_dict() for lane in self.lanes],
        }


@dataclass
class Monitor:
    at: dt.datetime
    window_start: dt.datetime
    entrances: list[EntranceState]

    @property
    def people_in(self) -> int:
        return sum(e.people_in for e in self.entrances)

    @property
    def people_out(self) -> int:
        return sum(e.people_out for e in self.entrances)

    @property
    def inside(self) -> int:
        return max(self.people_in - self.people_out, 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "window_start": self.window_start.isoformat(),
            "bucket_minutes": int(BUCKET.total_seconds() // 60),
            "inside": self.inside,
            "people_in": self.people_in,
            "people_out": self.people_out,
            "entrances": [e.as_dict() for e in self.entrances],
        }


# --- reads ---------------------------------------------------------------------------------------


def window_for(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The two hours shown, ending at the end of ``now``'s 5-minute bucket."""
    step = int(BUCKET.total_seconds())
    end = dt.datetime.fromtimestamp(math.ceil(now.timestamp() / step) * step, tz=dt.UTC)
    if end == now.astimezone(dt.UTC):
        end += BUCKET  # ``now`` opens a bucket: show it
    return end - WINDOW, end


def _per_minute(institution: Institution, start: dt.datetime, end: dt.datetime) -> list[Mapping[str, Any]]:
    return list(
        Entry.objects.filter(institution=institution, recorded_at__gte=start, recorded_at__lt=end)
        .annotate(minute=TruncMinute("recorded_at"))
        .values("lane_id", "minute", "result")
        .annotate(n=Count("id"))
    )


def _buckets(rows: list[Mapping[str, Any]], start: dt.datetime) -> dict[int, list[Bucket]]:
    """Per lane, the 5-minute buckets from ``start`` (the database counted per minute)."""
    size = int(WINDOW / BUCKET)
    counts: dict[int, list[list[int]]] = defaultdict(lambda: [[0, 0] for _ in range(size)])
    for row in rows:
        index = int((row["minute"] - start) / BUCKET)
        if 0 <= index < size:
            counts[row["lane_id"]][index][row["result"] != Entry.Result.ACCEPTED] += row["n"]
    return {
        lane: [Bucket(start + i * BUCKET, a, r) for i, (a, r) in enumerate(values)]
        for lane, values in counts.items()
    }


def _recent(institution: Institution, now: dt.datetime) -> dict[int, dict[str, int]]:
    rows = (
        Entry.objects.filter(institution=institution, recorded_at__gt=now - RECENT, recorded_at__lte=now)
        .values("lane_id", "result")
        .annotate(n=Count("id"))
    )
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for row in rows:
        found[row["lane_id"]][row["result"]] = row["n"]
    return found


def _people_today(institution: Institution, now: dt.datetime) -> dict[tuple[int, str], int]:
    start, end = d.day_bounds(now)
    rows = (
        Entry.objects.filter(
            institution=institution,
            result=Entry.Result.ACCEPTED,
            cancelled_at__isnull=True,
            recorded_at__gte=start,
            recorded_at__lt=end,
        )
        .values("lane_id", "direction")
        .annotate(people=Sum("people"))
    )
    return {(row["lane_id"], row["direction"]): row["people"] or 0 for row in rows}


def agent_state(contact: AgentContact | None, now: dt.datetime) -> AgentState:
    """Online when heard from within :data:`ONLINE_WITHIN` of ``now``."""
    if contact is None:
        return AgentState(NO_AGENT)
    online = now - contact.last_seen_at <= ONLINE_WITHIN
    return AgentState(
        ONLINE if online else OFFLINE,
        contact.last_seen_at,
        contact.last_sync_at,
        contact.last_upload_at,
        contact.queued,
    )


def _lane_state(
    lane: Lane,
    buckets: list[Bucket],
    recent: dict[str, int],
    people: dict[tuple[int, str], int],
) -> LaneState:
    accepted = recent.get(Entry.Result.ACCEPTED, 0)
    rejected = recent.get(Entry.Result.REJECTED, 0)
    capacity = LANE_CAPACITY_PER_MINUTE.get(lane.kind, LANE_CAPACITY_PER_MINUTE[Lane.Kind.TURNSTILE.value])
    return LaneState(
        lane=lane,
        buckets=buckets,
        queue=queue_estimate(accepted=accepted, rejected=rejected, capacity_per_minute=capacity),
        people_in=people.get((lane.pk, Entry.Direction.IN), 0),
        people_out=people.get((lane.pk, Entry.Direction.OUT), 0),
        recent_accepted=accepted,
        recent_rejected=rejected,
    )


def monitor_read(*, institution: Institution, now: dt.datetime | None = None) -> Monitor:
    """Every active entrance and lane of the institution, as the monitor shows them."""
    now = now or timezone.now()
    start, end = window_for(now)
    buckets = _buckets(_per_minute(institution, start, end), start)
    empty = [Bucket(start + i * BUCKET) for i in range(int(WINDOW / BUCKET))]
    recent, people = _recent(institution, now), _people_today(institution, now)
    contacts = {c.entrance_id: c for c in AgentContact.objects.filter(entrance__institution=institution)}
    lanes = Lane.objects.filter(entrance__institution=institution, entrance__active=True, active=True)
    entrances: dict[int, EntranceState] = {}
    for lane in lanes.select_related("entrance").order_by("entrance__code", "code"):
        entrance = lane.entrance
        if entrance.pk not in entrances:
            agent = agent_state(contacts.get(entrance.pk), now)
            entrances[entrance.pk] = EntranceState(entrance.code, entrance.name, agent)
        state = _lane_state(lane, buckets.get(lane.pk, empty), recent.get(lane.pk, {}), people)
        entrances[entrance.pk].lanes.append(state)
    return Monitor(at=now, window_start=start, entrances=list(entrances.values()))
