"""API routes of the passnet app (DESIGN §5): the operator issues passes; partner sites scan
them (partner key, or the museum's own gate devices); agents sync; settlements per month.
A refused pass is an answer (HTTP 200, ``result: rejected``), not an error."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import AfterValidator

from cimaise.core.auth import API_AUTH, request_actor
from cimaise.passnet.issuance import Issue, batch_withdraw, pass_revoke, passes_issue
from cimaise.passnet.network import PartnerKeyAuth, partner_key_issue, scan_site, scanner_of
from cimaise.passnet.scans import Scan, ScanResult, pass_scan
from cimaise.passnet.settlement import Statement, settlement_issue, settlement_read
from cimaise.passnet.sync import OfflineEntry, entries_upload, site_feed

router = Router(tags=["passnet"])
SITE_AUTH = [PartnerKeyAuth(), *API_AUTH]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("a NUL character is not allowed")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
"""A string the database can store (PostgreSQL refuses NUL characters): a 422 naming the field."""


class PassesIn(Schema):
    product: Text = Field(min_length=1, max_length=32, description="the pass product's code")
    quantity: int = Field(default=1, description="1 to 5000")
    channel: Text = Field(description="web, desk, partner or reseller")
    holder_name: Text = Field(default="", max_length=200)
    batch: Text = Field(default="", max_length=32, description="the reseller batch (reseller channel)")
    reseller: Text = Field(default="", max_length=200, description="the reseller's name, for a new batch")


class PassOut(Schema):
    code: str
    product: str
    code_id: str
    price: str
    channel: str
    batch: str | None


class PassesOut(Schema):
    passes: list[PassOut]


@router.post("/passnet/passes", response={201: PassesOut}, summary="The pass operator issues passes")
def passes(request: HttpRequest, payload: PassesIn) -> Status[dict[str, Any]]:
    issued = passes_issue(actor=request_actor(request), issue=Issue(**payload.dict()))
    return Status(
        201,
        {
            "passes": [
                {
                    "code": p.code,
                    "product": p.product.code,
                    "code_id": p.code_id,
                    "price": str(p.price),
                    "channel": p.channel,
                    "batch": p.batch.code if p.batch else None,
                }
                for p in issued
            ]
        },
    )


class ScanIn(Schema):
    code: str = Field(description="the scanned text, as read; anything unreadable is refused as forged")
    entrance: Text = Field(min_length=1, max_length=32, description="the partner site's code")
    lane: Text = Field(min_length=1, max_length=32, description="the lane or device at that site")
    direction: Literal["in", "out"] = "in"
    nonce: Text = Field(
        min_length=1, max_length=64, description="made by the device; a resend gets the first answer"
    )
    scanned_at: dt.datetime = Field(description="the device's clock, with its offset")
    area: Text = Field(
        default="", max_length=32, description="the area entered (e.g. a temporary exhibition)"
    )


class PassInfoOut(Schema):
    code_id: str
    product: str
    holder_name: str
    activated_at: dt.datetime | None
    expires_at: dt.datetime | None


class ScanOut(Schema):
    result: Literal["accepted", "rejected"]
    reason: str = Field(description="ok, exit, or why the pass is refused (the access reasons)")
    text: str = Field(description="a short text for the agent, in the request's language")
    entry: int
    replayed: bool
    people: int = 1
    pass_: PassInfoOut | None = Field(None, alias="pass")


def scan_out(answer: ScanResult) -> dict[str, Any]:
    return {
        "result": answer.result,
        "reason": answer.reason,
        "text": answer.text,
        "entry": answer.entry_id,
        "replayed": answer.replayed,
        "people": 1,
        "pass": answer.pass_info,
    }


@router.post(
    "/passnet/scans",
    response=ScanOut,
    auth=SITE_AUTH,
    by_alias=True,
    summary="A partner site's pass scan (partner key, or the museum's own gate devices)",
)
def scans(request: HttpRequest, payload: ScanIn) -> dict[str, Any]:
    scanner = scanner_of(request)
    site = scan_site(scanner, payload.entrance)
    scan = Scan(
        code=payload.code,
        lane=payload.lane,
        direction=payload.direction,
        nonce=payload.nonce,
        scanned_at=payload.scanned_at,
        area=payload.area,
    )
    return scan_out(pass_scan(site=site, scan=scan, who=scanner.label))


# --- entrance agents -----------------------------------------------------------------------------


@router.get(
    "/passnet/sites/{code}/feed",
    auth=SITE_AUTH,
    summary="What an entrance agent at a partner site syncs (incremental)",
)
def feed(request: HttpRequest, code: str, since: str = "") -> dict[str, Any]:
    site = scan_site(scanner_of(request), code)
    return site_feed(site=site, since=since)


class OfflineEntryIn(Schema):
    nonce: Text = Field(min_length=1, max_length=64)
    code: str
    lane: Text = Field(min_length=1, max_length=32)
    direction: Literal["in", "out"]
    scanned_at: dt.datetime
    decided_at: dt.datetime = Field(description="the agent's clock when it decided")
    reason: Text = Field(description="what the agent decided")
    area: Text = Field(default="", max_length=32)


class UploadIn(Schema):
    entries: list[OfflineEntryIn]


@router.post(
    "/passnet/sites/{code}/entries",
    auth=SITE_AUTH,
    summary="An entrance agent uploads the pass scans it decided offline (idempotent by nonce)",
)
def upload(request: HttpRequest, code: str, payload: UploadIn) -> dict[str, Any]:
    scanner = scanner_of(request)
    site = scan_site(scanner, code)
    items = [OfflineEntry(**item.dict()) for item in payload.entries]
    done = entries_upload(site=site, entries=items, who=scanner.label)
    return {"results": [u.__dict__ for u in done]}


# --- settlements ---------------------------------------------------------------------------------


class LineOut(Schema):
    site: str
    site_name: str
    institution: str
    kind: str
    month: str
    visits: int
    amount: str


class SettlementOut(Schema):
    month: str
    status: Literal["issued", "draft"]
    issued_at: dt.datetime | None
    formula: str
    currency: str
    revenue: str
    costs: str
    distributable: str
    visits: int
    rounding: str
    lines: list[LineOut]


ROUNDING = "largest remainder: shares cut down to the cent, leftover cents to the largest remainders"


def statement_out(statement: Statement) -> dict[str, Any]:
    return {
        "month": f"{statement.month:%Y-%m}",
        "status": statement.status,
        "issued_at": statement.issued_at,
        "formula": statement.formula,
        "currency": statement.currency,
        "revenue": str(statement.revenue),
        "costs": str(statement.costs),
        "distributable": str(statement.distributable),
        "visits": statement.visits,
        "rounding": ROUNDING,
        "lines": [
            {
                "site": line.site.code,
                "site_name": line.site.name,
                "institution": line.site.institution.code,
                "kind": line.kind,
                "month": f"{line.for_month:%Y-%m}",
                "visits": line.visits,
                "amount": str(line.amount),
            }
            for line in statement.lines
        ],
    }


@router.get(
    "/passnet/settlements/{month}",
    response=SettlementOut,
    summary="Visits and amounts due per partner site for a month (YYYY-MM)",
)
def settlement(request: HttpRequest, month: str) -> dict[str, Any]:
    return statement_out(settlement_read(actor=request_actor(request), month=month))


@router.post(
    "/passnet/settlements/{month}",
    response={201: SettlementOut},
    summary="The operator issues (freezes) a month's settlement",
)
def settlement_post(request: HttpRequest, month: str) -> Status[dict[str, Any]]:
    return Status(201, statement_out(settlement_issue(actor=request_actor(request), month=month)))


# --- operator commands -----------------------------------------------------------------------------


class RevokeIn(Schema):
    reason: Literal["lost", "refunded"]


class RevokedOut(Schema):
    code_id: str
    state: str
    revoked_reason: str
    revoked_at: dt.datetime | None


@router.post(
    "/passnet/passes/{code_id}/revoke", response=RevokedOut, summary="Revoke a lost or refunded pass"
)
def revoke(request: HttpRequest, code_id: str, payload: RevokeIn) -> dict[str, Any]:
    found = pass_revoke(actor=request_actor(request), code_id=code_id, reason=payload.reason)
    return {
        "code_id": found.code_id,
        "state": found.state,
        "revoked_reason": found.revoked_reason,
        "revoked_at": found.revoked_at,
    }


class WithdrawIn(Schema):
    reason: Text = Field(min_length=1, max_length=300)


@router.post("/passnet/batches/{code}/withdraw", summary="Withdraw a reseller batch (revokes its passes)")
def withdraw(request: HttpRequest, code: str, payload: WithdrawIn) -> dict[str, Any]:
    count = batch_withdraw(actor=request_actor(request), batch=code, reason=payload.reason)
    return {"batch": code, "revoked": count}


class KeyIn(Schema):
    label: Text = Field(default="", max_length=200)


class KeyOut(Schema):
    site: str
    prefix: str
    key: str = Field(description="shown once: store it on the site's devices")


@router.post(
    "/passnet/sites/{code}/keys",
    response={201: KeyOut},
    summary="Issue a site's API key (rotation: the previous keys stop working at once)",
)
def key_rotate(request: HttpRequest, code: str, payload: KeyIn) -> Status[dict[str, Any]]:
    issued = partner_key_issue(actor=request_actor(request), site=code, label=payload.label)
    return Status(201, {"site": code, "prefix": issued.key.prefix, "key": issued.raw})
