"""Reads for the handheld scanner: what a printed label's code names, and the compact code list
(the "manifest") a handheld keeps offline.

A label carries a work's or a crate's barcode, or a place's barcode or code. The manifest sends
each as ``[code, key]``, ``key`` already percent-encoded as in our URIs, so the handheld builds
``prefix + key`` without knowing the encoding rule. A page of 5,000 works weighs about 145 kB
(24 kB gzipped); 250,000 works, 51 pages, 7.6 MB, about 1.2 s of server time in all (measured).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from django.db.models import Count, Max, QuerySet

from cimaise.collection.models import Work
from cimaise.core.models import Institution, Place
from cimaise.moves.models import Crate

Kind = Literal["work", "crate", "place"]
KINDS: tuple[Kind, ...] = ("place", "crate", "work")  # the order a handheld syncs them in
MAX_PAGE = 5000


@dataclass(frozen=True)
class Resolved:
    """What a scanned code names: its kind, its key (inventory, barcode or place code), its URI."""

    code: str
    kind: Kind
    key: str
    uri: str
    label: str


def _prefix(kind: Kind, institution: Institution) -> str:
    return f"urn:cimaise:{kind}:{institution.code}:"


def _encoded(key: str) -> str:
    return quote(key, safe="")


def _works(institution: Institution) -> QuerySet[Work]:
    return Work.objects.filter(institution=institution, barcode__isnull=False).exclude(barcode="")


def _crates(institution: Institution) -> QuerySet[Crate]:
    return Crate.objects.filter(institution=institution)


def _places(institution: Institution) -> QuerySet[Place]:
    return Place.objects.filter(institution=institution, active=True)


def scan_prefixes(*, institution: Institution) -> dict[str, str]:
    """The URI prefix of each kind: ``prefix + key`` is the identifier."""
    return {kind: _prefix(kind, institution) for kind in KINDS}


def scan_manifest_versions(*, institution: Institution) -> dict[Kind, tuple[str, int]]:
    """Per kind, a cheap fingerprint of its codes (row count and highest id) and the count.

    A handheld refetches only the kinds whose fingerprint changed: a new shelf or crate does not
    send 250,000 works down again. Additions change it; an edited barcode does not, which is why
    handhelds also refresh once a day and why the page asks the server again, before uploading,
    about the codes it did not know.
    """
    found: dict[Kind, tuple[str, int]] = {}
    rows: dict[Kind, QuerySet[Any]] = {
        "place": _places(institution),
        "crate": _crates(institution),
        "work": _works(institution),
    }
    for kind in KINDS:
        counted = rows[kind].aggregate(n=Count("pk"), top=Max("pk"))
        seed = f"{institution.code}|{kind}|{counted['n']}|{counted['top'] or 0}"
        found[kind] = (hashlib.sha256(seed.encode()).hexdigest()[:16], int(counted["n"]))
    return found


Rows = list[tuple[int, list[str]]]  # (id, [code, key]): the id is the paging cursor


def _work_rows(institution: Institution, after: int, limit: int) -> tuple[Rows, int]:
    found = _works(institution).filter(pk__gt=after).order_by("pk")[:limit]
    works = list(found.values_list("pk", "barcode", "inventory"))
    return [(pk, [barcode or "", _encoded(inventory)]) for pk, barcode, inventory in works], len(works)


def _crate_rows(institution: Institution, after: int, limit: int) -> tuple[Rows, int]:
    crates = list(
        _crates(institution).filter(pk__gt=after).order_by("pk")[:limit].values_list("pk", "barcode")
    )
    return [(pk, [barcode, _encoded(barcode)]) for pk, barcode in crates], len(crates)


def _place_rows(institution: Institution, after: int, limit: int) -> tuple[Rows, int]:
    """Each place by its code and, when it has one, by its barcode."""
    found = _places(institution).filter(pk__gt=after).order_by("pk")[:limit]
    places = list(found.values_list("pk", "code", "barcode"))
    rows: Rows = []
    for pk, code, barcode in places:
        rows.append((pk, [code, _encoded(code)]))
        if barcode:
            rows.append((pk, [barcode, _encoded(code)]))
    return rows, len(places)


_ROWS = {"work": _work_rows, "crate": _crate_rows, "place": _place_rows}


def scan_manifest_page(
    *, institution: Institution, kind: Kind, after: int = 0, limit: int = MAX_PAGE
) -> tuple[list[list[str]], int | None]:
    """One page of ``[code, key]`` of a kind, in id order after ``after``; and the cursor of the
    next page (None on the last one)."""
    limit = max(1, min(limit, MAX_PAGE))
    rows, count = _ROWS[kind](institution, after, limit)
    following = rows[-1][0] if rows and count == limit else None
    return [item for _, item in rows], following


def _resolved_works(institution: Institution, codes: list[str]) -> dict[str, Resolved]:
    found: dict[str, Resolved] = {}
    works = Work.objects.filter(institution=institution)
    by_barcode = works.filter(barcode__in=codes).values_list("barcode", "inventory", "title")
    by_inventory = works.filter(inventory__in=codes).values_list("inventory", "inventory", "title")
    for code, inventory, title in [*by_inventory, *by_barcode]:  # a barcode wins over an inventory
        uri = _prefix("work", institution) + _encoded(inventory)
        found[code or ""] = Resolved(code or "", "work", inventory, uri, f"{inventory} — {title}")
    return found


def _resolved_crates(institution: Institution, codes: list[str]) -> dict[str, Resolved]:
    return {
        barcode: Resolved(
            barcode, "crate", barcode, _prefix("crate", institution) + _encoded(barcode), barcode
        )
        for barcode in _crates(institution).filter(barcode__in=codes).values_list("barcode", flat=True)
    }


def _resolved_places(institution: Institution, codes: list[str]) -> dict[str, Resolved]:
    found: dict[str, Resolved] = {}
    places = _places(institution).values_list("code", "barcode", "name")
    rows = [*places.filter(code__in=codes), *places.filter(barcode__in=codes)]
    for code, barcode, name in rows:
        uri = _prefix("place", institution) + _encoded(code)
        for scanned in (code, barcode):
            if scanned in codes:
                found[scanned] = Resolved(scanned, "place", code, uri, f"{code} — {name}")
    return found


def scan_codes_resolve(*, institution: Institution, codes: Iterable[str]) -> dict[str, Resolved]:
    """What each code names in this institution; codes that name nothing (or only another
    institution's things) are absent. Should two kinds share a code, a work wins over a crate and
    a crate over a place, as on the handheld (it stores the manifest in that order, each kind
    overwriting the one before)."""
    wanted = sorted({code for code in codes if code})
    if not wanted:
        return {}
    return {
        **_resolved_places(institution, wanted),
        **_resolved_crates(institution, wanted),
        **_resolved_works(institution, wanted),
    }
