"""Addressing writes: a programme's addressing run (start, apply a batch, pause, resume) and a
target set by hand. Each is one durable transaction appending its ledger fact (packing a
convoy is in ``packing_services``).

Every write that reads the room left on shelves takes the ledger lock first, so two batches,
or a batch and an override, never both count on the same room."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from cimaise.collection.models import Department, Work
from cimaise.core.access import require_permission
from cimaise.core.actors import Actor
from cimaise.core.errors import Conflict, InvalidInput, NotFound
from cimaise.core.models import Institution, Place
from cimaise.ledger.services import FactDraft, facts_append, ledger_lock
from cimaise.moves import facts_planning as facts
from cimaise.moves import roles_planning  # noqa: F401  (the grants these services check)
from cimaise.moves.access import access_programme
from cimaise.moves.models import AddressingBatch, AddressingFlag, AddressingRun, Assignment, Programme
from cimaise.moves.planning import selectors
from cimaise.moves.planning.addressing import (
    DEFAULT_HEADROOM,
    AddressingPlanner,
    Breach,
    Outcome,
    PlanState,
    Used,
    WorkSpec,
    breaches,
)
from cimaise.moves.projection import chunks

WRITE = "moves.change_assignment"
OPEN = (AddressingRun.State.RUNNING, AddressingRun.State.PAUSED)
MAX_BATCH = 50_000


@dataclass(frozen=True)
class RunSettings:
    """What a registrar chooses when starting a run (place codes)."""

    sources: Sequence[str]
    destinations: Sequence[str]
    department_zones: Mapping[str, str] = field(default_factory=dict)
    headroom: Decimal = DEFAULT_HEADROOM
    batch_size: int = 5000


def fact_draft(institution: Institution, kind: str, body: dict[str, Any], who: str) -> FactDraft:
    stream = "moves.packing" if kind.startswith("moves.packing") else "moves.addressing"
    return FactDraft(
        type=kind, stream=f"{stream}:{institution.code}", body=body, actor=who, institution_id=institution.pk
    )


# --- starting a run --------------------------------------------------------------------------


def addressing_start(
    *, actor: Actor, programme_code: str, settings: RunSettings, now: dt.datetime | None = None
) -> AddressingRun:
    """Start addressing a programme's works from its source reserves to destination zones."""
    programme = access_programme(actor, programme_code)
    require_permission(actor, WRITE)
    sources = _places(programme.institution, settings.sources, "sources")
    destinations = _places(programme.institution, settings.destinations, "destinations")
    _check_settings(settings, destinations)
    return addressing_start_unchecked(
        programme=programme,
        sources=sources,
        destinations=destinations,
        settings=settings,
        who=actor.label,
        now=now,
    )


def _places(institution: Institution, codes: Sequence[str], name: str) -> list[Place]:
    if not codes:
        raise InvalidInput(f"name at least one place in {name}", field=name)
    rows = Place.objects.select_related("institution").filter(institution=institution, code__in=list(codes))
    found = {place.code: place for place in rows}
    places = [found[code] for code in dict.fromkeys(codes) if code in found]
    missing = [code for code in codes if code not in {p.code for p in places}]
    if missing:
        raise InvalidInput(
            f"no place {missing[0]!r}", field=name, details={"field": name, "unknown": missing}
        )
    return places


def _check_settings(settings: RunSettings, destinations: Sequence[Place]) -> None:
    if not Decimal(0) <= settings.headroom <= Decimal("0.9"):
        raise InvalidInput("headroom must be between 0 and 0.9", field="headroom")
    if not 1 <= settings.batch_size <= MAX_BATCH:
        raise InvalidInput(f"batch_size must be between 1 and {MAX_BATCH}", field="batch_size")
    zones = {place.code for place in destinations}
    for department, zone in settings.department_zones.items():
        if department not in Department.values:
            raise InvalidInput(f"no department {department!r}", field="department_zones")
        if zone not in zones:
            raise InvalidInput(f"{zone!r} is not one of the destinations", field="department_zones")


