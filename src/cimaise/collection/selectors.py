"""Reads of the registry of works."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from cimaise.collection.models import Work
from cimaise.core.models import Institution, Place


def work_search(
    *,
    institution: Institution,
    q: str = "",
    department: str = "",
    place: Place | None = None,
) -> QuerySet[Work]:
    """Works by inventory number, barcode, title or artist, department, and normal place (with
    everything under it)."""
    works = Work.objects.filter(institution=institution).select_related("institution", "normal_place")
    if q:
        works = works.filter(
            Q(inventory__iexact=q)
            | Q(barcode=q)
            | Q(inventory__istartswith=q)
            | Q(title__icontains=q)
            | Q(artist__icontains=q)
        )
    if department:
        works = works.filter(department=department)
    if place is not None:
        works = works.filter(Q(normal_place=place) | Q(normal_place__path__startswith=f"{place.path}/"))
    return works.order_by("inventory")
