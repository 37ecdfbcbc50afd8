"""Scans at the lanes (DESIGN §5): ``POST /api/v1/access/scans``. A refused code is an answer
(HTTP 200, ``result: rejected``), not an error; a bad entrance, lane or field is a 4xx."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema

from cimaise.access.services import scan_validate
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


class ScanOut(Schema):
    result: Literal["accepted", "rejected"]
    reason: str = Field(description="ok, reentry, exit, or why the code is refused")
    text: str = Field(description="a short text for the agent, in the request's language")
    entry: int
    replayed: bool = Field(description="true when this nonce was answered before")
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
    return {
        "result": answer.result,
        "reason": answer.reason,
        "text": answer.text,
        "entry": answer.entry_id,
        "replayed": answer.replayed,
        "ticket": answer.ticket,
    }
