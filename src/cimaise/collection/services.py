"""Writes to the registry of works; every new or changed record is a ledger fact."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from cimaise.collection import facts
from cimaise.collection.csvio import ParsedRows, RowError, parse_csv
from cimaise.collection.models import Work
from cimaise.core.access import own_institution, require_permission
from cimaise.core.actors import Actor
from cimaise.core.models import Institution
from cimaise.ledger.services import FactDraft, facts_append

FIELDS = [
    "title", "department", "artist", "date_text", "materials", "height_cm", "width_cm", "depth_cm",
    "weight_kg", "fragility", "handling_notes", "hazard_notes", "normal_place", "barcode",
    "insurance_value", "insurance_currency",
]  # fmt: skip


@dataclass
class ImportReport:
    """What an import did, or (with ``errors``) why it did nothing."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _record(work: Work) -> dict[str, Any]:
    body: dict[str, Any] = {"inventory": work.inventory, "uri": work.uri}
    for name in FIELDS:
        value = getattr(work, name)
        body[name] = value.code if name == "normal_place" and value is not None else value
    return body


def _barcode_clashes(parsed: ParsedRows, institution: Institution) -> list[RowError]:
    wanted = {v["barcode"]: (line, v["inventory"]) for line, v in parsed.rows if v["barcode"]}
    taken = Work.objects.filter(institution=institution, barcode__in=list(wanted)).values_list(
        "barcode", "inventory"
    )
    return [
        RowError(wanted[barcode][0], "barcode", f"already used by {inventory}")
        for barcode, inventory in taken
        if wanted[barcode][1] != inventory
    ]


def _apply(
    values: dict[str, Any], existing: Work | None, institution: Institution
) -> tuple[Work, dict[str, Any]]:
    if existing is None:
        return Work(institution=institution, **values), {}
    changes = {}
    for name in FIELDS:
        if getattr(existing, name) != values[name]:
            changes[name] = [_plain(getattr(existing, name)), _plain(values[name])]
            setattr(existing, name, values[name])
    return existing, changes


def _plain(value: Any) -> Any:
    return getattr(value, "code", value)


def works_import(*, actor: Actor, text: str) -> ImportReport:
    """Create or update works from CSV: all rows or none."""
    institution = own_institution(actor)
    require_permission(actor, "collection.add_work")
    require_permission(actor, "collection.change_work")
    return works_import_unchecked(institution=institution, text=text, actor=actor.label)


def works_import_unchecked(*, institution: Institution, text: str, actor: str) -> ImportReport:
    """The import itself, for callers that have authorized already (loaders, commands)."""
    parsed = parse_csv(text, institution=institution)
    errors = parsed.errors or _barcode_clashes(parsed, institution)
    if errors:
        return ImportReport(errors=sorted(errors, key=lambda e: (e.line, e.column)))
    with transaction.atomic(durable=True):
        return _write(parsed, institution, actor)


def _write(parsed: ParsedRows, institution: Institution, actor: str) -> ImportReport:
    inventories = [values["inventory"] for _, values in parsed.rows]
    existing = {
        w.inventory: w
        for w in Work.objects.select_for_update().filter(institution=institution, inventory__in=inventories)
    }
    report = ImportReport()
    new: list[Work] = []
    changed: list[Work] = []
    drafts: list[FactDraft] = []
    for _, values in parsed.rows:
        work, changes = _apply(values, existing.get(values["inventory"]), institution)
        if work.pk is None:
            new.append(work)
        elif changes:
            changed.append(work)
            drafts.append(
                _draft(
                    facts.WORK_CHANGED.name, work, {"inventory": work.inventory, "changes": changes}, actor
                )
            )
        else:
            report.unchanged += 1
    Work.objects.bulk_create(new, batch_size=1000)
    Work.objects.bulk_update(changed, FIELDS, batch_size=1000)
    drafts += [_draft(facts.WORK_REGISTERED.name, w, _record(w), actor) for w in new]
    facts_append(drafts)
    report.created, report.updated = len(new), len(changed)
    return report


def _draft(fact_type: str, work: Work, body: dict[str, Any], actor: str) -> FactDraft:
    return FactDraft(
        type=fact_type,
        stream=f"collection.work:{work.institution.code}:{work.inventory}",
        body=body,
        actor=actor,
        institution_id=work.institution_id,
    )
