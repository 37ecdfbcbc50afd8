"""Reconciliation: expected against observed at each step, every discrepancy with the events
(and their ledger facts) behind it. Convoys and crates from their manifest; a source reserve or a
whole programme from the programme's assignments."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from cimaise.collection.models import Work, work_uri
from cimaise.core.models import Institution, Place
from cimaise.moves.models import (
    Assignment,
    Containment,
    Convoy,
    CustodyEvent,
    EventObject,
    ObjectState,
    Programme,
    Status,
)
from cimaise.moves.projection import chunks
from cimaise.moves.selectors import place_subtree
from cimaise.moves.uris import parse_identifier

STEPS = ("packed", "departed", "arrived", "received", "stored")
_DONE_STATUSES = {Status.RECEIVED, Status.HOLDING, Status.STORED}


@dataclass
class Discrepancy:
    kind: str  # missing, unexpected, wrong_place, wrong_crate
    step: str
    uri: str
    expected: str | None = None
    observed: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "step": self.step,
            "uri": self.uri,
            "expected": self.expected,
            "observed": self.observed,
            "events": self.events,
        }


@dataclass
class Reconciliation:
    subject: str
    expected: int
    steps: dict[str, dict[str, int]]
    discrepancies: list[Discrepancy]
    summary: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "expected": self.expected,
            "steps": self.steps,
            "summary": self.summary,
            "discrepancies": [d.as_dict() for d in self.discrepancies],
        }


def _evidence(event: CustodyEvent | None) -> list[dict[str, Any]]:
    if event is None:
        return []
    return [
        {
            "eventID": event.event_id,
            "bizStep": event.biz_step,
            "eventTime": event.event_time.isoformat(),
            "fact": event.fact_id,
        }
    ]


def _inside_at(institution: Institution, roots: set[str], at: dt.datetime) -> set[str]:
    """Everything inside these objects at ``at``, at any depth."""
    found: set[str] = set()
    frontier = set(roots)
    while frontier:
        rows: set[str] = set()
        for batch in chunks(sorted(frontier)):
            rows.update(
                Containment.objects.filter(institution=institution, parent__in=batch, since__lte=at)
                .filter(Q(until__isnull=True) | Q(until__gt=at))
                .values_list("child", flat=True)
            )
        frontier = rows - found
        found |= frontier
    return found


def _step_events(convoy: Convoy, steps: tuple[str, ...]) -> list[CustodyEvent]:
    events = CustodyEvent.objects.filter(
        institution=convoy.institution, biz_transaction=convoy.uri, biz_step__in=steps, retracted=False
    )
    # sorted here: an ORDER BY makes SQLite walk the time index over every event of the institution
    return sorted(events.prefetch_related("named").order_by(), key=lambda e: (e.event_time, e.pk))


def _carried(convoy: Convoy, steps: tuple[str, ...]) -> tuple[set[str], CustodyEvent | None]:
    """The works the convoy's first event of these steps covered (named or inside what it names)."""
    events = _step_events(convoy, steps)
    if not events:
        return set(), None
    first = events[0]
    named = {row.uri for row in first.named.all() if row.role != EventObject.Role.TRANSACTION}
    everything = named | _inside_at(convoy.institution, named, first.event_time)
    return {uri for uri in everything if uri.startswith("urn:cimaise:work:")}, first


def convoy_reconciliation(convoy: Convoy) -> Reconciliation:
    """The convoy's manifest against its packing, departure, arrival, reception and shelving."""
    institution = convoy.institution
    items = list(convoy.items.select_related("work", "crate__institution"))
    expected = {work_uri(institution.code, item.work.inventory): item for item in items}
    states = {s.uri: s for s in _states(institution, list(expected))}
    targets = _targets(institution, [item.work_id for item in items], convoy.programme_id)
    discrepancies: list[Discrepancy] = []
    steps: dict[str, dict[str, int]] = {}
    packed = _packing(institution, expected, discrepancies)
    steps["packed"] = {"expected": len(expected), "observed": packed}
    for step, biz_steps in (
        ("departed", ("departing",)),
        ("arrived", ("arriving",)),
        ("received", ("unloading", "receiving")),
    ):
        carried, event = _carried(convoy, biz_steps)
        steps[step] = {"expected": len(expected), "observed": len(carried & set(expected))}
        if event is None:
            continue
        discrepancies += [
            Discrepancy("missing", step, uri, events=_evidence(event))
            for uri in sorted(set(expected) - carried)
        ]
        discrepancies += [
            Discrepancy("unexpected", step, uri, events=_evidence(event))
            for uri in sorted(carried - set(expected))
        ]
    stored = _shelving(expected, states, targets, discrepancies)
    steps["stored"] = {"expected": len(expected), "observed": stored}
    return Reconciliation(
        subject=convoy.uri, expected=len(expected), steps=steps, discrepancies=discrepancies
    )


def _states(institution: Institution, uris: list[str]) -> list[ObjectState]:
    found: list[ObjectState] = []
    for batch in chunks(uris):
        found += ObjectState.objects.filter(institution=institution, uri__in=batch).select_related(
            "place", "last_event"
        )
    return found


def _targets(institution: Institution, work_ids: list[int], programme_id: int | None) -> dict[int, Place]:
    rows = Assignment.objects.filter(work_id__in=work_ids, programme__institution=institution).select_related(
        "target"
    )
    rows = rows.filter(programme_id=programme_id) if programme_id else rows.filter(programme__active=True)
    return {row.work_id: row.target for row in rows}


