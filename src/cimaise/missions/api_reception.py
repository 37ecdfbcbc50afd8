"""API routes of reception at a site (expected visitors, badges, the access register) and of
the calendar token, under /api/v1/missions/ (added to the missions router)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Router, Schema, Status

from cimaise.core.auth import request_actor
from cimaise.missions import calendar, reception
from cimaise.missions.models import AccessRecord, BadgeIssue

router = Router(tags=["missions"])


# --- reception -----------------------------------------------------------------------------------


class VisitorOut(Schema):
    name: str
    source: str
    reference: str
    arrives: dt.datetime
    leaves: dt.datetime | None
    host: str
    zones: list[str]
    lunch: bool


class ExpectedOut(Schema):
    site: str
    date: dt.date
    staff: int
    visitors: list[VisitorOut]
    people: int
    lunches: int
    capacity: int | None
    over_capacity: bool


@router.get("/missions/reception/{site}/expected", response=ExpectedOut, summary="Who is expected on a day")
def expected(request: HttpRequest, site: str, date: dt.date) -> dict[str, Any]:
    day = reception.expected_day(site=reception.access_reception_site(request_actor(request), site), day=date)
    return {
        "site": day.site.code,
        "date": day.day,
        "staff": day.staff,
        "people": day.people,
        "lunches": day.lunches,
        "capacity": day.site.capacity,
        "over_capacity": day.over_capacity,
        "visitors": [{**v.__dict__, "zones": list(v.zones)} for v in day.visitors],
    }


class BadgeIssueIn(Schema):
    badge: str = Field(min_length=1, max_length=32)
    holder: str = Field(min_length=1, max_length=150)
    order: str = Field(default="", max_length=32)


class BadgeIssueOut(Schema):
    id: int
    badge: str
    holder: str
    order: str | None
    zones: list[str]
    issued_at: dt.datetime
    returned_at: dt.datetime | None
    slip: str


def issue_out(i: BadgeIssue) -> dict[str, Any]:
    return {
        "id": i.pk,
        "badge": i.badge.number,
        "holder": i.holder.user.get_username(),
        "order": i.order.code if i.order else None,
        "zones": i.zones,
        "issued_at": i.issued_at,
        "returned_at": i.returned_at,
        "slip": reverse("missions:badge-slip", args=[i.pk]),
    }


@router.post("/missions/reception/{site}/badges", response={201: BadgeIssueOut}, summary="Issue a badge")
def badge_issue(request: HttpRequest, site: str, payload: BadgeIssueIn) -> Status[dict[str, Any]]:
    return Status(
        201, issue_out(reception.badge_issue(actor=request_actor(request), site=site, **payload.dict()))
    )


@router.post("/missions/reception/{site}/badges/{badge}/return", response=BadgeIssueOut, summary="Badge back")
def badge_return(request: HttpRequest, site: str, badge: str) -> dict[str, Any]:
    return issue_out(reception.badge_return(actor=request_actor(request), site=site, badge=badge))


class RecordIn(Schema):
    person: str = Field(min_length=1, max_length=150)
    direction: Literal["in", "out"]
    at: dt.datetime | None = None
    note: str = Field(default="", max_length=200)


class RecordOut(Schema):
    id: int
    person: str
    direction: str
    at: dt.datetime
    badge: str | None
    note: str


def record_out(r: AccessRecord) -> dict[str, Any]:
    return {
        "id": r.pk,
        "person": r.person.user.get_username(),
        "direction": r.direction,
        "at": r.at,
        "badge": r.badge.number if r.badge else None,
        "note": r.note,
    }


@router.post("/missions/reception/{site}/register", response={201: RecordOut}, summary="In or out")
def register_write(request: HttpRequest, site: str, payload: RecordIn) -> Status[dict[str, Any]]:
    return Status(
        201, record_out(reception.access_record(actor=request_actor(request), site=site, **payload.dict()))
    )


@router.get("/missions/reception/{site}/register", response=list[RecordOut], summary="A day's register")
def register_read(request: HttpRequest, site: str, date: dt.date) -> list[dict[str, Any]]:
    place = reception.access_reception_site(request_actor(request), site)
    return [record_out(r) for r in reception.register_day(place, date)]


# --- calendar ------------------------------------------------------------------------------------


class CalendarOut(Schema):
    url: str


@router.post("/missions/calendar-token", response={201: CalendarOut}, summary="A new iCal feed URL for me")
def calendar_token(request: HttpRequest) -> Status[dict[str, Any]]:
    token = calendar.calendar_token_issue(actor=request_actor(request))
    return Status(201, {"url": request.build_absolute_uri(reverse("missions:calendar", args=[token]))})
