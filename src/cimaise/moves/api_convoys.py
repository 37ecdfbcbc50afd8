"""Convoy routes: its state and transitions, discrepancy resolutions, condition reports."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.http import HttpRequest
from ninja import Field, File, Form, Router, Schema, Status, UploadedFile

from cimaise.collection.access import access_work
from cimaise.core.access import require_permission
from cimaise.core.auth import request_actor
from cimaise.core.errors import InvalidInput
from cimaise.moves.access import access_convoy
from cimaise.moves.condition import Photo, condition_report_record
from cimaise.moves.convoys import convoy_cargo_status, convoy_move, discrepancy_resolve
from cimaise.moves.models import ConditionReport, Convoy, ConvoyState

router = Router(tags=["convoys"])


class ConvoyOut(Schema):
    code: str
    uri: str
    state: str
    vehicle: str | None
    drivers: list[str]
    escorts: list[str]
    seals: list[str]
    seals_checked: list[str]
    planned_departure: dt.datetime | None
    planned_arrival: dt.datetime | None
    cargo: dict[str, int]
    incidents: list[dict[str, Any]]


def convoy_out(convoy: Convoy) -> dict[str, Any]:
    return {
        "code": convoy.code,
        "uri": convoy.uri,
        "state": convoy.state,
        "vehicle": convoy.vehicle.plate if convoy.vehicle else None,
        "drivers": list(convoy.drivers),
        "escorts": [str(person) for person in convoy.escorts.all()],
        "seals": list(convoy.seals),
        "seals_checked": list(convoy.seals_checked),
        "planned_departure": convoy.planned_departure,
        "planned_arrival": convoy.planned_arrival,
        "cargo": convoy_cargo_status(convoy),
        "incidents": [
            {"kind": i.kind, "started_at": i.started_at, "ended_at": i.ended_at, "evidence": i.evidence}
            for i in convoy.incidents.all()
        ],
    }


@router.get("/convoys/{code}", response=ConvoyOut, summary="A convoy: state, crew, seals, cargo, incidents")
def convoy_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    return convoy_out(access_convoy(request_actor(request), code))


class MoveIn(Schema):
    to: ConvoyState = Field(description="the next state")
    seals: list[str] = Field(default_factory=list, description="seal numbers, when sealing or opening")


@router.post("/convoys/{code}/state", response=ConvoyOut, summary="Move a convoy to its next state")
def convoy_state(request: HttpRequest, code: str, data: MoveIn) -> dict[str, Any]:
    actor = request_actor(request)
    convoy = access_convoy(actor, code)
    return convoy_out(convoy_move(actor=actor, convoy=convoy, to=data.to, seals=data.seals))


class ResolveDiscrepancyIn(Schema):
    kind: str = Field(max_length=16)
    step: str = Field(max_length=16)
    uri: str = Field(max_length=300)
    comment: str = Field(min_length=1, max_length=2000)


@router.post("/convoys/{code}/discrepancies/resolve", summary="Explain one discrepancy of a convoy")
def convoy_discrepancy(request: HttpRequest, code: str, data: ResolveDiscrepancyIn) -> dict[str, Any]:
    actor = request_actor(request)
    convoy = access_convoy(actor, code)
    done = discrepancy_resolve(
        actor=actor, convoy=convoy, kind=data.kind, step=data.step, uri=data.uri, comment=data.comment
    )
    return {"kind": done.kind, "step": done.step, "uri": done.uri, "resolved_by": done.resolved_by}


class ConditionOut(Schema):
    id: int
    phase: str
    overall: int
    alterations: list[dict[str, Any]]
    notes: str
    convoy: str | None
    examiner: str
    examined_at: dt.datetime
    eventID: str  # noqa: N815
    photos: list[dict[str, Any]]


def condition_out(report: ConditionReport) -> dict[str, Any]:
    return {
        "id": report.pk,
        "phase": report.phase,
        "overall": report.overall,
        "alterations": report.alterations,
        "notes": report.notes,
        "convoy": report.convoy.code if report.convoy else None,
        "examiner": report.examiner,
        "examined_at": report.examined_at,
        "eventID": report.event_id,
        "photos": [
            {"name": p.name, "sha256": p.sha256, "content_type": p.content_type, "size": p.size}
            for p in report.photos.all()
        ],
    }


def _json_list(text: str) -> Any:
    try:
        return json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        raise InvalidInput("alterations must be a JSON list", field="alterations") from exc


@router.post(
    "/works/{inventory}/condition-reports",
    response={201: ConditionOut},
    summary="Record a condition report (multipart: fields and photos)",
)
def condition_create(
    request: HttpRequest,
    inventory: str,
    phase: Form[str],
    overall: Form[int],
    alterations: Form[str] = "[]",
    notes: Form[str] = "",
    convoy: Form[str] = "",
    photos: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Status[dict[str, Any]]:
    actor = request_actor(request)
    work = access_work(actor, inventory)
    on = access_convoy(actor, convoy) if convoy else None
    files = [Photo(f.name or "photo", f.content_type or "", f.read()) for f in (photos or [])]
    report = condition_report_record(
        actor=actor, work=work, phase=phase, overall=overall, alterations=_json_list(alterations),
        notes=notes, convoy=on, photos=files,
    )  # fmt: skip
    return Status(201, condition_out(report))


@router.get(
    "/works/{inventory}/condition-reports", response=list[ConditionOut], summary="A work's condition reports"
)
def condition_list(request: HttpRequest, inventory: str) -> list[dict[str, Any]]:
    actor = request_actor(request)
    work = access_work(actor, inventory)
    require_permission(actor, "moves.view_conditionreport")
    reports = work.condition_reports.select_related("convoy").prefetch_related("photos")
    return [condition_out(r) for r in reports]
