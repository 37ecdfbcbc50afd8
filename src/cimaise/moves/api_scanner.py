"""Scanner routes: the compact code list a handheld keeps offline, and code lookups.

People with the right to record custody (registrar, escort, reception, admin) read their own
institution's codes only; another institution's codes look absent.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import StringConstraints

from cimaise.core.access import own_institution, require_permission
from cimaise.core.auth import request_actor
from cimaise.core.models import Institution
from cimaise.moves.scanner import selectors
from cimaise.moves.scanner.selectors import MAX_PAGE, Kind

router = Router(tags=["scanner"])
SCAN_PERMISSION = "moves.add_custodyevent"
MAX_LOOKUP = 100


def _institution(request: HttpRequest) -> Institution:
    actor = request_actor(request)
    institution = own_institution(actor)
    require_permission(actor, SCAN_PERMISSION)
    return institution


class ManifestOut(Schema):
    institution: str
    versions: dict[str, str] = Field(description="per kind; changes when codes are added: refetch that kind")
    prefixes: dict[str, str] = Field(description="URI prefix per kind: prefix + key is the identifier")
    counts: dict[str, int]
    kinds: list[str] = Field(description="the kinds to fetch, in this order (later ones win a shared code)")
    pageSize: int  # noqa: N815


@router.get(
    "/scanner/manifest", response=ManifestOut, summary="What a handheld needs to resolve codes offline"
)
def scanner_manifest(request: HttpRequest) -> dict[str, Any]:
    institution = _institution(request)
    versions = selectors.scan_manifest_versions(institution=institution)
    return {
        "institution": institution.code,
        "versions": {kind: version for kind, (version, _) in versions.items()},
        "prefixes": selectors.scan_prefixes(institution=institution),
        "counts": {kind: count for kind, (_, count) in versions.items()},
        "kinds": list(selectors.KINDS),
        "pageSize": MAX_PAGE,
    }


class PageParams(Schema):
    after: int = Field(0, ge=0, description="the cursor: `next` of the previous page")
    limit: int = Field(MAX_PAGE, ge=1, le=MAX_PAGE)


class ManifestPageOut(Schema):
    kind: str
    items: list[list[str]] = Field(description="[code, key]: the key percent-encoded as in the URI")
    next: int | None = Field(description="cursor of the next page; null on the last one")


@router.get("/scanner/manifest/{kind}", response=ManifestPageOut, summary="One page of the codes of a kind")
def scanner_manifest_page(request: HttpRequest, kind: Kind, page: Query[PageParams]) -> dict[str, Any]:
    institution = _institution(request)
    items, following = selectors.scan_manifest_page(
        institution=institution, kind=kind, after=page.after, limit=page.limit
    )
    return {"kind": kind, "items": items, "next": following}


class LookupParams(Schema):
    code: list[Annotated[str, StringConstraints(max_length=300)]] = Field(
        min_length=1, max_length=MAX_LOOKUP, description="codes as scanned (repeat the parameter)"
    )


class ResolvedOut(Schema):
    code: str
    kind: str
    key: str
    uri: str
    label: str


class LookupOut(Schema):
    found: list[ResolvedOut]
    missing: list[str] = Field(description="codes that name nothing of this institution")


@router.get("/scanner/lookup", response=LookupOut, summary="What scanned codes name (works, crates, places)")
def scanner_lookup(request: HttpRequest, params: Query[LookupParams]) -> dict[str, Any]:
    institution = _institution(request)
    codes = list(dict.fromkeys(code.strip() for code in params.code))
    found = selectors.scan_codes_resolve(institution=institution, codes=codes)
    return {
        "found": [found[code] for code in codes if code in found],
        "missing": [c for c in codes if c not in found],
    }
