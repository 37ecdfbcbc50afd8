"""Gate access API (DESIGN §5): scans at the lanes (``POST /api/v1/access/scans``), overrides,
turnstile feedback, and what entrance agents sync (the feed and the upload). A refused code is an
answer (HTTP 200, ``result: rejected``), not an error; a bad entrance, lane or field is a 4xx."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema

from cimaise.access.services import ScanResult, entry_not_passed, entry_override, scan_validate
from cimaise.access.sync import OfflineEntry, entrance_feed, entries_upload
from cimaise.access.turnstile import PassageReport, passages_report
from cimaise.core.auth import request_actor

router = Router(tags=["access"])


class ScanIn(Schema):
    code: str = Field(description="the scanned text, as read; anything unreadable is refused as forged")
    entrance: str = Field(min_length=1, max_length=32, description="the entrance's code")
    lane: str = Field(min_length=1, max_length=32, description="the lane's code at that entrance")
    direction: Literal["in", "out"]
    nonce: str = Field(
        min_length=1, max_length=64, description="made by the device; a resend gets the first answer"
    )
    scanned_at: dt.datetime = Field(description="the device's clock, with its offset")


class TicketOut(Schema):
    code_id: str
    order: str
    product: str
    tariff: str
    slot_start: dt.datetime
    proof_required: bool
    party_size: int


class ScanOut(Schema):
    result: Literal["accepted", "rejected"]
    reason: str = Field(description="ok, reentry, exit, or why the code is refused")
    text: str = Field(description="a short text for the agent, in the request's language")
    entry: int
    replayed: bool = Field(description="true when this nonce was answered before")
    people: int = Field(description="how many people the entry admits (a group code: its party)")
    ticket: TicketOut | None


@router.post("/access/scans", response=ScanOut, summary="Validate a code scanned at a lane")
def scans(request: HttpRequest, payload: ScanIn) -> dict[str, Any]:
    actor = request_actor(request)
    answer = scan_validate(
        actor=actor,
        code=payload.code,
        entrance=payload.entrance,
        lane=payload.lane,
        direction=payload.direction,
        nonce=payload.nonce,
        scanned_at=payload.scanned_at,
    )
    return _scan_out(answer)


def _scan_out(answer: ScanResult) -> dict[str, Any]:
    return {
        "result": answer.result,
        "reason": answer.reason,
        "text": answer.text,
        "entry": answer.entry_id,
        "replayed": answer.replayed,
        "people": answer.people,
        "ticket": answer.ticket,
    }


# --- overrides and turnstile feedback ----------------------------------------------------------


class OverrideIn(Schema):
    entrance: str = Field(min_length=1, max_length=32)
    lane: str = Field(min_length=1, max_length=32)
    reason: str = Field(max_length=500, description="why the visitor is let through (3 characters at least)")
    people: int = Field(default=1, description="how many people go through (1 to 255)")
    code: str = Field(default="", description="the code shown, if it reads: it then counts as used")
    nonce: str = Field(min_length=1, max_length=64)
    scanned_at: dt.datetime


@router.post("/access/overrides", response=ScanOut, summary="Let a visitor through with a reason")
def overrides(request: HttpRequest, payload: OverrideIn) -> dict[str, Any]:
    answer = entry_override(
        actor=request_actor(request),
        entrance=payload.entrance,
        lane=payload.lane,
        reason=payload.reason,
        people=payload.people,
        code=payload.code,
        nonce=payload.nonce,
        scanned_at=payload.scanned_at,
    )
    return _scan_out(answer)


class NotPassedIn(Schema):
    entrance: str = Field(min_length=1, max_length=32)
    lane: str = Field(min_length=1, max_length=32)
    nonce: str = Field(min_length=1, max_length=64, description="the nonce of the accepted scan")


class NotPassedOut(Schema):
    entry: int
    nonce: str
    cancelled_at: dt.datetime
    replayed: bool


@router.post(
    "/access/not-passed", response=NotPassedOut, summary="A turnstile reports that a visitor did not pass"
)
def not_passed(request: HttpRequest, payload: NotPassedIn) -> dict[str, Any]:
    done = entry_not_passed(
        actor=request_actor(request), entrance=payload.entrance, lane=payload.lane, nonce=payload.nonce
    )
    return {
        "entry": done.entry_id,
        "nonce": done.nonce,
        "cancelled_at": done.cancelled_at,
        "replayed": done.replayed,
    }


class PassagesIn(Schema):
    entrance: str = Field(min_length=1, max_length=32)
    lane: str = Field(min_length=1, max_length=32)
    direction: Literal["in", "out"]
    count: int
    period_start: dt.datetime
    period_end: dt.datetime
    nonce: str = Field(min_length=1, max_length=64)
    operator: str = Field(default="", max_length=200, description="the agent on duty at the lane")


class PassagesOut(Schema):
    id: int
    count: int
    replayed: bool


@router.post("/access/passages", response=PassagesOut, summary="A turnstile's count of passages")
def passages(request: HttpRequest, payload: PassagesIn) -> dict[str, Any]:
    report = PassageReport(**payload.dict())
    passage, replayed = passages_report(actor=request_actor(request), report=report)
    return {"id": passage.pk, "count": passage.count, "replayed": replayed}


# --- entrance agents ---------------------------------------------------------------------------


class KeyOut(Schema):
    kid: str
    public_key: str = Field(description="raw Ed25519 public key, base64url")


class FeedEntryOut(Schema):
    nonce: str
    code_id: str
    entrance: int
    direction: str
    at: dt.datetime
    people: int
    cancelled: bool


class EntranceOut(Schema):
    id: int
    code: str
    name: str


class FeedOut(Schema):
    entrance: EntranceOut
    server_time: dt.datetime
    keys: list[KeyOut]
    rules: list[dict[str, Any]]
    lanes: list[dict[str, str]] = Field(description="the entrance's active lanes: code, kind, direction")
    revocations: list[str] = Field(description="code ids revoked since the cursor")
    entries: list[FeedEntryOut] = Field(description="the day's accepted entries since the cursor")
    cancellations: list[str] = Field(description="nonces of entries cancelled since the cursor")
    cursor: str = Field(description="pass it as since= next time")
    more: bool = Field(description="true: ask again at once with the new cursor")


@router.get(
    "/access/entrances/{code}/feed", response=FeedOut, summary="What an entrance agent syncs (incremental)"
)
def feed(request: HttpRequest, code: str, since: str = "", queued: int = 0) -> dict[str, Any]:
    page = entrance_feed(actor=request_actor(request), entrance=code, since=since, queued=queued)
    return {
        "entrance": {"id": page.entrance.pk, "code": page.entrance.code, "name": page.entrance.name},
        "server_time": page.server_time,
        "keys": page.keys,
        "rules": page.rules,
        "lanes": page.lanes,
        "revocations": page.revocations,
        "entries": page.entries,
        "cancellations": page.cancellations,
        "cursor": str(page.cursor),
        "more": page.more,
    }


class OfflineEntryIn(Schema):
    nonce: str = Field(min_length=1, max_length=64)
    code: str = Field(description="the code as read")
    lane: str = Field(min_length=1, max_length=32)
    direction: Literal["in", "out"]
    scanned_at: dt.datetime = Field(description="the device's clock")
    decided_at: dt.datetime = Field(description="the agent's clock, corrected by its last known offset")
    reason: str = Field(description="what the agent decided")


class UploadIn(Schema):
    entries: list[OfflineEntryIn]
    queued: int = Field(default=0, description="entries still waiting on the agent after this batch")


class UploadedOut(Schema):
    nonce: str
    entry: int
    replayed: bool
    reason: str
    central_reason: str = Field(description="what the central service would have answered, if different")
    conflict: bool


class UploadOut(Schema):
    results: list[UploadedOut]


@router.post(
    "/access/entrances/{code}/entries",
    response=UploadOut,
    summary="An entrance agent uploads the entries it decided offline (idempotent by nonce)",
)
def upload(request: HttpRequest, code: str, payload: UploadIn) -> dict[str, Any]:
    items = [OfflineEntry(**item.dict()) for item in payload.entries]
    done = entries_upload(actor=request_actor(request), entrance=code, entries=items, queued=payload.queued)
    return {
        "results": [
            {
                "nonce": u.nonce,
                "entry": u.entry_id,
                "replayed": u.replayed,
                "reason": u.reason,
                "central_reason": u.central_reason,
                "conflict": u.conflict,
            }
            for u in done
        ]
    }
