"""Telemetry routes: a tracker posts its readings for a convoy (device token); staff read a
convoy's incidents and manage the trackers of a vehicle."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.security import HttpBearer
from pydantic import JsonValue

from cimaise.core.access import require_permission
from cimaise.core.auth import request_actor
from cimaise.moves.access import access_convoy
from cimaise.moves.models import Incident, TrackerDevice
from cimaise.moves.telemetry import devices, selectors, services

router = Router(tags=["telemetry"])


class TrackerToken(HttpBearer):
    """``Authorization: Bearer cimdev_…``: a tracker's own token (not a person's API token)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        device = devices.tracker_authenticate(token)
        if device is not None:
            request.tracker = device  # type: ignore[attr-defined]
        return device


_EXAMPLE: list[JsonValue] = [
    {"id": "t7-000118", "time": "2020-01-06T09:00:00+01:00", "type": "position", "lat": 49.14, "lon": 2.45},
    {"id": "t7-000119", "time": "2020-01-06T09:00:00+01:00", "type": "temperature", "value": 19.1},
    {"id": "t7-000120", "time": "2020-01-06T09:00:00+01:00", "type": "door", "value": "closed"},
]


class TelemetryIn(Schema):
    readings: list[Any] = Field(
        description=(
            "Readings, each `{id, time, type, …}`: `id` unique per device (a resend is recognised by it), "
            "`time` ISO 8601 with offset, `type` one of `position` (`lat`, `lon`, optional `speed` km/h), "
            "`temperature` (`value` °C), `humidity` (`value` % RH), `shock` (`value`: peak g), "
            '`door` (`value` `"open"` or `"closed"`). Each is checked on its own.'
        ),
        json_schema_extra={"example": _EXAMPLE},
    )


class RejectedOut(Schema):
    index: int = Field(description="position of the reading in the request")
    id: str | None
    reason: str = Field(description="a stable code, e.g. humidity_out_of_range, impossible_jump")
    field: str
    message: str


class TelemetryOut(Schema):
    convoy: str
    accepted: list[str] = Field(description="ids of the readings kept (now or by an earlier request)")
    rejected: list[RejectedOut]
    recorded: int = Field(description="readings accepted and stored by this request")
    alreadyRecorded: int = Field(description="readings whose id was stored before: a resend")  # noqa: N815


@router.post(
    "/convoys/{code}/telemetry",
    auth=TrackerToken(),
    response={200: TelemetryOut, 201: TelemetryOut},
    summary="A truck tracker's readings for a convoy (device token; idempotent by reading id)",
)
def telemetry_post(request: HttpRequest, code: str, payload: TelemetryIn) -> Status[dict[str, Any]]:
    device: TrackerDevice = request.tracker  # type: ignore[attr-defined]
    convoy = devices.convoy_for_tracker(device, code)
    result = services.telemetry_ingest(device=device, convoy=convoy, readings=payload.readings)
    body = {
        "convoy": convoy.code,
        "accepted": result.accepted,
        "rejected": [
            {"index": r.index, "id": r.id, "reason": r.reason, "field": r.field, "message": r.message}
            for r in result.rejected
        ],
        "recorded": result.recorded,
        "alreadyRecorded": result.already_recorded,
    }
    return Status(201 if result.recorded else 200, body)


class IncidentOut(Schema):
    id: int
    kind: str
    convoy: str | None
    started_at: dt.datetime
    ended_at: dt.datetime | None
    evidence: dict[str, Any]
    resolved_at: dt.datetime | None


def incident_out(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.pk,
        "kind": incident.kind,
        "convoy": incident.convoy.code if incident.convoy else None,
        "started_at": incident.started_at,
        "ended_at": incident.ended_at,
        "evidence": incident.evidence,
        "resolved_at": incident.resolved_at,
    }


class IncidentFilter(Schema):
    open: bool = Field(default=False, description="only the incidents not ended yet")


@router.get("/convoys/{code}/incidents", response=list[IncidentOut], summary="A convoy's incidents")
def convoy_incidents(request: HttpRequest, code: str, filters: Query[IncidentFilter]) -> list[dict[str, Any]]:
    actor = request_actor(request)
    convoy = access_convoy(actor, code)
    require_permission(actor, "moves.view_incident")
    return [incident_out(i) for i in selectors.convoy_incidents(convoy=convoy, open_only=filters.open)]


class TrackerIn(Schema):
    label: str


class TrackerOut(Schema):
    id: int
    label: str
    vehicle: str
    prefix: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    token: str | None = Field(default=None, description="shown once, when issued")


def tracker_out(device: TrackerDevice, token: str | None = None) -> dict[str, Any]:
    return {
        "id": device.pk,
        "label": device.label,
        "vehicle": device.vehicle.plate,
        "prefix": device.prefix,
        "created_at": device.created_at,
        "revoked_at": device.revoked_at,
        "token": token,
    }


@router.post("/vehicles/{plate}/trackers", response={201: TrackerOut}, summary="Fit a tracker to a vehicle")
def tracker_register(request: HttpRequest, plate: str, payload: TrackerIn) -> Status[dict[str, Any]]:
    actor = request_actor(request)
    vehicle = devices.access_vehicle(actor, plate)
    issued = devices.tracker_register(actor=actor, vehicle=vehicle, label=payload.label)
    return Status(201, tracker_out(issued.device, issued.raw))


@router.post("/trackers/{tracker_id}/rotate", response=TrackerOut, summary="Give a tracker a new token")
def tracker_rotate(request: HttpRequest, tracker_id: int) -> dict[str, Any]:
    actor = request_actor(request)
    issued = devices.tracker_rotate(actor=actor, device=devices.access_tracker(actor, tracker_id))
    return tracker_out(issued.device, issued.raw)


@router.post("/trackers/{tracker_id}/revoke", response=TrackerOut, summary="Stop a tracker's token")
def tracker_revoke(request: HttpRequest, tracker_id: int) -> dict[str, Any]:
    actor = request_actor(request)
    return tracker_out(devices.tracker_revoke(actor=actor, device=devices.access_tracker(actor, tracker_id)))
