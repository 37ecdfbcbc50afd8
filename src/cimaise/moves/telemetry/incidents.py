"""Keeping a convoy's telemetry incidents equal to the excursions its readings show.

The rules recompute the excursions of a window of reading time; each is matched with the stored
incident it overlaps (same kind), so that a resent or late reading never opens a second incident
for one excursion. A new excursion opens an incident; a matched one updates its bounds and
evidence (a fact when it ends or its bounds move); an incident whose excursion late readings
dissolved (a stop split in two short ones) is withdrawn, ended and kept on record.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from cimaise.ledger.services import FactDraft, facts_append
from cimaise.moves import facts, facts_telemetry
from cimaise.moves.models import Convoy, Incident
from cimaise.moves.telemetry import rules
from cimaise.moves.telemetry.rules import Excursion

_FOREVER = dt.datetime.max.replace(tzinfo=dt.UTC)


@dataclass
class Changes:
    """What one reconciliation does: incidents to open, updates, and the facts recording them."""

    opened: list[tuple[Excursion, FactDraft]] = field(default_factory=list)
    updated: list[tuple[Incident, FactDraft | None]] = field(default_factory=list)


def telemetry_incidents(convoy: Convoy, since: dt.datetime) -> list[Incident]:
    """The convoy's telemetry incidents that reach into reading time ``since`` or later."""
    rows = Incident.objects.filter(convoy=convoy, kind__in=rules.KINDS)
    return list(rows.filter(Q(ended_at__isnull=True) | Q(ended_at__gte=since)).order_by("started_at", "id"))


def earliest_start(convoy: Convoy, since: dt.datetime) -> dt.datetime | None:
    """The start of the earliest incident still open at, or ending after, ``since``."""
    incidents = telemetry_incidents(convoy, since)
    return min((i.started_at for i in incidents), default=None)


def _overlaps(incident: Incident, excursion: Excursion) -> bool:
    return incident.started_at < (excursion.end or _FOREVER) and excursion.start < (
        incident.ended_at or _FOREVER
    )


def _match(
    excursions: list[Excursion], incidents: list[Incident]
) -> tuple[list[tuple[Excursion, Incident]], list[Excursion], list[Incident]]:
    """Pair each excursion with the earliest free incident it overlaps, in time order."""
    free = [i for i in incidents if not i.evidence.get("withdrawn")]
    pairs, new = [], []
    for excursion in sorted(excursions, key=lambda e: e.start):
        hit = next((i for i in free if _overlaps(i, excursion)), None)
        if hit is None:
            new.append(excursion)
        else:
            free.remove(hit)
            pairs.append((excursion, hit))
    return pairs, new, free


def _draft(convoy: Convoy, fact_type: str, body: dict[str, Any], who: str) -> FactDraft:
    return FactDraft(
        type=fact_type,
        stream=f"moves.telemetry:{convoy.institution.code}:{convoy.code}",
        body={"convoy": convoy.uri, **body},
        actor=who,
        institution_id=convoy.institution_id,
    )


def _bounds(start: dt.datetime, end: dt.datetime | None) -> dict[str, str | None]:
    return {"started_at": start.isoformat(), "ended_at": end.isoformat() if end else None}


def _update(convoy: Convoy, excursion: Excursion, incident: Incident, who: str) -> FactDraft | None:
    """Bring the incident to its excursion; the fact to record, if its bounds changed."""
    ended = incident.ended_at is None and excursion.end is not None
    moved = incident.started_at != excursion.start or (
        incident.ended_at is not None and incident.ended_at != excursion.end
    )
    incident.started_at, incident.ended_at = excursion.start, excursion.end
    incident.evidence = excursion.evidence
    if not (ended or moved):
        return None
    fact_type = (facts_telemetry.INCIDENT_REVISED if moved else facts_telemetry.INCIDENT_ENDED).name
    body = {"incident": incident.fact_id, "kind": incident.kind, "evidence": excursion.evidence}
    return _draft(convoy, fact_type, body | _bounds(excursion.start, excursion.end), who)


def _withdraw(convoy: Convoy, incident: Incident, who: str) -> FactDraft:
    incident.ended_at = incident.ended_at or incident.started_at
    incident.evidence = {**incident.evidence, "withdrawn": True}
    body = {"incident": incident.fact_id, "kind": incident.kind} | _bounds(
        incident.started_at, incident.ended_at
    )
    return _draft(convoy, facts_telemetry.INCIDENT_WITHDRAWN.name, body, who)


def _opened(convoy: Convoy, excursion: Excursion, who: str) -> FactDraft:
    body = {"kind": excursion.kind, "evidence": excursion.evidence}
    return _draft(convoy, facts.INCIDENT_OPENED.name, body | _bounds(excursion.start, excursion.end), who)


def reconcile(convoy: Convoy, excursions: Sequence[Excursion], since: dt.datetime, who: str) -> Changes:
    """What to change so that the incidents reaching into ``since`` match these excursions."""
    by_kind: dict[str, list[Excursion]] = defaultdict(list)
    for excursion in excursions:
        by_kind[excursion.kind].append(excursion)
    stored: dict[str, list[Incident]] = defaultdict(list)
    for incident in telemetry_incidents(convoy, since):
        stored[incident.kind].append(incident)
    changes = Changes()
    for kind in rules.KINDS:
        pairs, new, gone = _match(by_kind[kind], stored[kind])
        for excursion, incident in pairs:
            before = (incident.started_at, incident.ended_at, incident.evidence)
            draft = _update(convoy, excursion, incident, who)
            if draft is not None or before != (incident.started_at, incident.ended_at, incident.evidence):
                changes.updated.append((incident, draft))
        changes.updated += [(incident, _withdraw(convoy, incident, who)) for incident in gone]
        changes.opened += [(excursion, _opened(convoy, excursion, who)) for excursion in new]
    return changes


def apply(convoy: Convoy, changes: Changes, *, now: dt.datetime) -> list[Incident]:
    """Record the facts, then open and update the incidents; the incidents opened."""
    drafts = [d for _e, d in changes.opened] + [d for _i, d in changes.updated if d is not None]
    stored = iter(facts_append(drafts, now=now))
    opened = [
        Incident(
            institution_id=convoy.institution_id,
            convoy=convoy,
            kind=excursion.kind,
            started_at=excursion.start,
            ended_at=excursion.end,
            evidence=excursion.evidence,
            fact_id=next(stored).id,
        )  # fmt: skip
        for excursion, _draft in changes.opened
    ]
    Incident.objects.bulk_create(opened)
    updated = [incident for incident, _draft in changes.updated]
    Incident.objects.bulk_update(updated, ["started_at", "ended_at", "evidence"])
    return opened
