"""What several documents show the same way: a work's line, its target shelf, handling
pictograms, the codes of an identifier, names from JSON lists."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from cimaise.collection.models import Fragility, Work
from cimaise.core.models import Institution, Place
from cimaise.moves.documents.codes import code128_encodable, code128_svg, qr_svg
from cimaise.moves.models import Assignment

_FRAGILITY_ORDER = [Fragility.LOW, Fragility.MEDIUM, Fragility.HIGH, Fragility.EXTREME]


@dataclass(frozen=True)
class WorkLine:
    """A work as a document lists it; ``target`` is its destination shelf code ("" if none)."""

    inventory: str
    title: str
    department: str
    fragility: str
    target: str


def work_line(work: Work, targets: dict[int, Place]) -> WorkLine:
    target = targets.get(work.pk)
    return WorkLine(
        inventory=work.inventory,
        title=work.title,
        department=str(work.get_department_display()),
        fragility=str(work.get_fragility_display()),
        target=target.code if target else "",
    )


def targets(institution: Institution, work_ids: Iterable[int], programme_id: int | None) -> dict[int, Place]:
    """Each work's target shelf: in this programme, or else in an active one."""
    rows = Assignment.objects.filter(
        work_id__in=sorted(set(work_ids)), programme__institution=institution
    ).select_related("target")
    rows = rows.filter(programme_id=programme_id) if programme_id else rows.filter(programme__active=True)
    return {row.work_id: row.target for row in rows}


@dataclass(frozen=True)
class Codes:
    """The codes printed for an identifier: Code 128 of its key (what a handheld types in), QR of
    its URI. ``code128`` is None for a key Code 128 cannot carry."""

    key: str
    uri: str
    code128: SafeString | None
    qr: SafeString


def codes(
    key: str,
    uri: str,
    *,
    max_width_mm: float,
    qr_mm: float,
    bar_height_mm: float = 15,
    module_mm: float = 0.4,
) -> Codes:
    bars = None
    if code128_encodable(key):
        bars = code128_svg(key, module_mm=module_mm, height_mm=bar_height_mm, max_width_mm=max_width_mm)
    return Codes(key=key, uri=uri, code128=bars, qr=qr_svg(uri, size_mm=qr_mm))


@dataclass(frozen=True)
class Pictogram:
    """A handling mark as text (ISO 780 in spirit): a symbol and what it asks."""

    symbol: str
    text: str


def pictograms(works: Sequence[Work]) -> list[Pictogram]:
    """This way up, keep dry, the transport climate, fragility, and each work's handling and
    hazard notes."""
    marks = [
        Pictogram("⇈", _("This way up")),
        Pictogram("☂", _("Keep dry")),
        Pictogram("℃", _("Keep at 18–20 °C, 50–55 % RH")),
    ]
    ranks = [_FRAGILITY_ORDER.index(Fragility(w.fragility)) for w in works if w.fragility in Fragility.values]
    worst = _FRAGILITY_ORDER[max(ranks)] if ranks else None
    if worst in (Fragility.HIGH, Fragility.EXTREME):
        marks.append(Pictogram("⚠", _("Fragile, handle with care: %(level)s") % {"level": worst.label}))
    marks += [Pictogram("☞", f"{w.inventory}: {w.handling_notes}") for w in works if w.handling_notes]
    marks += [Pictogram("☣", f"{w.inventory}: {w.hazard_notes}") for w in works if w.hazard_notes]
    return marks


def names(values: Any) -> list[str]:
    """A JSON list of names or numbers (drivers, seals) as clean strings; anything else: none."""
    if not isinstance(values, list):
        return []
    return [str(v).strip() for v in values if isinstance(v, str | int) and str(v).strip()]
