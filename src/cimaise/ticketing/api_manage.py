"""The ticketing manager's API: open slots from the opening hours, edit capacities in bulk,
close slots, and find orders for the desk."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from cimaise.core.access import own_institution, require_permission
from cimaise.core.auth import request_actor
from cimaise.ticketing import capacity, selectors
from cimaise.ticketing.api import MAX_ID, OrderOut, order_out
from cimaise.ticketing.capacity import MAX_CAPACITY

router = Router(tags=["ticketing (staff)"])


class GenerateIn(Schema):
    product: str
    entrances: list[str]
    first_day: dt.date
    last_day: dt.date
    slot_capacity: int = Field(ge=0)
    entrance_capacity: int = Field(ge=0, description="per half-hour at each entrance, shared by products")
    exhibition_capacity: int | None = Field(
        None, ge=0, description="per half-hour, shared by the exhibition's products"
    )
    minutes: Literal[15, 20, 30, 60] = 30


class GenerateOut(Schema):
    created: int
    existing: int


@router.post("/ticketing/slots/generate", response=GenerateOut, summary="Open slots from the opening hours")
def slots_generate(request: HttpRequest, payload: GenerateIn) -> dict[str, Any]:
    result = capacity.slots_generate(actor=request_actor(request), plan=capacity.SlotPlan(**payload.dict()))
    return {"created": result.created, "existing": result.existing}


class CapacityIn(Schema):
    kind: Literal["slot", "entrance", "exhibition"]
    first_day: dt.date
    last_day: dt.date
    capacity: int = Field(ge=0, le=MAX_CAPACITY)
    entrance: str | None = None
    product: str | None = None
    from_time: dt.time | None = None
    to_time: dt.time | None = None


class CapacityOut(Schema):
    changed: int


@router.post("/ticketing/capacity", response=CapacityOut, summary="Set capacities in bulk")
def capacity_set(request: HttpRequest, payload: CapacityIn) -> dict[str, int]:
    changed = capacity.capacity_set(
        actor=request_actor(request), edit=capacity.CapacityEdit(**payload.dict())
    )
    return {"changed": changed}


class CloseIn(Schema):
    slots: list[Annotated[int, Field(ge=1, le=MAX_ID)]]
    closed: bool = True
    reason: str = ""


@router.post(
    "/ticketing/slots/close", response=CapacityOut, summary="Close slots to sale, or open them again"
)
def slots_close(request: HttpRequest, payload: CloseIn) -> dict[str, int]:
    count = capacity.slots_close(
        actor=request_actor(request), slot_ids=payload.slots, closed=payload.closed, reason=payload.reason
    )
    return {"changed": count}


class OrderSearch(Schema):
    q: str = Field("", description="an order code, an e-mail address or a name")


@router.get("/ticketing/orders", response=list[OrderOut], summary="Find orders (the desk)")
def orders_search(request: HttpRequest, query: Query[OrderSearch]) -> list[dict[str, Any]]:
    actor = request_actor(request)
    require_permission(actor, "ticketing.view_order")
    found = selectors.orders_search(institution=own_institution(actor), q=query.q)
    return [order_out(order) for order in found]
