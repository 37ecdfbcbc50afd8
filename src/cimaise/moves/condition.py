"""Condition reports ("constats d'état") before departure and after arrival.

A report records the work's overall state and its alterations zone by zone, stores its photos
under their SHA-256, records an EPCIS ``inspecting`` event (so custody knows the work was
checked) and a fact. An after-arrival report is compared with the last before-departure one:
new damage (a zone and kind of alteration not seen before, or a worse overall state) opens a
``damage`` incident.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from cimaise.collection.models import Work
from cimaise.core.access import require_permission
from cimaise.core.actors import Actor
from cimaise.core.errors import InvalidInput
from cimaise.ledger.services import FactDraft, facts_append
from cimaise.moves import facts
from cimaise.moves.epcis import parse_payload
from cimaise.moves.models import ConditionPhoto, ConditionReport, Convoy, Incident
from cimaise.moves.services import custody_record

MAX_PHOTO_BYTES = 20 * 1024 * 1024
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic")


@dataclass(frozen=True)
class Photo:
    name: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Alteration:
    zone: str
    kind: str
    description: str = ""


def _alterations(raw: Any) -> list[Alteration]:
    if not isinstance(raw, list):
        raise InvalidInput("alterations is a list of {zone, kind, description}", field="alterations")
    found = []
    for i, item in enumerate(raw):
        if (
            not isinstance(item, dict)
            or not str(item.get("zone", "")).strip()
            or not str(item.get("kind", "")).strip()
        ):
            raise InvalidInput(f"alteration {i} needs a zone and a kind", field=f"alterations[{i}]")
        found.append(
            Alteration(str(item["zone"]).strip(), str(item["kind"]).strip(), str(item.get("description", "")))
        )
    return found


def _check_photos(photos: list[Photo]) -> None:
    for i, photo in enumerate(photos):
        if photo.content_type not in PHOTO_TYPES:
            raise InvalidInput(f"photo {i} must be one of {', '.join(PHOTO_TYPES)}", field=f"photos[{i}]")
        if not photo.content or len(photo.content) > MAX_PHOTO_BYTES:
            raise InvalidInput(f"photo {i} is empty or over 20 MB", field=f"photos[{i}]")


def condition_report_record(
    *,
    actor: Actor,
    work: Work,
    phase: str,
    overall: int,
    alterations: Any,
    notes: str = "",
    convoy: Convoy | None = None,
    photos: list[Photo] | None = None,
    now: dt.datetime | None = None,
) -> ConditionReport:
    """Record a condition report of ``work`` (see the module)."""
    require_permission(actor, "moves.add_conditionreport")
    if phase not in ConditionReport.Phase.values:
        raise InvalidInput("phase is before or after", field="phase")
    if overall not in ConditionReport.Overall.values:
        raise InvalidInput("overall is 1 (good) to 4 (critical)", field="overall")
    seen, photos = _alterations(alterations), photos or []
    _check_photos(photos)
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        hashes = [_store(photo) for photo in photos]
        event_id = _inspecting(work, overall, actor.label, now)
        report = _save(actor, work, phase, overall, seen, notes, convoy, hashes, event_id, now)
        ConditionPhoto.objects.bulk_create(
            ConditionPhoto(
                report=report, sha256=h, name=p.name[:200], content_type=p.content_type, size=len(p.content)
            )
            for h, p in zip(hashes, photos, strict=True)
        )
        if phase == ConditionReport.Phase.AFTER:
            _compare(report, actor.label, now)
    return report


def _store(photo: Photo) -> str:
    digest = hashlib.sha256(photo.content).hexdigest()
    name = f"condition/{digest[:2]}/{digest}"
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(photo.content))
    return digest


def photo_path(sha256: str) -> str:
    return f"condition/{sha256[:2]}/{sha256}"


def _inspecting(work: Work, overall: int, who: str, now: dt.datetime) -> str:
    disposition = "conformant" if overall <= ConditionReport.Overall.FAIR else "non_conformant"
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "action": "OBSERVE",
        "epcList": [work.uri],
        "bizStep": "inspecting",
        "disposition": disposition,
        "eventTime": now.isoformat(),
    }
    if work.normal_place_id is not None and work.normal_place is not None:
        event["readPoint"] = {"id": work.normal_place.uri}
    parsed = parse_payload([event], now=now, skew=dt.timedelta(seconds=1))
    return custody_record(institution=work.institution, events=parsed, who=who, now=now).event_ids[0]


def _save(
    actor: Actor, work: Work, phase: str, overall: int, seen: list[Alteration], notes: str,
    convoy: Convoy | None, hashes: list[str], event_id: str, now: dt.datetime,
) -> ConditionReport:  # fmt: skip
    listed = [{"zone": a.zone, "kind": a.kind, "description": a.description} for a in seen]
    body = {
        "work": work.uri, "phase": phase, "overall": overall, "alterations": listed, "notes": notes,
        "convoy": convoy.uri if convoy else None, "photos": hashes, "eventID": event_id,
    }  # fmt: skip
    fact = facts_append([_draft(work, facts.CONDITION_REPORTED.name, body, actor.label)], now=now)[0]
    return ConditionReport.objects.create(
        institution=work.institution, work=work, convoy=convoy, phase=phase, overall=overall,
        alterations=listed, notes=notes, examiner=actor.label, examined_at=now, event_id=event_id,
        fact_id=fact.id,
    )  # fmt: skip


def _draft(work: Work, fact_type: str, body: dict[str, Any], who: str) -> FactDraft:
    return FactDraft(
        type=fact_type,
        stream=f"moves.condition:{work.institution.code}:{work.inventory}",
        body=body,
        actor=who,
        institution_id=work.institution_id,
    )


def new_damage(before: ConditionReport | None, after: ConditionReport) -> dict[str, Any]:
    """What the after-arrival report shows that the before-departure one did not."""
    known = {(a["zone"], a["kind"]) for a in (before.alterations if before else [])}
    added = [a for a in after.alterations if (a["zone"], a["kind"]) not in known]
    worse = before is not None and after.overall > before.overall
    if not added and not worse:
        return {}
    return {
        "new_alterations": added,
        "overall_before": before.overall if before else None,
        "overall_after": after.overall,
        "before_report": before.fact_id if before else None,
        "after_report": after.fact_id,
    }


def _compare(report: ConditionReport, who: str, now: dt.datetime) -> None:
    before = (
        ConditionReport.objects.filter(
            work=report.work, phase=ConditionReport.Phase.BEFORE, examined_at__lte=report.examined_at
        )
        .order_by("-examined_at")
        .first()
    )
    damage = new_damage(before, report)
    if not damage:
        return
    body = {"kind": Incident.Kind.DAMAGE.value, "work": report.work.uri, "evidence": damage}
    fact = facts_append([_draft(report.work, facts.INCIDENT_OPENED.name, body, who)], now=now)[0]
    Incident.objects.create(
        institution=report.institution, convoy=report.convoy, work=report.work, kind=Incident.Kind.DAMAGE,
        started_at=now, evidence=damage, fact_id=fact.id,
    )  # fmt: skip
