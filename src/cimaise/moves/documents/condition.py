"""The condition report ("constat d'état"), A4: a work's identification, then one examination
(before departure or after arrival) or both side by side with what changed.

It renders from :class:`ConditionReportView`, a plain typed value, so that it does not depend on
how condition reports are stored. From the ``ConditionReport`` model, one examination is::

    Examination(
        phase=Phase(report.phase), overall=Overall(report.overall),
        examiner=report.examiner, examined_at=report.examined_at, notes=report.notes,
        alterations=tuple(Alteration(a["zone"], a.get("kind", ""), a.get("description", ""))
                          for a in report.alterations),
        photos=tuple(Photo(p.name, p.sha256) for p in report.photos.all()),
    )
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cimaise.collection.models import Department, Fragility, Work
from cimaise.moves.documents.codes import qr_svg
from cimaise.moves.documents.pdf import language, render_pdf

TEMPLATE = "moves/documents/condition_report.html"


class Phase(enum.StrEnum):
    """When the work was examined (the values of ``ConditionReport.Phase``)."""

    BEFORE = "before"
    AFTER = "after"

    @property
    def label(self) -> str:
        return str(_PHASES[self])


class Overall(enum.IntEnum):
    """The overall state, from good to critical (the values of ``ConditionReport.Overall``)."""

    GOOD = 1
    FAIR = 2
    POOR = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return str(_OVERALLS[self])


_PHASES = {Phase.BEFORE: gettext_lazy("Before departure"), Phase.AFTER: gettext_lazy("After arrival")}
_OVERALLS = {
    Overall.GOOD: gettext_lazy("Good"),
    Overall.FAIR: gettext_lazy("Fair"),
    Overall.POOR: gettext_lazy("Poor"),
    Overall.CRITICAL: gettext_lazy("Critical"),
}


@dataclass(frozen=True)
class Alteration:
    """Something seen on one zone of the work (a crack on the lower left corner, a lifted flake…)."""

    zone: str
    kind: str
    description: str = ""


@dataclass(frozen=True)
class Photo:
    name: str
    sha256: str
    zone: str = ""


@dataclass(frozen=True)
class Examination:
    phase: Phase
    overall: Overall
    examiner: str
    examined_at: dt.datetime
    alterations: tuple[Alteration, ...] = ()
    photos: tuple[Photo, ...] = ()
    notes: str = ""


@dataclass(frozen=True)
class WorkIdentity:
    """The work as the report identifies it; :func:`work_identity` fills it from a ``Work``.
    Department and fragility are codes, named in the language the report is printed in."""

    inventory: str
    title: str
    uri: str
    department: str = ""
    artist: str = ""
    date_text: str = ""
    materials: str = ""
    height_cm: Decimal | None = None
    width_cm: Decimal | None = None
    depth_cm: Decimal | None = None
    weight_kg: Decimal | None = None
    fragility: str = ""

    @property
    def department_label(self) -> str:
        return (
            str(Department(self.department).label)
            if self.department in Department.values
            else self.department
        )

    @property
    def fragility_label(self) -> str:
        return str(Fragility(self.fragility).label) if self.fragility in Fragility.values else self.fragility

    @property
    def has_size(self) -> bool:
        return any(size is not None for size in (self.height_cm, self.width_cm, self.depth_cm))


@dataclass(frozen=True)
class ConditionReportView:
    """What the condition report shows: the work, one or two examinations, and the convoy."""

    work: WorkIdentity
    examinations: Sequence[Examination]
    convoy_code: str = ""
    printed_at: dt.datetime = field(default_factory=timezone.now)

    def examination(self, phase: Phase) -> Examination | None:
        """The latest examination of this phase, if any."""
        found = [e for e in self.examinations if e.phase == phase]
        return max(found, key=lambda e: e.examined_at) if found else None


def work_identity(work: Work) -> WorkIdentity:
    return WorkIdentity(
        inventory=work.inventory,
        title=work.title,
        uri=work.uri,
        department=work.department,
        artist=work.artist,
        date_text=work.date_text,
        materials=work.materials,
        height_cm=work.height_cm,
        width_cm=work.width_cm,
        depth_cm=work.depth_cm,
        weight_kg=work.weight_kg,
        fragility=work.fragility,
    )


@dataclass(frozen=True)
class ZoneChange:
    """One zone compared: what was seen before departure and after arrival."""

    zone: str
    before: list[Alteration]
    after: list[Alteration]

    @property
    def new(self) -> list[Alteration]:
        """Alterations after arrival of a kind not seen on this zone before departure."""
        seen = {a.kind.casefold() for a in self.before}
        return [a for a in self.after if a.kind.casefold() not in seen]


@dataclass(frozen=True)
class Comparison:
    before: Examination
    after: Examination
    zones: list[ZoneChange]

    @property
    def worsened(self) -> bool:
        return self.after.overall > self.before.overall or any(zone.new for zone in self.zones)

    @property
    def verdict(self) -> str:
        if self.worsened:
            return _("Changed since departure: new or worse alterations.")
        return _("No change since departure.")


def comparison(view: ConditionReportView) -> Comparison | None:
    """Before against after, zone by zone (zones in the order first seen), when both exist."""
    before, after = view.examination(Phase.BEFORE), view.examination(Phase.AFTER)
    if before is None or after is None:
        return None
    zones = list(dict.fromkeys(a.zone for a in before.alterations + after.alterations))
    return Comparison(
        before=before,
        after=after,
        zones=[
            ZoneChange(
                zone,
                [a for a in before.alterations if a.zone == zone],
                [a for a in after.alterations if a.zone == zone],
            )
            for zone in zones
        ],
    )


def condition_report_pdf(view: ConditionReportView, *, lang: str | None = None) -> bytes:
    """The condition report as PDF; ``lang`` None keeps the active language."""
    with language(lang):
        examinations = [e for phase in Phase if (e := view.examination(phase)) is not None]
        context = {
            "report": view,
            "examinations": examinations,
            "comparison": comparison(view),
            "qr": qr_svg(view.work.uri, size_mm=22) if view.work.uri else None,
        }
        return render_pdf(TEMPLATE, context)
