"""The crate label (100 × 150 mm): what is in the crate, where it goes, how to handle it, and
its codes, for the people who carry it and the handhelds that scan it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F
from django.utils import timezone

from cimaise.collection.models import Work
from cimaise.moves.documents.pdf import language, render_pdf
from cimaise.moves.documents.shared import Codes, Pictogram, WorkLine, codes, pictograms, targets, work_line
from cimaise.moves.models import Convoy, ConvoyItem, ConvoyState, Crate, ObjectState

TEMPLATE = "moves/documents/crate_label.html"
LABEL_WIDTH_MM = 100
LABEL_MARGIN_MM = 4


@dataclass(frozen=True)
class CrateLabel:
    crate: Crate
    codes: Codes
    convoy: Convoy | None
    works: list[WorkLine]
    shelves: list[str]
    pictograms: list[Pictogram]
    printed_at: dt.datetime


def label_convoy(crate: Crate) -> Convoy | None:
    """The convoy the crate is for now: the earliest not yet closed whose manifest names it."""
    items = (
        ConvoyItem.objects.filter(crate=crate)
        .exclude(convoy__state=ConvoyState.CLOSED)
        .select_related("convoy__institution", "convoy__destination")
        .order_by(F("convoy__planned_departure").asc(nulls_last=True), "convoy_id")
    )
    item = items.first()
    return item.convoy if item else None


def _works(crate: Crate, convoy: Convoy | None) -> list[Work]:
    """Works planned in this crate on that convoy, and works inside it now."""
    planned = Work.objects.none()
    if convoy is not None:
        planned = Work.objects.filter(
            pk__in=ConvoyItem.objects.filter(convoy=convoy, crate=crate).values("work")
        )
    inside = ObjectState.objects.filter(
        institution=crate.institution, container=crate.uri, work__isnull=False
    ).values("work")
    return list((planned | Work.objects.filter(pk__in=inside)).distinct().order_by("inventory"))


def crate_label(crate: Crate, *, convoy: Convoy | None = None, now: dt.datetime | None = None) -> CrateLabel:
    """The label of a crate for ``convoy`` (by default the convoy it is for now), in the active
    language."""
    convoy = convoy or label_convoy(crate)
    works = _works(crate, convoy)
    shelves = targets(crate.institution, [w.pk for w in works], convoy.programme_id if convoy else None)
    lines = [work_line(work, shelves) for work in works]
    return CrateLabel(
        crate=crate,
        codes=codes(
            crate.barcode,
            crate.uri,
            max_width_mm=LABEL_WIDTH_MM - 2 * LABEL_MARGIN_MM,
            qr_mm=30,
            module_mm=0.5,
        ),
        convoy=convoy,
        works=lines,
        shelves=sorted({line.target for line in lines if line.target}),
        pictograms=pictograms(works),
        printed_at=now or timezone.now(),
    )


def crate_label_pdf(
    crate: Crate, *, convoy: Convoy | None = None, lang: str | None = None, now: dt.datetime | None = None
) -> bytes:
    """The crate label as PDF; ``lang`` None keeps the active language."""
    with language(lang):
        return render_pdf(TEMPLATE, {"label": crate_label(crate, convoy=convoy, now=now)})
