"""Custody routes: EPCIS capture and query, a work's custody, places' contents, anomalies,
convoy reconciliation."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from pydantic import AwareDatetime

from cimaise.collection.access import access_work
from cimaise.core.access import access_place, own_institution, require_permission
from cimaise.core.api import place_ref
from cimaise.core.auth import request_actor
from cimaise.core.pagination import PageParams, page_schema, paginate
from cimaise.moves import selectors, services
from cimaise.moves.access import access_anomaly, access_convoy, access_crate, access_programme
from cimaise.moves.epcis import BadEvent
from cimaise.moves.export import EPCIS_CONTEXT, event_out, utc
from cimaise.moves.models import Anomaly, CustodyEvent, ObjectState, Presence
from cimaise.moves.reconciliation import convoy_reconciliation, crate_reconciliation, programme_reconciliation
from cimaise.moves.vocab import VocabularyError, normalise

router = Router(tags=["custody"])


class AnomalyOut(Schema):
    id: int
    kind: str
    uri: str
    eventID: str  # noqa: N815  (EPCIS spelling)
    evidence: dict[str, Any]
    detected_at: dt.datetime
    resolved_at: dt.datetime | None
    resolved_by: str
    comment: str


def anomaly_out(anomaly: Anomaly) -> dict[str, Any]:
    return {
        "id": anomaly.pk,
        "kind": anomaly.kind,
        "uri": anomaly.uri,
        "eventID": anomaly.event_id,
        "evidence": anomaly.evidence,
        "detected_at": anomaly.detected_at,
        "resolved_at": anomaly.resolved_at,
        "resolved_by": anomaly.resolved_by,
        "comment": anomaly.comment,
    }


class CaptureOut(Schema):
    eventIDs: list[str]  # noqa: N815
    recorded: int = Field(description="events stored by this request")
    alreadyRecorded: int = Field(description="events already stored: a resend records nothing")  # noqa: N815
    anomalies: list[AnomalyOut]


def _json(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadEvent(f"not valid JSON ({exc})", index=None, field="body") from exc


@router.post(
    "/epcis/capture",
    response={200: CaptureOut, 201: CaptureOut},
    summary="Capture an EPCIS 2.0 document or event list (all or nothing, idempotent by eventID)",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/ld+json": {"schema": {"type": "object"}},
                "application/json": {"schema": {"type": ["object", "array"]}},
            }
        }
    },
)
def epcis_capture(request: HttpRequest) -> Status[dict[str, Any]]:
    result = services.custody_capture(actor=request_actor(request), payload=_json(request))
    body = {
        "eventIDs": result.event_ids,
        "recorded": result.recorded,
        "alreadyRecorded": result.already_recorded,
        "anomalies": [anomaly_out(a) for a in result.anomalies],
    }
    return Status(201 if result.recorded else 200, body)


class EventFilter(PageParams):
    MATCH_epc: list[str] = Field(default_factory=list, description="objects named in epcList or childEPCs")
    MATCH_anyEPC: list[str] = Field(default_factory=list, description="also as parentID")  # noqa: N815
    EQ_bizStep: list[str] = Field(default_factory=list)  # noqa: N815
    EQ_bizLocation: list[str] = Field(default_factory=list)  # noqa: N815
    EQ_bizTransaction: list[str] = Field(default_factory=list)  # noqa: N815
    GE_eventTime: AwareDatetime | None = None
    LT_eventTime: AwareDatetime | None = None


def _split(values: list[str]) -> list[str]:
    """EPCIS lists come as repeated parameters or comma-separated (``|`` also accepted)."""
    return [part.strip() for value in values for part in value.replace("|", ",").split(",") if part.strip()]


def _steps(values: list[str]) -> list[str]:
    try:
        return [normalise("bizStep", value) for value in _split(values)]
    except VocabularyError as exc:
        raise BadEvent(str(exc), index=None, field="EQ_bizStep") from exc


@router.get("/epcis/events", summary="EPCIS event query (SimpleEventQuery subset), paged")
def epcis_events(request: HttpRequest, filters: Query[EventFilter]) -> HttpResponse:
    unknown = sorted(set(request.GET) - set(EventFilter.model_fields))
    if unknown:  # a misspelt filter must not answer with every event
        raise BadEvent("not a query parameter of this service", index=None, field=unknown[0])
    actor = request_actor(request)
    institution = own_institution(actor)
    require_permission(actor, "moves.view_custodyevent")
    query = selectors.EventQuery(
        match_epc=_split(filters.MATCH_epc),
        match_any_epc=_split(filters.MATCH_anyEPC),
        biz_steps=_steps(filters.EQ_bizStep),
        biz_locations=_split(filters.EQ_bizLocation),
        biz_transactions=_split(filters.EQ_bizTransaction),
        ge_event_time=filters.GE_eventTime,
        lt_event_time=filters.LT_eventTime,
    )
    page = paginate(request, selectors.events_query(institution, query), filters, lambda event: event)
    response = HttpResponse(json.dumps(query_document(page["items"])), content_type="application/ld+json")
    response["X-Total-Count"] = str(page["count"])  # the body stays a pure EPCIS document
    if page["next"]:
        response["Link"] = f'<{request.build_absolute_uri(page["next"])}>; rel="next"'
    return response


def query_document(events: list[CustodyEvent]) -> dict[str, Any]:
    """An EPCISQueryDocument of these events, declaring their extension prefixes."""
    prefixes: dict[str, str] = {}
    for event in events:
        for prefix, iri in event.context.items():
            prefixes.setdefault(prefix, iri)
    return {
        "@context": [EPCIS_CONTEXT, prefixes] if prefixes else [EPCIS_CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": utc(dt.datetime.now(dt.UTC)),
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": {"eventList": [event_out(e, prefixes) for e in events]},
            }
        },
    }


class CustodyEntryOut(Schema):
    eventID: str  # noqa: N815
    type: str
    action: str
    bizStep: str  # noqa: N815
    disposition: str
    eventTime: dt.datetime  # noqa: N815
    recordTime: dt.datetime  # noqa: N815
    readPoint: str | None  # noqa: N815
    bizLocation: str | None  # noqa: N815
    place: dict[str, str] | None
    bizTransaction: str | None  # noqa: N815
    who: str
    via: str | None = Field(description="the container the event happened to, when not the work itself")
    sensorElementList: list[dict[str, Any]]  # noqa: N815
    fact: int


class CustodyOut(Schema):
    uri: str
    status: str | None
    place: dict[str, str] | None
    container: str | None
    last_seen: dict[str, Any] | None
    events: list[CustodyEntryOut]


def entry_out(entry: selectors.CustodyEntry) -> dict[str, Any]:
    event = entry.event
    return {
        "eventID": event.event_id,
        "type": event.event_type,
        "action": event.action,
        "bizStep": event.biz_step,
        "disposition": event.disposition,
        "eventTime": event.event_time,
        "recordTime": event.record_time,
        "readPoint": event.read_point or None,
        "bizLocation": event.biz_location or None,
        "place": place_ref(event.place),
        "bizTransaction": event.biz_transaction or None,
        "who": event.who,
        "via": entry.via or None,
        "sensorElementList": event.body.get("sensorElementList", []),
        "fact": event.fact_id,
    }


def state_out(state: ObjectState | None) -> dict[str, Any]:
    if state is None:
        return {"status": None, "place": None, "container": None, "last_seen": None}
    seen = None
    if state.last_seen_at is not None:
        seen = {"at": state.last_seen_at, "place": place_ref(state.last_seen_place), "by": state.last_seen_by}
    return {
        "status": state.status or None,
        "place": place_ref(state.place),
        "container": state.container or None,
        "last_seen": seen,
    }


@router.get(
    "/works/{inventory}/custody", response=CustodyOut, summary="A work's chain of custody, in event time"
)
def work_custody(request: HttpRequest, inventory: str) -> dict[str, Any]:
    actor = request_actor(request)
    work = access_work(actor, inventory)
    require_permission(actor, "moves.view_custodyevent")
    chain = selectors.custody_chain(work.institution, work.uri)
    state = selectors.object_state(work.institution, work.uri)
    return {"uri": work.uri, **state_out(state), "events": [entry_out(e) for e in chain]}


class ContentOut(Schema):
    uri: str
    kind: str
    place: str
    since: dt.datetime | None
    status: str | None


class ContentsFilter(PageParams):
    at: AwareDatetime | None = Field(None, description="what was there at this moment (default: now)")


def _content_now(state: ObjectState) -> dict[str, Any]:
    return {
        "uri": state.uri,
        "kind": state.kind,
        "place": state.place.code if state.place else "",
        "since": None,
        "status": state.status or None,
    }


def _content_then(presence: Presence) -> dict[str, Any]:
    kind = presence.uri.split(":")[2] if presence.uri.startswith("urn:cimaise:") else "external"
    return {
        "uri": presence.uri,
        "kind": kind,
        "place": presence.place.code,
        "since": presence.since,
        "status": None,
    }


@router.get(
    "/places/{code}/contents",
    response=page_schema(ContentOut),
    summary="What is on a place (and below), now or at a moment",
)
def place_contents(request: HttpRequest, code: str, filters: Query[ContentsFilter]) -> dict[str, Any]:
    actor = request_actor(request)
    place = access_place(actor, code)
    require_permission(actor, "moves.view_custodyevent")
    if filters.at is None:
        return paginate(
            request, selectors.place_contents_now(place.institution, place), filters, _content_now
        )
    return paginate(
        request, selectors.place_contents_at(place.institution, place, filters.at), filters, _content_then
    )


class AnomalyFilter(PageParams):
    open: bool = Field(False, description="only those not resolved yet")
    kind: Anomaly.Kind | None = None


@router.get("/anomalies", response=page_schema(AnomalyOut), summary="Custody anomalies, newest first")
def anomaly_list(request: HttpRequest, filters: Query[AnomalyFilter]) -> dict[str, Any]:
    actor = request_actor(request)
    institution = own_institution(actor)
    require_permission(actor, "moves.view_anomaly")
    found = selectors.anomalies_list(institution, open_only=filters.open, kind=filters.kind or "")
    return paginate(request, found, filters, anomaly_out)


class ResolveIn(Schema):
    comment: str = Field(min_length=1, max_length=2000)


@router.post(
    "/anomalies/{anomaly_id}/resolve", response=AnomalyOut, summary="Resolve an anomaly with a comment"
)
def anomaly_resolve(request: HttpRequest, anomaly_id: int, data: ResolveIn) -> dict[str, Any]:
    actor = request_actor(request)
    access_anomaly(actor, anomaly_id)
    return anomaly_out(services.anomaly_resolve(actor=actor, anomaly_id=anomaly_id, comment=data.comment))


@router.get(
    "/convoys/{code}/reconciliation",
    summary="A convoy's manifest against what was scanned, with every discrepancy",
)
def convoy_reconcile(request: HttpRequest, code: str) -> dict[str, Any]:
    convoy = access_convoy(request_actor(request), code)
    return convoy_reconciliation(convoy).as_dict()


class ProgrammeFilter(Schema):
    source: str | None = Field(
        None, max_length=64, description="a source reserve's place code: its works only"
    )


@router.get(
    "/programmes/{code}/reconciliation",
    summary="A transfer programme (or one source reserve) against where its works are",
)
def programme_reconcile(request: HttpRequest, code: str, filters: Query[ProgrammeFilter]) -> dict[str, Any]:
    actor = request_actor(request)
    programme = access_programme(actor, code)
    source = access_place(actor, filters.source) if filters.source else None
    return programme_reconciliation(programme, source=source).as_dict()


@router.get(
    "/crates/{barcode}/reconciliation", summary="What the manifests put in a crate against its packing"
)
def crate_reconcile(request: HttpRequest, barcode: str) -> dict[str, Any]:
    crate = access_crate(request_actor(request), barcode)
    return crate_reconciliation(crate.institution, crate.uri).as_dict()
