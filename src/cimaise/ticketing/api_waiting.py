"""Waiting-room routes: visitors join a room and poll their place (no account needed); ticketing
managers configure a room and read how long its queue is. See docs/waiting-room.md."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from cimaise.core.auth import request_actor
from cimaise.ticketing import waiting
from cimaise.ticketing.models import QueueEntry, WaitingRoom

router = Router(tags=["waiting room"])


class EntryOut(Schema):
    id: uuid.UUID = Field(description="keep it: the page polls GET …/entries/{id}")
    room: str
    opens_at: dt.datetime
    rank: int | None = Field(
        description="place in the queue; null before the opening for those who came early"
    )
    ahead: int | None = Field(description="people ahead of you still waiting")
    admitted: bool
    estimated_wait_seconds: int
    poll_after_seconds: int | None = Field(description="when to ask again; null once admitted")
    token: str | None = Field(description="the admission to send when holding places; null until admitted")
    token_expires_at: dt.datetime | None


def entry_out(room: WaitingRoom, entry: QueueEntry, status: waiting.Status) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "room": room.code,
        "opens_at": room.opens_at,
        "rank": status.rank,
        "ahead": status.ahead,
        "admitted": status.admitted,
        "estimated_wait_seconds": status.estimated_wait_seconds,
        "poll_after_seconds": status.poll_after_seconds,
        "token": status.token,
        "token_expires_at": status.token_expires_at,
    }


@router.post(
    "/waiting-rooms/{code}/entries",
    auth=None,
    response={201: EntryOut},
    summary="Join the waiting room (visitors; 409 room_inactive when it is closed)",
)
def entry_create(request: HttpRequest, code: str) -> Status[dict[str, Any]]:
    room = waiting.room_for_visitors(institution=waiting.visitor_institution(), code=code)
    entry = waiting.room_join(room=room)
    return Status(201, entry_out(room, entry, waiting.entry_status(entry=entry)))


@router.get(
    "/waiting-rooms/{code}/entries/{entry_id}",
    auth=None,
    response=EntryOut,
    summary="A visitor's place in the queue, polled; the admission token once admitted",
)
def entry_detail(request: HttpRequest, code: str, entry_id: uuid.UUID) -> dict[str, Any]:
    room = waiting.room_for_visitors(institution=waiting.visitor_institution(), code=code)
    entry = waiting.entry_get(room=room, entry_id=entry_id)
    return entry_out(room, entry, waiting.entry_status(entry=entry))


class RoomIn(Schema):
    active: bool
    opens_at: dt.datetime = Field(description="the announced opening: those who join before it are shuffled")
    rate_per_minute: int = Field(600, ge=1, description="admissions a minute")
    burst: int = Field(100, ge=1, description="most admitted at once (at least rate / 60)")
    session_minutes: int = Field(20, ge=1, description="how long an admission lasts")


class RoomOut(Schema):
    code: str
    active: bool
    opens_at: dt.datetime
    rate_per_minute: int
    burst: int
    session_minutes: int
    arrivals: int = Field(description="visitors who joined")
    admitted: int = Field(description="visitors admitted so far (by rank)")
    waiting: int = Field(description="visitors not admitted yet")


def room_out(room: WaitingRoom) -> dict[str, Any]:
    return {
        "code": room.code,
        "active": room.active,
        "opens_at": room.opens_at,
        "rate_per_minute": room.rate_per_minute,
        "burst": room.burst,
        "session_minutes": room.session_minutes,
        "arrivals": room.arrivals,
        "admitted": room.admitted,
        "waiting": room.arrivals - room.admitted,
    }


@router.put(
    "/waiting-rooms/{code}",
    response={200: RoomOut, 201: RoomOut},
    summary="Create or change a waiting room (ticketing managers)",
)
def room_put(request: HttpRequest, code: str, payload: RoomIn) -> Status[dict[str, Any]]:
    actor = request_actor(request)
    existed = WaitingRoom.objects.filter(institution=actor.institution, code=code).exists()
    room = waiting.room_configure(actor=actor, code=code, **payload.dict())
    return Status(200 if existed else 201, room_out(room))


@router.get(
    "/waiting-rooms/{code}", response=RoomOut, summary="A waiting room and its queue (ticketing managers)"
)
def room_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    return room_out(waiting.access_waiting_room(request_actor(request), code))
