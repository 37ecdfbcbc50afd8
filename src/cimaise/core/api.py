"""Core routes: who am I, places, my API tokens."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import AwareDatetime

from cimaise.core import selectors, services
from cimaise.core.access import access_place, access_token, own_institution
from cimaise.core.auth import request_actor
from cimaise.core.models import ApiToken, Place
from cimaise.core.pagination import PageParams, page_schema, paginate

router = Router(tags=["core"])


class InstitutionOut(Schema):
    code: str
    name: str
    kind: str


class MeOut(Schema):
    username: str
    name: str
    email: str
    institution: InstitutionOut | None
    roles: list[str]
    via_token: bool


class HealthOut(Schema):
    status: str


@router.get("/health", response=HealthOut, auth=None, summary="Liveness: the process answers (no database)")
def health(request: HttpRequest) -> dict[str, str]:
    return {"status": "ok"}


@router.get("/me", response=MeOut, summary="The caller: user, institution, roles")
def me(request: HttpRequest) -> dict[str, Any]:
    actor = request_actor(request)
    inst = actor.institution
    return {
        "username": actor.user.get_username(),
        "name": actor.person.__str__() if actor.person else actor.user.get_username(),
        "email": getattr(actor.user, "email", ""),
        "institution": {"code": inst.code, "name": inst.name, "kind": inst.kind} if inst else None,
        "roles": sorted(actor.roles),
        "via_token": actor.token_prefix is not None,
    }


def place_ref(place: Place | None) -> dict[str, str] | None:
    """A place as other payloads cite it: ``{"code", "uri", "name"}``, or null."""
    return None if place is None else {"code": place.code, "uri": place.uri, "name": place.name}


class PlaceOut(Schema):
    code: str
    uri: str
    name: str
    kind: str
    site: str
    parent: str | None
    path: str
    barcode: str | None
    inner_cm: list[Decimal | None]
    load_limit_kg: Decimal | None


def place_out(place: Place) -> dict[str, Any]:
    return {
        "code": place.code,
        "uri": place.uri,
        "name": place.name,
        "kind": place.kind,
        "site": place.site.code,
        "parent": place.parent.code if place.parent else None,
        "path": place.path,
        "barcode": place.barcode,
        "inner_cm": [place.inner_width_cm, place.inner_depth_cm, place.inner_height_cm],
        "load_limit_kg": place.load_limit_kg,
    }


class PlaceFilter(PageParams):
    q: str | None = Field(None, max_length=100, description="code, name or barcode")
    parent: str | None = Field(None, max_length=64, description="only the children of this place")


@router.get("/places", response=page_schema(PlaceOut), summary="Places of the caller's institution")
def place_list(request: HttpRequest, filters: Query[PlaceFilter]) -> dict[str, Any]:
    actor = request_actor(request)
    institution = own_institution(actor)
    places = (
        selectors.place_search(institution=institution, q=filters.q)
        if filters.q
        else Place.objects.filter(institution=institution, active=True)
    ).select_related("site", "parent", "institution")
    if filters.parent:
        places = places.filter(parent=access_place(actor, filters.parent))
    if not actor.can("core.view_place"):
        places = places.none()
    return paginate(request, places.order_by("path"), filters, place_out)


@router.get("/places/{code}", response=PlaceOut, summary="One place")
def place_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    return place_out(access_place(request_actor(request), code))


class TokenOut(Schema):
    id: int
    label: str
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenIn(Schema):
    label: str = Field(..., min_length=1, max_length=200)
    expires_at: AwareDatetime | None = Field(None, description="with a time zone offset")


class TokenCreated(TokenOut):
    token: str = Field(..., description="the secret, shown this once")


def token_out(token: ApiToken) -> dict[str, Any]:
    return {
        f: getattr(token, f)
        for f in ("id", "label", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    }


@router.get("/tokens", response=list[TokenOut], summary="The caller's API tokens")
def token_list(request: HttpRequest) -> list[dict[str, Any]]:
    actor = request_actor(request)
    return [token_out(t) for t in selectors.tokens_of(user_id=actor.user.pk)]


@router.post("/tokens", response={201: TokenCreated}, summary="Issue a token for the caller")
def token_create(request: HttpRequest, payload: TokenIn) -> Status[dict[str, Any]]:
    actor = request_actor(request)
    issued = services.token_create(
        user=actor.user,
        label=payload.label,
        actor=actor.label,
        expires_at=payload.expires_at,
    )
    return Status(201, {**token_out(issued.token), "token": issued.raw})


@router.delete("/tokens/{token_id}", response=TokenOut, summary="Revoke a token")
def token_revoke(request: HttpRequest, token_id: int) -> dict[str, Any]:
    actor = request_actor(request)
    token = services.token_revoke(actor=actor, token=access_token(actor, token_id))
    return token_out(token)