def addressing_start_unchecked(
    *,
    programme: Programme,
    sources: Sequence[Place],
    destinations: Sequence[Place],
    settings: RunSettings,
    who: str,
    now: dt.datetime | None = None,
) -> AddressingRun:
    """The start itself, for callers that have authorized and checked already (loaders)."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        ledger_lock()
        if AddressingRun.objects.filter(programme=programme, state__in=OPEN).exists():
            raise Conflict("this programme has an addressing run open already", code="run_open")
        run = AddressingRun.objects.create(
            institution=programme.institution,
            programme=programme,
            headroom=settings.headroom,
            batch_size=settings.batch_size,
            source_ids=[p.pk for p in sources],
            destination_ids=[p.pk for p in destinations],
            department_zones=dict(settings.department_zones),
            started_at=now,
            started_by=who,
        )
        body = {
            "programme": programme.code,
            "run": run.pk,
            "sources": [p.code for p in sources],
            "destinations": [p.code for p in destinations],
            "department_zones": run.department_zones,
            "headroom": str(settings.headroom),
            "batch_size": settings.batch_size,
        }
        facts_append([fact_draft(programme.institution, facts.ADDRESSING_STARTED.name, body, who)], now=now)
    return run


# --- proposing and applying batches ----------------------------------------------------------


def latest_run(programme: Programme) -> AddressingRun:
    run = selectors.open_run(programme.pk)
    if run is None:
        raise NotFound(f"programme {programme.code!r} has no addressing run", field="code")
    return run


def _planner(run: AddressingRun) -> tuple[AddressingPlanner, list[WorkSpec]]:
    """The planner as the run left it, and the works it has left."""
    sources, destinations = selectors.run_places(run)
    institution = run.programme.institution
    planner = AddressingPlanner(
        selectors.destination_bays(institution, destinations),
        selectors.occupancy(institution, destinations),
        headroom=run.headroom,
        department_zones=run.department_zones,
        state=PlanState.from_json(run.plan_state),
    )
    return planner, selectors.works_left(run, sources)


@dataclass
class Proposal:
    """The next batch of a run, as it would be applied: (inventory, place code) and
    (inventory, reason)."""

    run: AddressingRun
    targets: list[tuple[str, str]]
    flagged: list[tuple[str, str]]
    left: int


def addressing_propose(*, actor: Actor, programme_code: str, limit: int | None = None) -> Proposal:
    """What the next batch would do, without doing it."""
    programme = access_programme(actor, programme_code)
    require_permission(actor, "moves.view_assignment")
    run = latest_run(programme)
    planner, works = _planner(run)
    outcome = planner.run(works, limit=limit or run.batch_size)
    targets, flagged = _named(outcome)
    return Proposal(run, targets, flagged, len(works) - len(targets) - len(flagged))


def _named(outcome: Outcome) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    work_ids = [w for w, _ in outcome.placed] + [w for w, _ in outcome.flagged]
    inventory: dict[int, str] = {}
    for batch in chunks(work_ids):
        inventory.update(Work.objects.filter(pk__in=batch).values_list("pk", "inventory"))
    codes = dict(Place.objects.filter(pk__in={b for _, b in outcome.placed}).values_list("pk", "code"))
    targets = [(inventory[w], codes[b]) for w, b in outcome.placed]
    return targets, [(inventory[w], reason) for w, reason in outcome.flagged]


@dataclass
class BatchResult:
    run: AddressingRun
    batch: AddressingBatch
    created: bool


def addressing_apply(
    *, actor: Actor, programme_code: str, batch: int | None = None, now: dt.datetime | None = None
) -> BatchResult:
    """Apply the run's next batch. Naming the batch makes a resend harmless: a batch applied
    already is answered again and nothing is written."""
    programme = access_programme(actor, programme_code)
    require_permission(actor, WRITE)
    return addressing_apply_unchecked(run=latest_run(programme), who=actor.label, batch=batch, now=now)


def addressing_apply_unchecked(
    *, run: AddressingRun, who: str, batch: int | None = None, now: dt.datetime | None = None
) -> BatchResult:
    """The batch itself, for callers that have authorized already (loaders)."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        ledger_lock()  # the room on shelves is read once, by one writer at a time
        run = (
            AddressingRun.objects.select_for_update().select_related("programme__institution").get(pk=run.pk)
        )
        applied = _applied(run, batch)
        if applied is not None:
            return BatchResult(run, applied, created=False)
        planner, works = _planner(run)
        outcome = planner.run(works, limit=run.batch_size)
        finished = len(works) <= run.batch_size
        fact_id = _record_batch(run, outcome, finished, who, now)
        stored = _store_batch(run, outcome, planner.state, finished, fact_id, who, now)
    return BatchResult(run, stored, created=True)


