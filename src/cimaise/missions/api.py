"""API routes of the missions app, under /api/v1/missions/: orders and their validation, claims
and receipts, bookings and shuttle runs, reception (expected visitors, badges, the register) and
the calendar token. Handlers parse, authorise through the services, serialise."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, File, Form, Router, Schema, Status, UploadedFile

from cimaise.core.auth import request_actor
from cimaise.missions import bookings, claims, orders, reception
from cimaise.missions.api_reception import router as reception_router
from cimaise.missions.models import (
    Booking,
    Expense,
    ExpenseClaim,
    MissionOrder,
    Shuttle,
)
from cimaise.missions.reception import Day

router = Router(tags=["missions"])


class OrderIn(Schema):
    travellers: list[str] = Field(min_length=1, description="user names")
    destination: str = Field(min_length=1, max_length=32, description="site code, e.g. CCL")
    purpose: Literal["convoy", "condition-check", "inventory", "loan", "other"]
    description: str = Field(max_length=300)
    starts_at: dt.datetime
    ends_at: dt.datetime
    transport: Literal["train", "shuttle", "car"]
    convoy: str = Field(
        default="", max_length=32, description="the convoy's code, if the mission goes with one"
    )
    car_authorisation: str = Field(default="", max_length=100, description="required for a personal car")
    lodging: bool = False
    host: str = Field(default="", max_length=150, description="user name of the host on site")
    zones: list[str] = Field(default_factory=list)
    permanent: bool = False
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    submit: bool = True


class StepOut(Schema):
    kind: str
    by: str
    comment: str
    at: dt.datetime


class WarningOut(Schema):
    date: dt.date
    expected: int
    capacity: int | None


class OrderOut(Schema):
    code: str
    status: str
    agent: str
    travellers: list[str]
    destination: str
    purpose: str
    description: str
    convoy: str | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    transport: str
    lodging: bool
    host: str | None
    zones: list[str]
    permanent: bool
    valid_from: dt.date | None
    valid_until: dt.date | None
    parent: str | None
    steps: list[StepOut]
    warnings: list[WarningOut] = []


def _warnings(days: list[Day]) -> list[dict[str, Any]]:
    return [{"date": d.day, "expected": d.people, "capacity": d.site.capacity} for d in days]


def order_out(order: MissionOrder, warnings: list[Day] | None = None) -> dict[str, Any]:
    return {
        "code": order.code,
        "status": order.status,
        "agent": order.agent.user.get_username(),
        "travellers": sorted(p.user.get_username() for p in order.travellers.select_related("user")),
        "destination": order.destination.code,
        "purpose": order.purpose,
        "description": order.description,
        "convoy": order.convoy.code if order.convoy else None,
        "starts_at": order.starts_at,
        "ends_at": order.ends_at,
        "transport": order.transport,
        "lodging": order.lodging,
        "host": order.host.user.get_username() if order.host else None,
        "zones": order.zones,
        "permanent": order.permanent,
        "valid_from": order.valid_from,
        "valid_until": order.valid_until,
        "parent": order.parent.code if order.parent else None,
        "steps": [
            {"kind": s.kind, "by": s.by.user.get_username(), "comment": s.comment, "at": s.at}
            for s in order.steps.select_related("by__user")
        ],
        "warnings": _warnings(warnings or []),
    }


def _request(payload: OrderIn) -> orders.OrderRequest:
    data = payload.dict(exclude={"submit"})
    return orders.OrderRequest(**data)


@router.post("/missions/orders", response={201: OrderOut}, summary="File a mission order (and submit it)")
def order_file(request: HttpRequest, payload: OrderIn) -> Status[dict[str, Any]]:
    order = orders.order_file(actor=request_actor(request), request=_request(payload), submit=payload.submit)
    return Status(201, order_out(order, reception.order_warnings(order)))


@router.get("/missions/orders", response=list[OrderOut], summary="The orders I filed or travel on")
def order_list(request: HttpRequest) -> list[dict[str, Any]]:
    person = orders.actor_person(request_actor(request))
    return [order_out(o) for o in orders.orders_of(person)]


@router.get("/missions/approvals", response=list[OrderOut], summary="The orders waiting for my decision")
def approval_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [order_out(o) for o in orders.orders_pending_for(request_actor(request))]


@router.get("/missions/orders/{code}", response=OrderOut, summary="One order with its steps")
def order_get(request: HttpRequest, code: str) -> dict[str, Any]:
    return order_out(orders.access_order(request_actor(request), code))


@router.put("/missions/orders/{code}", response=OrderOut, summary="Change a returned order and resubmit it")
def order_update(request: HttpRequest, code: str, payload: OrderIn) -> dict[str, Any]:
    order = orders.order_update(actor=request_actor(request), code=code, request=_request(payload))
    return order_out(order, reception.order_warnings(order))


class DecisionIn(Schema):
    comment: str = Field(default="", max_length=2000)


@router.post("/missions/orders/{code}/approve", response=OrderOut, summary="Approve at the pending level")
def order_approve(request: HttpRequest, code: str, payload: DecisionIn) -> dict[str, Any]:
    order = orders.order_approve(actor=request_actor(request), code=code, comment=payload.comment)
    return order_out(order, reception.order_warnings(order))


@router.post("/missions/orders/{code}/refuse", response=OrderOut, summary="Refuse: back to the agent")
def order_refuse(request: HttpRequest, code: str, payload: DecisionIn) -> dict[str, Any]:
    return order_out(orders.order_refuse(actor=request_actor(request), code=code, comment=payload.comment))


@router.post("/missions/orders/{code}/cancel", response=OrderOut, summary="The agent cancels an order")
def order_cancel(request: HttpRequest, code: str, payload: DecisionIn) -> dict[str, Any]:
    return order_out(orders.order_cancel(actor=request_actor(request), code=code, comment=payload.comment))


class TripIn(Schema):
    starts_at: dt.datetime
    ends_at: dt.datetime
    transport: Literal["train", "shuttle", "car"]
    description: str = Field(default="", max_length=300)


@router.post(
    "/missions/orders/{code}/trips", response={201: OrderOut}, summary="A trip under a permanent order"
)
def trip_record(request: HttpRequest, code: str, payload: TripIn) -> Status[dict[str, Any]]:
    trip = orders.trip_record(actor=request_actor(request), code=code, **payload.dict())
    return Status(201, order_out(trip, reception.order_warnings(trip)))


# --- claims --------------------------------------------------------------------------------------


class ExpenseOut(Schema):
    id: int
    kind: str
    label: str
    amount: str
    receipt: bool


class ClaimOut(Schema):
    id: int
    order: str
    traveller: str
    meals: int
    nights: int
    allowances: str
    total: str
    currency: str
    status: str
    receipts_missing: int
    expenses: list[ExpenseOut]


def claim_out(claim: ExpenseClaim) -> dict[str, Any]:
    expenses = list(claim.expenses.all())
    return {
        "id": claim.pk,
        "order": claim.order.code,
        "traveller": claim.traveller.user.get_username(),
        "meals": claim.meals,
        "nights": claim.nights,
        "allowances": str(claim.allowances),
        "total": str(claims.claim_total(claim)),
        "currency": claim.currency,
        "status": claim.status,
        "receipts_missing": len(claims.receipts_missing(claim)),
        "expenses": [_expense_out(e) for e in expenses],
    }


def _expense_out(e: Expense) -> dict[str, Any]:
    return {"id": e.pk, "kind": e.kind, "label": e.label, "amount": str(e.amount), "receipt": bool(e.receipt)}


@router.post("/missions/orders/{code}/claim", response=ClaimOut, summary="My claim on a validated order")
def claim_open(request: HttpRequest, code: str) -> dict[str, Any]:
    return claim_out(claims.claim_open(actor=request_actor(request), code=code))


@router.post(
    "/missions/claims/{claim_id}/expenses", response={201: ExpenseOut}, summary="Add an expense (multipart)"
)
def expense_add(
    request: HttpRequest,
    claim_id: int,
    kind: Form[str],
    label: Form[str],
    amount: Form[str],
    receipt: File[UploadedFile] = None,  # type: ignore[assignment]
) -> Status[dict[str, Any]]:
    expense = claims.expense_add(
        actor=request_actor(request),
        claim_id=claim_id,
        kind=kind,
        label=label,
        amount=amount,
        receipt=receipt,
    )
    return Status(201, _expense_out(expense))


@router.post("/missions/expenses/{expense_id}/receipt", response=ExpenseOut, summary="Upload a receipt")
def receipt_attach(request: HttpRequest, expense_id: int, receipt: File[UploadedFile]) -> dict[str, Any]:
    return _expense_out(
        claims.receipt_attach(actor=request_actor(request), expense_id=expense_id, receipt=receipt)
    )


@router.post("/missions/claims/{claim_id}/pay", response=ClaimOut, summary="Pay a claim (receipts all in)")
def claim_pay(request: HttpRequest, claim_id: int) -> dict[str, Any]:
    return claim_out(claims.claim_pay(actor=request_actor(request), claim_id=claim_id))


# --- bookings ------------------------------------------------------------------------------------


class ShuttleIn(Schema):
    code: str = Field(min_length=1, max_length=32)
    origin: str
    destination: str
    departs_at: dt.datetime
    seats: int


class ShuttleOut(Schema):
    code: str
    origin: str
    destination: str
    departs_at: dt.datetime
    seats: int
    left: int


def shuttle_out(s: Shuttle) -> dict[str, Any]:
    return {
        "code": s.code,
        "origin": s.origin.code,
        "destination": s.destination.code,
        "departs_at": s.departs_at,
        "seats": s.seats,
        "left": s.seats - s.seats_taken,
    }


@router.post("/missions/shuttles", response={201: ShuttleOut}, summary="Schedule a shuttle run")
def shuttle_schedule(request: HttpRequest, payload: ShuttleIn) -> Status[dict[str, Any]]:
    return Status(201, shuttle_out(bookings.shuttle_schedule(actor=request_actor(request), **payload.dict())))


@router.get("/missions/shuttles", response=list[ShuttleOut], summary="Shuttle runs from a day on")
def shuttle_list(request: HttpRequest, date: dt.date | None = None) -> list[dict[str, Any]]:
    return [shuttle_out(s) for s in bookings.shuttles_from(request_actor(request), date)]


class BookingIn(Schema):
    kind: Literal["train", "shuttle", "hotel"]
    traveller: str = Field(default="", description="user name; the caller by default")
    shuttle: str = Field(default="", description="the run's code, for a shuttle seat")
    first_day: dt.date | None = None
    nights: int = 0
    details: str = Field(default="", max_length=200)


class BookingOut(Schema):
    id: int
    order: str
    traveller: str
    kind: str
    shuttle: str | None
    first_day: dt.date
    nights: int
    details: str
    reference: str
    status: str


def booking_out(b: Booking) -> dict[str, Any]:
    return {
        "id": b.pk,
        "order": b.order.code,
        "traveller": b.traveller.user.get_username(),
        "kind": b.kind,
        "shuttle": b.shuttle.code if b.shuttle else None,
        "first_day": b.first_day,
        "nights": b.nights,
        "details": b.details,
        "reference": b.reference,
        "status": b.status,
    }


@router.post("/missions/orders/{code}/bookings", response={201: BookingOut}, summary="Request a booking")
def booking_request(request: HttpRequest, code: str, payload: BookingIn) -> Status[dict[str, Any]]:
    actor = request_actor(request)
    if payload.kind == "shuttle":
        made = bookings.shuttle_seat_book(
            actor=actor, code=code, shuttle=payload.shuttle, traveller=payload.traveller
        )
    else:
        made = bookings.booking_request(
            actor=actor,
            code=code,
            kind=payload.kind,
            first_day=bookings.day_required(payload.first_day),
            nights=payload.nights,
            details=payload.details,
            traveller=payload.traveller,
        )
    return Status(201, booking_out(made))


class BookingDecisionIn(Schema):
    confirm: bool
    reference: str = Field(default="", max_length=64)


@router.post("/missions/bookings/{booking_id}/decision", response=BookingOut, summary="Confirm or cancel")
def booking_decide(request: HttpRequest, booking_id: int, payload: BookingDecisionIn) -> dict[str, Any]:
    made = bookings.booking_decide(actor=request_actor(request), booking_id=booking_id, **payload.dict())
    return booking_out(made)


# reception and calendar routes live in api_reception.py
router.add_router("", reception_router)
