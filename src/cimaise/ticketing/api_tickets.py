"""What an entrance agent syncs to check tickets offline: the public keys that sign codes, and
the revoked codes, as an incremental feed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from cimaise.core.access import own_institution, require_permission
from cimaise.core.auth import request_actor
from cimaise.core.errors import PermissionDenied
from cimaise.core.models import SigningKey
from cimaise.ticketing.codes import key_tag
from cimaise.ticketing.models import Revocation
from cimaise.ticketing.roles_tickets import VIEW_REVOCATIONS
from cimaise.ticketing.tickets import revocations_since, ticket_keys

router = Router(tags=["ticketing"])
FEED_MAX = 1000


class KeyOut(Schema):
    kid: str
    tag: str = Field(description="the 4-byte key tag codes carry, hex")
    algorithm: str
    public_key: str = Field(description="raw Ed25519 public key, base64url")
    created_at: dt.datetime
    retired_at: dt.datetime | None


class KeysOut(Schema):
    keys: list[KeyOut]


class FeedParams(Schema):
    since: int = Field(0, ge=0, description="the cursor of the last revocation already held")
    limit: int = Field(500, ge=1, le=FEED_MAX, description=f"revocations per page, at most {FEED_MAX}")


class RevocationOut(Schema):
    cursor: int
    code_id: str
    reason: str
    revoked_at: dt.datetime


class FeedOut(Schema):
    revocations: list[RevocationOut]
    next: int = Field(description="pass it as since= next time (unchanged when nothing is new)")
    more: bool = Field(description="true when more revocations wait after this page")


def _key_out(key: SigningKey) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "tag": key_tag(key.kid).hex(),
        "algorithm": "Ed25519",
        "public_key": key.public_key,
        "created_at": key.created_at,
        "retired_at": key.retired_at,
    }


def _revocation_out(row: Revocation) -> dict[str, Any]:
    return {"cursor": row.pk, "code_id": row.code_id, "reason": row.reason, "revoked_at": row.revoked_at}


@router.get("/ticketing/keys", response=KeysOut, summary="Public keys that sign ticket codes")
def keys(request: HttpRequest) -> dict[str, Any]:
    actor = request_actor(request)
    institution = own_institution(actor)
    if not actor.roles and not actor.user.is_staff:
        raise PermissionDenied("only the institution's staff read its keys")
    return {"keys": [_key_out(key) for key in ticket_keys(institution=institution)]}


@router.get("/ticketing/revocations", response=FeedOut, summary="Revoked ticket codes, incrementally")
def revocations(request: HttpRequest, params: Query[FeedParams]) -> dict[str, Any]:
    actor = request_actor(request)
    institution = own_institution(actor)
    require_permission(actor, VIEW_REVOCATIONS)
    rows = revocations_since(institution=institution, since=params.since, limit=params.limit + 1)
    page = rows[: params.limit]
    return {
        "revocations": [_revocation_out(row) for row in page],
        "next": page[-1].pk if page else params.since,
        "more": len(rows) > params.limit,
    }