def _applied(run: AddressingRun, batch: int | None) -> AddressingBatch | None:
    """The batch already applied under this number, or None once it is checked the next can be."""
    if batch is not None and batch <= run.batches:
        return AddressingBatch.objects.get(run=run, number=batch)
    if batch is not None and batch != run.batches + 1:
        raise Conflict(f"the next batch is number {run.batches + 1}", code="wrong_batch", field="batch")
    if run.state == AddressingRun.State.PAUSED:
        raise Conflict("the addressing run is paused; resume it first", code="paused")
    if run.state == AddressingRun.State.DONE:
        raise Conflict("the addressing run is done", code="done")
    return None


def _record_batch(run: AddressingRun, outcome: Outcome, finished: bool, who: str, now: dt.datetime) -> int:
    targets, flagged = _named(outcome)
    body = {
        "programme": run.programme.code,
        "run": run.pk,
        "batch": run.batches + 1,
        "targets": [list(pair) for pair in targets],
        "flagged": [list(pair) for pair in flagged],
        "done": finished,
    }
    institution = run.programme.institution
    drafts = [fact_draft(institution, facts.ADDRESSING_BATCH_APPLIED.name, body, who)]
    return facts_append(drafts, now=now)[0].id


def _store_batch(
    run: AddressingRun,
    outcome: Outcome,
    state: PlanState,
    finished: bool,
    fact_id: int,
    who: str,
    now: dt.datetime,
) -> AddressingBatch:
    number = run.batches + 1
    sources: dict[int, int | None] = {}
    for batch in chunks([w for w, _ in outcome.placed]):
        sources.update(Work.objects.filter(pk__in=batch).values_list("pk", "normal_place_id"))
    Assignment.objects.bulk_create(
        (Assignment(programme_id=run.programme_id, work_id=w, source_id=sources[w], target_id=b))
        for w, b in outcome.placed
    )
    AddressingFlag.objects.bulk_create(
        AddressingFlag(run=run, work_id=w, reason=reason, batch=number) for w, reason in outcome.flagged
    )
    run.plan_state = state.as_json()
    run.batches, run.assigned, run.flagged = (
        number,
        run.assigned + len(outcome.placed),
        run.flagged + len(outcome.flagged),
    )
    if finished:
        run.state, run.finished_at = AddressingRun.State.DONE, now
    run.save()
    return AddressingBatch.objects.create(
        run=run,
        number=number,
        assigned=len(outcome.placed),
        flagged=len(outcome.flagged),
        fact_id=fact_id,
        applied_at=now,
        applied_by=who,
    )


# --- pausing and resuming --------------------------------------------------------------------


def addressing_pause(
    *, actor: Actor, programme_code: str, reason: str = "", now: dt.datetime | None = None
) -> AddressingRun:
    """Pause the programme's run (it keeps its state; pausing a paused run does nothing)."""
    return _switch(actor, programme_code, AddressingRun.State.PAUSED, reason.strip(), now)


def addressing_resume(*, actor: Actor, programme_code: str, now: dt.datetime | None = None) -> AddressingRun:
    """Resume the programme's paused run where it stopped (resuming a running run does nothing)."""
    return _switch(actor, programme_code, AddressingRun.State.RUNNING, "", now)


