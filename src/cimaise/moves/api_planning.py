"""Planning routes: a programme's addressing run (start, propose, apply batches, pause, resume,
flagged works), a target set by hand, fill rates, a convoy's packing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from cimaise.core.access import require_permission
from cimaise.core.auth import request_actor
from cimaise.core.pagination import PageParams, page_schema, paginate
from cimaise.moves import roles_planning  # noqa: F401  (grants, synced after migrate)
from cimaise.moves.access import access_convoy, access_programme
from cimaise.moves.models import AddressingRun
from cimaise.moves.planning import packing_services, selectors, services
from cimaise.moves.planning.addressing import DEFAULT_HEADROOM

router = Router(tags=["planning"])
READ = "moves.view_assignment"


class RunIn(Schema):
    sources: list[str] = Field(min_length=1, description="place codes of the reserves the works leave")
    destinations: list[str] = Field(min_length=1, description="place codes of the receiving zones, in order")
    department_zones: dict[str, str] = Field(
        default_factory=dict, description="department → destination code"
    )
    headroom: Decimal = Field(
        DEFAULT_HEADROOM, ge=0, le=Decimal("0.9"), description="share of load and volume kept free"
    )
    batch_size: int = Field(5000, ge=1, le=services.MAX_BATCH)


class RunOut(Schema):
    programme: str
    state: str
    headroom: Decimal
    batch_size: int
    batches: int
    assigned: int
    flagged: int
    started_at: dt.datetime
    started_by: str
    paused_at: dt.datetime | None
    pause_reason: str
    finished_at: dt.datetime | None


def run_out(run: AddressingRun) -> dict[str, Any]:
    return {
        "programme": run.programme.code,
        "state": run.state,
        "headroom": run.headroom,
        "batch_size": run.batch_size,
        "batches": run.batches,
        "assigned": run.assigned,
        "flagged": run.flagged,
        "started_at": run.started_at,
        "started_by": run.started_by,
        "paused_at": run.paused_at,
        "pause_reason": run.pause_reason,
        "finished_at": run.finished_at,
    }


@router.post("/programmes/{code}/addressing", response={201: RunOut}, summary="Start addressing a programme")
def addressing_start(request: HttpRequest, code: str, data: RunIn) -> Status[dict[str, Any]]:
    settings = services.RunSettings(
        data.sources, data.destinations, data.department_zones, data.headroom, data.batch_size
    )
    run = services.addressing_start(actor=request_actor(request), programme_code=code, settings=settings)
    return Status(201, run_out(run))


@router.get("/programmes/{code}/addressing", response=RunOut, summary="A programme's addressing run")
def addressing_show(request: HttpRequest, code: str) -> dict[str, Any]:
    actor = request_actor(request)
    programme = access_programme(actor, code)
    require_permission(actor, READ)
    return run_out(services.latest_run(programme))


class Target(Schema):
    inventory: str
    target: str


class Flagged(Schema):
    inventory: str
    reason: str


class ProposalOut(Schema):
    targets: list[Target]
    flagged: list[Flagged]
    left: int = Field(description="works left after this batch")


class ProposalParams(Schema):
    limit: int | None = Field(None, ge=1, le=services.MAX_BATCH, description="default: the run's batch size")


@router.get(
    "/programmes/{code}/addressing/proposal", response=ProposalOut, summary="The next batch, not applied"
)
def addressing_proposal(request: HttpRequest, code: str, params: Query[ProposalParams]) -> dict[str, Any]:
    proposal = services.addressing_propose(
        actor=request_actor(request), programme_code=code, limit=params.limit
    )
    return {
        "targets": [{"inventory": w, "target": t} for w, t in proposal.targets],
        "flagged": [{"inventory": w, "reason": r} for w, r in proposal.flagged],
        "left": proposal.left,
    }


class BatchIn(Schema):
    batch: int | None = Field(None, ge=1, description="the batch number expected; a resend answers it again")


class BatchOut(Schema):
    batch: int
    assigned: int
    flagged: int
    applied_at: dt.datetime
    applied_by: str
    run: RunOut


@router.post(
    "/programmes/{code}/addressing/batches",
    response={200: BatchOut, 201: BatchOut},
    summary="Apply the next batch of targets (idempotent when the batch number is given)",
)
def addressing_apply(request: HttpRequest, code: str, data: BatchIn) -> Status[dict[str, Any]]:
    result = services.addressing_apply(actor=request_actor(request), programme_code=code, batch=data.batch)
    applied = result.batch
    body = {
        "batch": applied.number,
        "assigned": applied.assigned,
        "flagged": applied.flagged,
        "applied_at": applied.applied_at,
        "applied_by": applied.applied_by,
        "run": run_out(result.run),
    }
    return Status(201 if result.created else 200, body)


class PauseIn(Schema):
    reason: str = Field("", max_length=500)


@router.post("/programmes/{code}/addressing/pause", response=RunOut, summary="Pause the addressing run")
def addressing_pause(request: HttpRequest, code: str, data: PauseIn) -> dict[str, Any]:
    run = services.addressing_pause(actor=request_actor(request), programme_code=code, reason=data.reason)
    return run_out(run)


@router.post("/programmes/{code}/addressing/resume", response=RunOut, summary="Resume it where it stopped")
def addressing_resume(request: HttpRequest, code: str) -> dict[str, Any]:
    return run_out(services.addressing_resume(actor=request_actor(request), programme_code=code))


class FlagOut(Schema):
    inventory: str
    reason: str
    batch: int
    target: str | None = Field(description="set by hand since")


@router.get(
    "/programmes/{code}/addressing/flags",
    response=page_schema(FlagOut),
    summary="Works the planner could not address",
)
def addressing_flags(request: HttpRequest, code: str, params: Query[PageParams]) -> dict[str, Any]:
    actor = request_actor(request)
    programme = access_programme(actor, code)
    require_permission(actor, READ)
    flags = selectors.run_flags(services.latest_run(programme))

    def out(flag: selectors.FlagRow) -> dict[str, Any]:
        return {
            "inventory": flag.inventory,
            "reason": flag.reason,
            "batch": flag.batch,
            "target": flag.target,
        }

    return paginate(request, flags, params, out)


class OverrideIn(Schema):
    target: str = Field(min_length=1, max_length=64, description="a shelf's or a storage unit's code")
    reason: str = Field("", max_length=500)


class AssignmentOut(Schema):
    inventory: str
    source: str | None
    target: str


@router.put(
    "/programmes/{code}/works/{inventory}/target",
    response=AssignmentOut,
    summary="Set a work's target by hand (checked against the shelf's limits)",
)
def target_override(request: HttpRequest, code: str, inventory: str, data: OverrideIn) -> dict[str, Any]:
    assignment = services.assignment_override(
        actor=request_actor(request),
        programme_code=code,
        inventory=inventory,
        target=data.target,
        reason=data.reason,
    )
    source = assignment.source.code if assignment.source else None
    return {"inventory": assignment.work.inventory, "source": source, "target": assignment.target.code}


class FillParams(PageParams):
    level: str = Field("zone", pattern="^(zone|room|unit|shelf)$")


class FillOut(Schema):
    code: str
    name: str
    kind: str
    works: int
    shelves: int
    load_kg: Decimal
    load_limit_kg: Decimal
    load_pct: float | None
    volume_l: Decimal
    volume_limit_l: Decimal
    volume_pct: float | None
    oversize_works: int = Field(description="works kept on a storage unit itself, too big for its shelves")


def fill_out(rate: selectors.FillRate) -> dict[str, Any]:
    grams, litres = Decimal(1000), Decimal(1_000_000)
    return {
        "code": rate.code, "name": rate.name, "kind": rate.kind, "works": rate.works, "shelves": rate.shelves,
        "load_kg": rate.load_g / grams, "load_limit_kg": rate.load_limit_g / grams, "load_pct": rate.load_pct,
        "volume_l": rate.volume_mm3 / litres, "volume_limit_l": rate.volume_limit_mm3 / litres,
        "volume_pct": rate.volume_pct, "oversize_works": rate.oversize_works,
    }  # fmt: skip


@router.get(
    "/programmes/{code}/fill-rates",
    response=page_schema(FillOut),
    summary="Load and volume used per zone, room, storage unit or shelf of the programme's destinations",
)
def fill_rates(request: HttpRequest, code: str, params: Query[FillParams]) -> dict[str, Any]:
    actor = request_actor(request)
    programme = access_programme(actor, code)
    require_permission(actor, READ)
    _sources, zones = selectors.run_places(services.latest_run(programme))
    return paginate(
        request, selectors.fill_rates(programme.institution, zones, params.level), params, fill_out
    )


class PlacedOut(Schema):
    inventory: str
    at_mm: list[int] = Field(description="x, y, z from the crate's inner corner")
    size_mm: list[int] = Field(description="along the crate's length, width and height")


class CrateOut(Schema):
    barcode: str
    kind: str
    load_kg: Decimal
    max_load_kg: Decimal | None
    alone: bool
    works: list[PlacedOut]


class LooseOut(Schema):
    inventory: str
    reason: str


class PackingOut(Schema):
    convoy: str
    recorded: bool = Field(description="whether this request recorded it (false: a proposal or unchanged)")
    crates: list[CrateOut]
    unpacked: list[LooseOut]


def packing_out(result: packing_services.PackingResult) -> dict[str, Any]:
    crates = []
    for crate in result.plan.crates:
        row = result.crates[crate.spec.id]
        placed = [
            {
                "inventory": result.works[p.work].inventory,
                "at_mm": [p.x, p.y, p.z],
                "size_mm": [p.dx, p.dy, p.dz],
            }
            for p in crate.placements
        ]
        load = Decimal(crate.load) / 1000
        crates.append(
            {"barcode": row.barcode, "kind": row.kind, "load_kg": load, "max_load_kg": row.max_load_kg,
             "alone": crate.alone, "works": placed}
        )  # fmt: skip
    packed = result.plan.crate_of()
    loose = [(f.work, f.reason) for f in result.plan.flags if f.work not in packed]
    loose += [(work_id, "unmeasured") for work_id in result.unmeasured]
    unpacked = [{"inventory": result.works[w].inventory, "reason": reason} for w, reason in loose]
    return {"convoy": result.convoy.code, "recorded": result.recorded, "crates": crates, "unpacked": unpacked}


@router.get(
    "/convoys/{code}/packing/proposal", response=PackingOut, summary="Which works would go in which crate"
)
def packing_proposal(request: HttpRequest, code: str) -> dict[str, Any]:
    return packing_out(packing_services.convoy_pack(actor=request_actor(request), convoy_code=code))


@router.post(
    "/convoys/{code}/packing",
    response={200: PackingOut, 201: PackingOut},
    summary="Record the packing of a convoy's works into free crates (the manifest's crates)",
)
def packing_apply(request: HttpRequest, code: str) -> Status[dict[str, Any]]:
    result = packing_services.convoy_pack(actor=request_actor(request), convoy_code=code, apply=True)
    return Status(201 if result.recorded else 200, packing_out(result))


def crate_list_out(crate: selectors.CrateList) -> dict[str, Any]:
    works = [
        {
            "inventory": p.work.inventory,
            "at_mm": [p.x_mm, p.y_mm, p.z_mm],
            "size_mm": [p.dx_mm, p.dy_mm, p.dz_mm],
        }
        for p in crate.placements
    ]
    return {
        "barcode": crate.crate.barcode, "kind": crate.crate.kind, "load_kg": crate.load_kg,
        "max_load_kg": crate.crate.max_load_kg, "alone": any(p.alone for p in crate.placements),
        "works": works,
    }  # fmt: skip


@router.get(
    "/convoys/{code}/packing", response=PackingOut, summary="The convoy's packing list, crate by crate"
)
def packing_list(request: HttpRequest, code: str) -> dict[str, Any]:
    convoy = access_convoy(request_actor(request), code)
    crates, loose = selectors.packing_list(convoy)
    return {
        "convoy": convoy.code,
        "recorded": False,
        "crates": [crate_list_out(crate) for crate in crates],
        "unpacked": [{"inventory": p.work.inventory, "reason": p.alone} for p in loose],
    }
