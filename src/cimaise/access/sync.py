"""What entrance agents sync with the central service (DESIGN §3, §5).

**The feed** (``GET /api/v1/access/entrances/{code}/feed?since=``) gives an agent everything it
needs to decide offline as the central service would: the institution's tickets public keys
(retired ones too), the entrance's rules and active lanes, the revocations, the day's accepted entries of the
institution (every entrance, so that a code already used elsewhere is known), and the
cancellations ("not passed"). ``since`` is the cursor the previous page answered:
``<revocation id>.<entry id>.<cancellation id>``; the three tables are inserted under the ledger
lock, so their ids follow commit order and a cursor never skips a row that commits late. A feed
call is also the agent's heartbeat (``AgentContact``).

**The upload** (``POST /api/v1/access/entrances/{code}/entries``) takes the entries an agent
decided while the central service was out of reach. Each is idempotent by its nonce. What the
agent decided is what happened at the gate, so it is recorded as decided (``source=offline``);
the central service decides the same scan again at the agent's time, with everything it knows,
and records its own answer next to it when it differs (``central_reason``): an agent that let in
a code another entrance had let in during the same outage shows up as ``already_used`` there, a
fraud signal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from cimaise.access import decide as d
from cimaise.access.models import AgentContact, Entrance, Entry, EntryCancellation, Lane
from cimaise.access.roles import SCAN
from cimaise.access.services import (
    Decision,
    Record,
    Scan,
    central_decide,
    entrance_for,
    entry_record,
    existing_entry,
    rules_of,
)
from cimaise.core.access import require_permission
from cimaise.core.actors import Actor
from cimaise.core.errors import InvalidInput
from cimaise.ticketing.models import Revocation
from cimaise.ticketing.tickets import ticket_keys

PAGE = 5000
UPLOAD_MAX = 1000
CLOCK_SKEW_MAX = dt.timedelta(hours=12)  # an agent's clock further off than this is refused


# --- the feed ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    revocation: int = 0
    entry: int = 0
    cancellation: int = 0

    def __str__(self) -> str:
        return f"{self.revocation}.{self.entry}.{self.cancellation}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor:
        if not text:
            return cls()
        parts = text.split(".")
        if len(parts) != 3 or not all(p.isdigit() and len(p) <= 18 for p in parts):
            raise InvalidInput("since: the cursor a previous feed answered (n.n.n)", field="since")
        return cls(*(int(p) for p in parts))


@dataclass(frozen=True)
class Feed:
    entrance: Entrance
    server_time: dt.datetime
    keys: list[dict[str, str]]
    rules: list[dict[str, Any]]
    lanes: list[dict[str, str]]
    revocations: list[str]
    entries: list[dict[str, Any]]
    cancellations: list[str]
    cursor: Cursor
    more: bool


def entrance_feed(
    *, actor: Actor, entrance: str, since: str | None, queued: int = 0, now: dt.datetime | None = None
) -> Feed:
    """The page of the feed after ``since`` (see the module docstring); records the contact."""
    require_permission(actor, SCAN)
    found = entrance_for(actor=actor, entrance=entrance)
    cursor = Cursor.parse(since)
    now = now or timezone.now()
    revocations = list(
        Revocation.objects.filter(institution_id=found.institution_id, pk__gt=cursor.revocation)
        .order_by("id")
        .values_list("id", "code_id")[:PAGE]
    )
    start, _end = d.day_bounds(now)
    entries = list(
        Entry.objects.filter(
            institution_id=found.institution_id,
            pk__gt=cursor.entry,
            result=Entry.Result.ACCEPTED,
            recorded_at__gte=start,
        )
        .exclude(code_id="")
        .order_by("id")
        .values(
            "id", "nonce", "code_id", "entrance_id", "direction", "recorded_at", "people", "cancelled_at"
        )[:PAGE]
    )
    cancellations = list(
        EntryCancellation.objects.filter(institution_id=found.institution_id, pk__gt=cursor.cancellation)
        .order_by("id")
        .values_list("id", "entry__nonce")[:PAGE]
    )
    _contact(found, actor, now, queued, synced=True)
    return Feed(
        entrance=found,
        server_time=now,
        keys=_keys(found),
        rules=[{"product": product, **rule.as_dict()} for product, rule in rules_of(found).items()],
        lanes=[
            {"code": lane.code, "kind": lane.kind, "direction": lane.direction}
            for lane in Lane.objects.filter(entrance=found, active=True)
        ],
        revocations=[code_id for _id, code_id in revocations],
        entries=[_feed_entry(row) for row in entries],
        cancellations=[nonce for _id, nonce in cancellations],
        cursor=Cursor(
            revocations[-1][0] if revocations else cursor.revocation,
            entries[-1]["id"] if entries else cursor.entry,
            cancellations[-1][0] if cancellations else cursor.cancellation,
        ),
        more=PAGE in (len(revocations), len(entries), len(cancellations)),
    )


def _keys(entrance: Entrance) -> list[dict[str, str]]:
    return [
        {"kid": key.kid, "public_key": key.public_key}
        for key in ticket_keys(institution=entrance.institution)
    ]


def _feed_entry(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "nonce": row["nonce"],
        "code_id": row["code_id"],
        "entrance": row["entrance_id"],
        "direction": row["direction"],
        "at": row["recorded_at"],
        "people": row["people"],
        "cancelled": row["cancelled_at"] is not None,
    }


def _contact(entrance: Entrance, actor: Actor, now: dt.datetime, queued: int, *, synced: bool) -> None:
    fields: dict[str, Any] = {"last_seen_at": now, "queued": max(0, queued), "operator": actor.label}
    fields["last_sync_at" if synced else "last_upload_at"] = now
    AgentContact.objects.update_or_create(entrance=entrance, defaults=fields)


# --- the upload --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfflineEntry:
    """One decision an agent made alone: the scan, the agent's reason, and its corrected clock."""

    nonce: str
    code: str
    lane: str
    direction: str
    scanned_at: dt.datetime
    decided_at: dt.datetime
    reason: str


