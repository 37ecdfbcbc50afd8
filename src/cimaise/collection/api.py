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
from cimaise.core.api import place_ref
from cimaise.core.auth import request_actor
from cimaise.core.pagination import PageParams, page_schema, paginate
from cimaise.moves.models import Status
from cimaise.moves.selectors import work_ids_with_status, work_states

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


def work_out(work: Work, state: Any = None) -> dict[str, Any]:
    """A work; ``state`` is its custody state (``moves.selectors.work_states``), if any."""
    return {
        "uri": work.uri,
        "inventory": work.inventory,
        "title": work.title,
        "department": work.department,
        "artist": work.artist,
        "date": work.date_text,
        "status": (state.status or None) if state is not None else None,
        "place": place_ref(state.place) if state is not None else None,
        "normal_place": place_ref(work.normal_place),
        "dimensions_cm": [work.height_cm, work.width_cm, work.depth_cm],
        "weight_kg": work.weight_kg,
        "fragility": work.fragility,
        "barcode": work.barcode,
    }


class WorkFilter(PageParams):
    q: str = Field("", max_length=100, description="inventory number, barcode, title or artist")
    department: Department | None = None
    place: str | None = Field(None, max_length=64, description="a place code: works normally there or below")
    status: Status | None = Field(None, description="custody status")


@router.get("/works", response=page_schema(WorkOut), summary="Works of the caller's institution")
def work_list(request: HttpRequest, filters: Query[WorkFilter]) -> dict[str, Any]:
    actor = request_actor(request)
    institution = own_institution(actor)
    place = access_place(actor, filters.place) if filters.place else None
    works = work_search(
        institution=institution, q=filters.q.strip(), department=filters.department or "", place=place
    )
    if filters.status:
        works = works.filter(pk__in=work_ids_with_status(institution, filters.status))
    if not actor.can("collection.view_work"):
        works = works.none()
    page = paginate(request, works, filters, lambda work: work)
    states = work_states(institution, [work.pk for work in page["items"]])
    page["items"] = [work_out(work, states.get(work.pk)) for work in page["items"]]
    return page


@router.get("/works/{inventory}", response=WorkOut, summary="One work")
def work_detail(request: HttpRequest, inventory: str) -> dict[str, Any]:
    work = access_work(request_actor(request), inventory)
    return work_out(work, work_states(work.institution, [work.pk]).get(work.pk))
