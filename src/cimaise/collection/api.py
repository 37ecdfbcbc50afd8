"""Routes of the registry: ``GET /works`` and ``GET /works/{inventory}``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from cimaise.collection.access import access_work
from cimaise.collection.models import Department, Work
from cimaise.collection.selectors import work_search
from cimaise.core.access import access_place, own_institution
from cimaise.core.auth import request_actor
from cimaise.core.pagination import PageParams, page_schema, paginate

router = Router(tags=["collection"])


class PlaceRef(Schema):
    code: str
    uri: str
    name: str


class WorkOut(Schema):
    uri: str
    inventory: str
    title: str
    department: str
    artist: str
    date: str
    status: str | None = Field(None, description="from custody events; null until the work has moved")
    place: PlaceRef | None = Field(None, description="current place from custody; null when unknown")
    normal_place: PlaceRef | None
    dimensions_cm: list[Decimal | None]
    weight_kg: Decimal | None
    fragility: str
    barcode: str | None


def _place(place: Any) -> dict[str, str] | None:
    return None if place is None else {"code": place.code, "uri": place.uri, "name": place.name}


def work_out(work: Work) -> dict[str, Any]:
    return {
        "uri": work.uri,
        "inventory": work.inventory,
        "title": work.title,
        "department": work.department,
        "artist": work.artist,
        "date": work.date_text,
        "status": None,
        "place": None,
        "normal_place": _place(work.normal_place),
        "dimensions_cm": [work.height_cm, work.width_cm, work.depth_cm],
        "weight_kg": work.weight_kg,
        "fragility": work.fragility,
        "barcode": work.barcode,
    }


class WorkFilter(PageParams):
    q: str = Field("", max_length=100, description="inventory number, barcode, title or artist")
    department: Department | None = None
    place: str | None = Field(None, max_length=64, description="a place code: works normally there or below")


@router.get("/works", response=page_schema(WorkOut), summary="Works of the caller's institution")
def work_list(request: HttpRequest, filters: Query[WorkFilter]) -> dict[str, Any]:
    actor = request_actor(request)
    institution = own_institution(actor)
    place = access_place(actor, filters.place) if filters.place else None
    works = work_search(
        institution=institution, q=filters.q.strip(), department=filters.department or "", place=place
    )
    if not actor.can("collection.view_work"):
        works = works.none()
    return paginate(request, works, filters, work_out)


@router.get("/works/{inventory}", response=WorkOut, summary="One work")
def work_detail(request: HttpRequest, inventory: str) -> dict[str, Any]:
    return work_out(access_work(request_actor(request), inventory))