@dataclass(frozen=True)
class Uploaded:
    nonce: str
    entry_id: int
    replayed: bool
    reason: str
    central_reason: str

    @property
    def conflict(self) -> bool:
        return bool(self.central_reason) and self.central_reason != self.reason


def entries_upload(
    *,
    actor: Actor,
    entrance: str,
    entries: Sequence[OfflineEntry],
    queued: int = 0,
    now: dt.datetime | None = None,
) -> list[Uploaded]:
    """Record the entries an agent decided offline (see the module docstring). The batch is
    checked whole first: a bad field refuses it, naming ``entries[i].field``, with nothing
    written. Each entry then commits on its own, idempotent by nonce."""
    require_permission(actor, SCAN)
    found = entrance_for(actor=actor, entrance=entrance)
    now = now or timezone.now()
    if len(entries) > UPLOAD_MAX:
        raise InvalidInput(f"entries: at most {UPLOAD_MAX} per upload", field="entries")
    lanes = {lane.code: lane for lane in Lane.objects.filter(entrance=found)}
    for index, item in enumerate(entries):
        _check_offline(index, item, lanes, now)
    results = [_upload_one(actor, found, lanes[item.lane], item, now) for item in entries]
    with transaction.atomic():
        _contact(found, actor, now, queued, synced=False)
    return results


def _check_offline(index: int, item: OfflineEntry, lanes: dict[str, Lane], now: dt.datetime) -> None:
    where = f"entries[{index}]"
    if item.lane not in lanes:
        raise InvalidInput(f"{where}.lane: no lane {item.lane!r} at this entrance", field=f"{where}.lane")
    if item.direction not in Entry.Direction.values:
        raise InvalidInput(f"{where}.direction: in or out", field=f"{where}.direction")
    if not 0 < len(item.nonce) <= 64:
        raise InvalidInput(f"{where}.nonce: 1 to 64 characters", field=f"{where}.nonce")
    if item.reason not in d.REASONS or item.reason == d.OVERRIDE:
        raise InvalidInput(f"{where}.reason: one of the scan reasons", field=f"{where}.reason")
    for name in ("scanned_at", "decided_at"):
        value: dt.datetime = getattr(item, name)
        if timezone.is_naive(value):
            raise InvalidInput(f"{where}.{name}: a time with its offset", field=f"{where}.{name}")
        if value - now > CLOCK_SKEW_MAX:
            raise InvalidInput(f"{where}.{name}: in the future", field=f"{where}.{name}")


def _upload_one(
    actor: Actor, entrance: Entrance, lane: Lane, item: OfflineEntry, now: dt.datetime
) -> Uploaded:
    existing = existing_entry(entrance.institution_id, item.nonce)
    if existing is None:
        try:
            return _record_offline(actor, entrance, lane, item, now)
        except IntegrityError:
            existing = existing_entry(entrance.institution_id, item.nonce)
            if existing is None:
                raise
    return Uploaded(item.nonce, existing.pk, True, existing.reason, existing.central_reason)


@transaction.atomic(durable=True)
def _record_offline(
    actor: Actor, entrance: Entrance, lane: Lane, item: OfflineEntry, now: dt.datetime
) -> Uploaded:
    central = central_decide(entrance=entrance, code=item.code, direction=item.direction, now=item.decided_at)
    decision = Decision(item.reason, central.payload, central.ticket)  # central.payload: None if forged
    differs = central.reason if central.reason != item.reason else ""
    scan = Scan(code=item.code, direction=item.direction, nonce=item.nonce, scanned_at=item.scanned_at)
    record = Record(
        entrance,
        lane,
        scan,
        decision,
        actor.label,
        recorded_at=item.decided_at,
        source=Entry.Source.OFFLINE,
        central_reason=differs,
        uploaded_at=now,
    )
    entry = entry_record(record)
    return Uploaded(item.nonce, entry.pk, False, entry.reason, differs)
