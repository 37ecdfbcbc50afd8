"""Core reads."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from cimaise.core.models import ApiToken, Institution, Person, Place, Site


def place_children(
    *, institution: Institution, parent: Place | None, site: Site | None = None
) -> QuerySet[Place]:
    """Direct children of a place (or the top places of a site), with their child counts."""
    places = Place.objects.filter(institution=institution, parent=parent, active=True)
    if site is not None:
        places = places.filter(site=site)
    return places.annotate(child_count=Count("children")).order_by("path")


def place_ancestors(place: Place) -> list[Place]:
    """From the top of the tree down to the place's parent."""
    codes = place.path.split("/")[1:-1]
    by_code = {p.code: p for p in Place.objects.filter(institution_id=place.institution_id, code__in=codes)}
    return [by_code[c] for c in codes if c in by_code]


@dataclass(frozen=True)
class SiteSummary:
    site: Site
    places: int
    shelves: int


def site_summaries(*, institution: Institution) -> list[SiteSummary]:
    sites = Site.objects.filter(institution=institution).annotate(
        n_places=Count("places", filter=Q(places__active=True)),
        n_shelves=Count("places", filter=Q(places__kind=Place.Kind.SHELF, places__active=True)),
    )
    return [SiteSummary(site=s, places=s.n_places, shelves=s.n_shelves) for s in sites]


def people_by_role(*, institution: Institution) -> list[tuple[str, int]]:
    rows = (
        Person.objects.filter(institution=institution, user__is_active=True)
        .values("user__groups__name")
        .annotate(n=Count("id"))
        .order_by("user__groups__name")
    )
    return [(r["user__groups__name"], r["n"]) for r in rows if r["user__groups__name"]]


def tokens_of(*, user_id: int) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user_id=user_id).order_by("-created_at")


def place_search(*, institution: Institution, q: str) -> QuerySet[Place]:
    """Active places whose code or name contains ``q``, or whose barcode is ``q``; unsliced."""
    return (
        Place.objects.filter(institution=institution, active=True)
        .filter(Q(code__icontains=q) | Q(name__icontains=q) | Q(barcode=q))
        .order_by("path")
    )
