"""API routes of the purchasing register, under /api/v1/purchasing/ (purchasing officers and
administrators only; see docs/purchasing.md)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.http.request import RawPostDataException
from ninja import Field, Query, Router, Schema, Status

from cimaise.core.access import own_institution, require_permission
from cimaise.core.auth import request_actor
from cimaise.core.errors import InvalidInput, NotFound
from cimaise.core.models import Institution
from cimaise.purchasing import csv_io, selectors, services
from cimaise.purchasing.models import Contract, Need, Vehicle
from cimaise.purchasing.roles import VIEW
from cimaise.purchasing.rules import ContractSpec, HolderSpec, duration_months, essential_data_required

router = Router(tags=["purchasing"])


def _reader(request: HttpRequest) -> Institution:
    actor = request_actor(request)
    institution = own_institution(actor)
    require_permission(actor, VIEW)
    return institution


# --- needs and vehicles --------------------------------------------------------------------------


class NeedIn(Schema):
    code: str = Field(max_length=32)
    title: str = Field(max_length=200)
    category: str
    site: str = Field(description="the site's code (PAL for Paris, CCL for the centre at Liévin)")
    recurring: bool = True
    notes: str = Field("", max_length=2000)


class NeedOut(Schema):
    code: str
    title: str
    category: str
    site: str
    recurring: bool


def need_out(need: Need) -> dict[str, Any]:
    return {"code": need.code, "title": need.title, "category": need.category, "site": need.site.code,
            "recurring": need.recurring}  # fmt: skip


@router.get("/purchasing/needs", response=list[NeedOut], summary="Purchasing needs")
def needs_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [need_out(need) for need in selectors.needs_of(_reader(request))]


@router.post("/purchasing/needs", response={201: NeedOut}, summary="Record a need")
def needs_create(request: HttpRequest, payload: NeedIn) -> Status[dict[str, Any]]:
    need = services.need_create(actor=request_actor(request), **payload.dict())
    return Status(201, need_out(need))


class VehicleIn(Schema):
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    kind: str
    coordinator: str = Field("", max_length=200)
    partner: str = Field("", description="a partner institution's code (joint orders)")
    joined_on: dt.date | None = None


class VehicleOut(Schema):
    code: str
    name: str
    kind: str
    coordinator: str
    partner: str | None
    joined_on: dt.date | None


def vehicle_out(vehicle: Vehicle) -> dict[str, Any]:
    return {
        "code": vehicle.code,
        "name": vehicle.name,
        "kind": vehicle.kind,
        "coordinator": vehicle.coordinator,
        "partner": vehicle.partner.code if vehicle.partner else None,
        "joined_on": vehicle.joined_on,
    }


@router.get("/purchasing/vehicles", response=list[VehicleOut], summary="Purchasing vehicles")
def vehicles_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [vehicle_out(vehicle) for vehicle in selectors.vehicles_of(_reader(request))]


@router.post("/purchasing/vehicles", response={201: VehicleOut}, summary="Record a vehicle")
def vehicles_create(request: HttpRequest, payload: VehicleIn) -> Status[dict[str, Any]]:
    vehicle = services.vehicle_create(actor=request_actor(request), **payload.dict())
    return Status(201, vehicle_out(vehicle))


# --- contracts -----------------------------------------------------------------------------------


class HolderIO(Schema):
    name: str = Field(max_length=200)
    siret: str = Field("", max_length=14)


class ContractIn(Schema):
    reference: str = Field(max_length=32)
    title: str = Field(max_length=300)
    vehicle: str
    nature: str = "contract"
    parent: str = Field("", description="the framework agreement's reference (follow-on contracts)")
    needs: list[str] = []
    holders: list[HolderIO] = Field(min_length=1)
    currency: str = "EUR"
    min_amount: Decimal | None = Field(None, max_digits=14, decimal_places=2)
    max_amount: Decimal = Field(max_digits=14, decimal_places=2)
    start_on: dt.date
    end_on: dt.date
    renewal_on: dt.date | None = None
    launched_on: dt.date | None = None
    notified_on: dt.date | None = None
    buyer_siret: str = Field("", max_length=14)
    procedure: str = ""
    cpv_code: str = Field("", max_length=10)
    place_type: str = ""
    place_code: str = Field("", max_length=12)
    place_name: str = Field("", max_length=100)
    price_form: str = ""


class ContractOut(ContractIn):
    duration_months: int
    essential_data_required: bool
    renewal_date: dt.date


def contract_out(contract: Contract) -> dict[str, Any]:
    spec = csv_io.contract_spec(contract)
    return {
        **spec.__dict__,
        "holders": [{"name": h.name, "siret": h.siret} for h in spec.holders],
        "duration_months": duration_months(contract.start_on, contract.end_on),
        "essential_data_required": essential_data_required(spec),
        "renewal_date": selectors.contract_renewal(contract),
    }


@router.get("/purchasing/contracts", response=list[ContractOut], summary="Contracts")
def contracts_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [contract_out(contract) for contract in selectors.contracts_of(_reader(request))]


@router.post(
    "/purchasing/contracts",
    response={200: ContractOut, 201: ContractOut},
    summary="Record or change a contract",
)
def contracts_save(request: HttpRequest, payload: ContractIn) -> Status[dict[str, Any]]:
    values = payload.dict()
    values["holders"] = [HolderSpec(h["name"], h["siret"]) for h in values["holders"]]
    contract, created = services.contract_save(actor=request_actor(request), spec=ContractSpec(**values))
    found = selectors.contract_by_reference(contract.institution, contract.reference)
    return Status(201 if created else 200, contract_out(found or contract))


@router.get("/purchasing/contracts/{reference}", response=ContractOut, summary="A contract")
def contracts_get(request: HttpRequest, reference: str) -> dict[str, Any]:
    contract = selectors.contract_by_reference(_reader(request), reference)
    if contract is None:
        raise NotFound(f"no contract {reference!r}", field="reference")
    return contract_out(contract)


@router.get("/purchasing/export/contracts.csv", summary="Contracts as CSV (the import's format)")
def contracts_export(request: HttpRequest) -> HttpResponse:
    text = csv_io.contracts_csv(selectors.contracts_of(_reader(request)))
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="contracts.csv"'
    return response


class ImportOut(Schema):
    rows: int
    created: list[str]
    changed: list[str]
    unchanged: list[str]


def _csv_body(request: HttpRequest) -> tuple[bytes, str]:
    """The CSV sent: a multipart form's ``file``, or the body itself; a form that cannot be read
    (no boundary, or no file in it) is the caller's error, naming ``file``."""
    try:
        upload = request.FILES.get("file")
        if upload is not None:
            return upload.read(), upload.name or ""
        return request.body, "request body"
    except (MultiPartParserError, RawPostDataException) as exc:
        raise InvalidInput(
            "file: send the CSV as text/csv, or as the file of a multipart form", field="file"
        ) from exc