def _packing(institution: Institution, expected: dict[str, Any], out: list[Discrepancy]) -> int:
    """Works packed into their planned crate; a different crate is a discrepancy."""
    crate_of: dict[str, Containment] = {}
    for batch in chunks(list(expected)):
        rows = Containment.objects.filter(
            institution=institution, child__in=batch, parent__startswith="urn:cimaise:crate:"
        )
        for row in rows.order_by("since"):
            crate_of[row.child] = row
    packed = 0
    for uri, item in expected.items():
        packing = crate_of.get(uri)
        planned = item.crate.uri if item.crate else None
        if packing is None:
            continue
        packed += 1
        if planned and packing.parent != planned:
            out.append(Discrepancy("wrong_crate", "packed", uri, expected=planned, observed=packing.parent))
    return packed


def _shelving(
    expected: dict[str, Any],
    states: dict[str, ObjectState],
    targets: dict[int, Place],
    out: list[Discrepancy],
) -> int:
    stored = 0
    for uri, item in expected.items():
        state = states.get(uri)
        if state is None or state.status != Status.STORED:
            continue
        stored += 1
        target = targets.get(item.work_id)
        if target is not None and state.place_id != target.pk:
            observed = state.place.code if state.place else None
            out.append(
                Discrepancy("wrong_place", "stored", uri, target.code, observed, _evidence(state.last_event))
            )
    return stored


def programme_reconciliation(programme: Programme, *, source: Place | None = None) -> Reconciliation:
    """Every assigned work (or those from one source reserve): where it is against its target."""
    institution = programme.institution
    assignments = Assignment.objects.filter(programme=programme)
    if source is not None:
        assignments = assignments.filter(source__in=place_subtree(source))
    rows = list(assignments.values_list("work_id", "work__inventory", "target_id", "target__code"))
    states = _states_by_work(institution)
    arrived = set(
        CustodyEvent.objects.filter(institution=institution, biz_step="arriving", retracted=False)
        .exclude(biz_transaction="")
        .values_list("biz_transaction", flat=True)
    )
    summary: Counter[str] = Counter()
    discrepancies: list[Discrepancy] = []
    for work_id, inventory, target_id, target_code in rows:
        phase, found = _phase(states.get(work_id), target_id, target_code, arrived)
        summary[phase] += 1
        if found is not None:
            found.uri = work_uri(institution.code, inventory)
            discrepancies.append(found)
    _place_codes(discrepancies)
    subject = f"programme:{programme.code}" + (f" source:{source.code}" if source else "")
    steps = {"stored": {"expected": len(rows), "observed": summary["done"] + summary["wrong_place"]}}
    return Reconciliation(
        subject=subject, expected=len(rows), steps=steps, discrepancies=discrepancies, summary=dict(summary)
    )


def _place_codes(discrepancies: list[Discrepancy]) -> None:
    ids = {int(d.observed) for d in discrepancies if d.kind == "wrong_place" and d.observed}
    codes = {str(pk): code for pk, code in Place.objects.filter(pk__in=ids).values_list("pk", "code")}
    for d in discrepancies:
        if d.kind == "wrong_place" and d.observed:
            d.observed = codes.get(d.observed, d.observed)


_StateRow = tuple[str, int | None, str, int | None]


def _states_by_work(institution: Institution) -> dict[int, _StateRow]:
    rows = ObjectState.objects.filter(institution=institution, work__isnull=False)
    return {
        work_id: (status, place_id, convoy, last_event)
        for work_id, status, place_id, convoy, last_event in rows.values_list(
            "work_id", "status", "place_id", "convoy", "last_event_id"
        ).iterator(chunk_size=5000)
    }


def _phase(
    state: _StateRow | None, target_id: int, target_code: str, arrived: set[str]
) -> tuple[str, Discrepancy | None]:
    if state is None or state[0] in ("", Status.IN_STORAGE):
        return "pending", None
    status, place_id, convoy, last_event = state
    if status == Status.STORED:
        if place_id == target_id:
            return "done", None
        return "wrong_place", Discrepancy(
            "wrong_place", "stored", "", target_code, str(place_id), [{"event": last_event}]
        )
    if status not in _DONE_STATUSES and convoy in arrived:
        return "missing", Discrepancy(
            "missing", "received", "", None, status, [{"event": last_event, "convoy": convoy}]
        )
    return "in_progress", None


def crate_reconciliation(institution: Institution, crate_uri: str) -> Reconciliation:
    """What the manifests put in a crate against what was packed into it."""
    planned = {
        work_uri(institution.code, inventory)
        for inventory in Work.objects.filter(
            pk__in=Convoy.objects.filter(
                institution=institution, items__crate__barcode=parse_identifier(crate_uri).key
            ).values("items__work_id")
        ).values_list("inventory", flat=True)
    }
    packed = set(
        Containment.objects.filter(institution=institution, parent=crate_uri).values_list("child", flat=True)
    )
    discrepancies = [
        Discrepancy("missing", "packed", uri, expected=crate_uri) for uri in sorted(planned - packed)
    ]
    discrepancies += [
        Discrepancy("unexpected", "packed", uri, observed=crate_uri) for uri in sorted(packed - planned)
    ]
    steps = {"packed": {"expected": len(planned), "observed": len(planned & packed)}}
    return Reconciliation(subject=crate_uri, expected=len(planned), steps=steps, discrepancies=discrepancies)