def _switch(actor: Actor, code: str, state: str, reason: str, now: dt.datetime | None) -> AddressingRun:
    programme = access_programme(actor, code)
    require_permission(actor, WRITE)
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        run = AddressingRun.objects.select_for_update().get(pk=latest_run(programme).pk)
        if run.state == state:
            return run
        if run.state == AddressingRun.State.DONE:
            raise Conflict("the addressing run is done", code="done")
        pausing = state == AddressingRun.State.PAUSED
        body: dict[str, Any] = {"programme": programme.code, "run": run.pk, "batches": run.batches}
        if pausing:
            body["reason"] = reason
        elif run.paused_at is not None:
            body["paused_since"] = run.paused_at.isoformat()
        kind = facts.ADDRESSING_PAUSED if pausing else facts.ADDRESSING_RESUMED
        facts_append([fact_draft(programme.institution, kind.name, body, actor.label)], now=now)
        run.state, run.paused_at, run.pause_reason = state, now if pausing else None, reason
        run.save(update_fields=["state", "paused_at", "pause_reason"])
    return run


# --- overriding a target ---------------------------------------------------------------------


def assignment_override(
    *,
    actor: Actor,
    programme_code: str,
    inventory: str,
    target: str,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Assignment:
    """Set a work's target place by hand, checked against the same limits as the planner's."""
    programme = access_programme(actor, programme_code)
    require_permission(actor, WRITE)
    institution = programme.institution
    work = Work.objects.filter(institution=institution, inventory=inventory).first()
    if work is None:
        raise NotFound(f"no work {inventory!r}", field="inventory")
    place = _target(institution, target)
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        ledger_lock()  # the room on the place is read once, by one writer at a time
        current = Assignment.objects.select_for_update().filter(programme=programme, work=work).first()
        if current is not None and current.target_id == place.pk:
            return current
        _check_room(programme, work, place)
        old = current.target.code if current is not None else None
        body = {
            "programme": programme.code,
            "work": work.inventory,
            "old": old,
            "new": place.code,
            "reason": reason,
        }
        facts_append([fact_draft(institution, facts.TARGET_OVERRIDDEN.name, body, actor.label)], now=now)
        if current is None:
            return Assignment.objects.create(
                programme=programme, work=work, source=work.normal_place, target=place
            )
        current.target = place
        current.save(update_fields=["target"])
    return current


def _target(institution: Institution, code: str) -> Place:
    place = Place.objects.select_related("institution").filter(institution=institution, code=code).first()
    if place is None:
        raise InvalidInput(f"no place {code!r}", field="target", code="unknown_place")
    if place.kind not in (Place.Kind.SHELF, Place.Kind.UNIT) or not place.active:
        raise InvalidInput(
            f"{code} is not an active shelf or storage unit", field="target", code="not_a_shelf"
        )
    return place


def _check_room(programme: Programme, work: Work, place: Place) -> None:
    run = selectors.open_run(programme.pk)
    headroom = run.headroom if run is not None else DEFAULT_HEADROOM
    spec = selectors.work_specs(Work.objects.filter(pk=work.pk))[0]
    used = selectors.occupancy(programme.institution, [place], exclude_work=work.pk).get(place.pk, Used())
    bay = next(b for b in selectors.destination_bays(programme.institution, [place]) if b.id == place.pk)
    found = breaches(spec, bay, used, headroom)
    if found:
        raise _refusal(work, place, found[0], headroom)


_LIMIT_CODES = {
    "inner_dimensions": "too_large",
    "load_limit_kg": "over_load_limit",
    "inner_volume": "over_volume",
}


def _refusal(work: Work, place: Place, breach: Breach, headroom: Decimal) -> InvalidInput:
    what = {
        "inner_dimensions": f"{work.inventory} does not fit inside {place.code} in any orientation",
        "load_limit_kg": f"{place.code} would carry more than its load limit less {headroom:.0%} headroom",
        "inner_volume": f"{place.code} would hold more than its inner volume less {headroom:.0%} headroom",
    }[breach.limit]
    details = {"field": "target", "limit": breach.limit, "needed": breach.needed, "allowed": breach.allowed}
    return InvalidInput(what, field="target", code=_LIMIT_CODES[breach.limit], details=details)