@router.post(
    "/purchasing/import/contracts",
    response=ImportOut,
    summary="Import contracts from CSV, all rows or none",
    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def contracts_import(request: HttpRequest) -> dict[str, Any]:
    """The body is the CSV file (``Content-Type: text/csv``), or a multipart form with ``file``.
    A bad row gives 422 ``invalid_rows`` with every problem in ``details.errors``."""
    actor = request_actor(request)
    data, name = _csv_body(request)
    result = csv_io.contracts_import(actor=actor, data=data, filename=name)
    return result.__dict__


# --- coverage, renewals, indicators --------------------------------------------------------------


class OnDay(Schema):
    on: dt.date | None = Field(None, description="the day (today when absent)")


class CoverageOut(Schema):
    need: NeedOut
    status: str = Field(description="covered, renewal (renewal date within six months) or gap")
    vehicle: VehicleOut | None
    contract: str | None
    renewal_on: dt.date | None
    since: dt.date | None = Field(description="gaps: when the last contract ended")
    starts: dt.date | None = Field(description="gaps: when the next contract starts")


@router.get("/purchasing/coverage", response=list[CoverageOut], summary="Every need and what covers it")
def coverage(request: HttpRequest, query: Query[OnDay]) -> list[dict[str, Any]]:
    rows = selectors.coverage(_reader(request), on=query.on)
    return [
        {
            "need": need_out(r.need),
            "status": r.status,
            "vehicle": vehicle_out(r.vehicle) if r.vehicle else None,
            "contract": r.contract.reference if r.contract else None,
            "renewal_on": r.renewal_on,
            "since": r.since,
            "starts": r.starts,
        }
        for r in rows
    ]


class RenewalOut(Schema):
    contract: str
    title: str
    renewal_on: dt.date
    alerts_due: dict[str, dt.date] = Field(description="months ahead → the day the alert is due")
    alerts_sent: list[int]


@router.get("/purchasing/renewals", response=list[RenewalOut], summary="Renewals within six months")
def renewals(request: HttpRequest, query: Query[OnDay]) -> list[dict[str, Any]]:
    found = selectors.renewals_ahead(_reader(request), on=query.on)
    return [
        {"contract": r.contract.reference, "title": r.contract.title, "renewal_on": r.renewal_on,
         "alerts_due": {str(m): d for m, d in r.due.items()}, "alerts_sent": sorted(r.sent)}
        for r in found
    ]  # fmt: skip


class IndicatorsOut(Schema):
    year: int
    launched: int = Field(description="procedures launched")
    notified: int = Field(description="contracts notified")
    joined: int = Field(description="groupings joined")


@router.get("/purchasing/indicators", response=list[IndicatorsOut], summary="Yearly indicators")
def indicators(request: HttpRequest) -> list[dict[str, Any]]:
    return [row.__dict__ for row in selectors.indicators(_reader(request))]
