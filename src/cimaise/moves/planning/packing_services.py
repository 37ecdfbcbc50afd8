"""Packing a convoy: which of its works go in which free crate, recorded as the manifest's
crates (``ConvoyItem.crate``) with each work's place in its crate, and a ledger fact."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from cimaise.collection.models import Work
from cimaise.core.access import require_permission
from cimaise.core.actors import Actor
from cimaise.core.errors import Conflict
from cimaise.ledger.services import facts_append, ledger_lock
from cimaise.moves import facts_planning as facts
from cimaise.moves import roles_planning  # noqa: F401  (the grants these services check)
from cimaise.moves.access import access_convoy
from cimaise.moves.models import Convoy, ConvoyItem, ConvoyState, Crate, PackingPlacement
from cimaise.moves.planning import selectors
from cimaise.moves.planning.packing import Item, PackingPlan, pack
from cimaise.moves.planning.services import fact_draft
from cimaise.moves.selectors import work_states

PACK = "moves.change_convoyitem"


@dataclass
class PackingResult:
    """A convoy's packing: the plan, the works and crates it names, the works not measured."""

    convoy: Convoy
    plan: PackingPlan
    works: dict[int, Work]
    crates: dict[int, Crate]
    unmeasured: list[int]
    recorded: bool = False


def convoy_pack(
    *, actor: Actor, convoy_code: str, apply: bool = False, now: dt.datetime | None = None
) -> PackingResult:
    """Propose (or, with ``apply``, record) which of the convoy's works go in which free crate.

    Recording the same packing again writes nothing."""
    convoy = access_convoy(actor, convoy_code)
    if not apply:
        return _packing(convoy)
    require_permission(actor, PACK)
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        ledger_lock()  # crates are free for one packing at a time
        convoy = Convoy.objects.select_for_update().select_related("institution", "vehicle").get(pk=convoy.pk)
        result = _packing(convoy)
        rows = _placement_rows(result)
        if _stored(convoy) != {_row_key(row) for row in rows}:
            _store_packing(result, rows, actor.label, now)
            result.recorded = True
    return result


def _packing(convoy: Convoy) -> PackingResult:
    if convoy.state != ConvoyState.PLANNED:
        raise Conflict(
            f"convoy {convoy.code} is {convoy.state}: packing is planned before", code="not_planned"
        )
    works = {work.pk: work for work in selectors.convoy_works(convoy)}
    states = work_states(convoy.institution, list(works))
    if any(state.status in selectors.BUSY_CRATE for state in states.values()):
        raise Conflict(f"works of convoy {convoy.code} are packed already", code="already_packed")
    specs = selectors.work_specs(Work.objects.filter(pk__in=list(works)))
    items = [
        Item(s.id, s.dims, s.weight, s.fragility)
        for s in specs
        if s.dims is not None and s.weight is not None
    ]
    plan = pack(items, selectors.crates_free(convoy.institution, convoy), selectors.vehicle_limit(convoy))
    crates = Crate.objects.in_bulk([crate.spec.id for crate in plan.crates])
    unmeasured = sorted(s.id for s in specs if s.dims is None or s.weight is None)
    return PackingResult(convoy, plan, works, crates, unmeasured)


def _placement_rows(result: PackingResult) -> list[PackingPlacement]:
    rows = []
    for crate in result.plan.crates:
        alone = PackingPlacement.Alone.TRAVELS_ALONE if crate.alone else ""
        for p in crate.placements:
            rows.append(
                PackingPlacement(
                    convoy=result.convoy,
                    work_id=p.work,
                    crate_id=crate.spec.id,
                    alone=alone,
                    x_mm=p.x,
                    y_mm=p.y,
                    z_mm=p.z,
                    dx_mm=p.dx,
                    dy_mm=p.dy,
                    dz_mm=p.dz,
                )  # fmt: skip
            )
    packed = {row.work_id for row in rows}
    loose = [(flag.work, flag.reason) for flag in result.plan.flags if flag.work not in packed]
    loose += [(work_id, PackingPlacement.Alone.UNMEASURED) for work_id in result.unmeasured]
    rows += [PackingPlacement(convoy=result.convoy, work_id=w, alone=reason) for w, reason in loose]
    return rows


def _row_key(row: PackingPlacement) -> tuple[Any, ...]:
    return (
        row.work_id,
        row.crate_id,
        row.x_mm,
        row.y_mm,
        row.z_mm,
        row.dx_mm,
        row.dy_mm,
        row.dz_mm,
        row.alone,
    )


def _stored(convoy: Convoy) -> set[tuple[Any, ...]]:
    fields = ("work_id", "crate_id", "x_mm", "y_mm", "z_mm", "dx_mm", "dy_mm", "dz_mm", "alone")
    return set(PackingPlacement.objects.filter(convoy=convoy).values_list(*fields))


def _store_packing(result: PackingResult, rows: list[PackingPlacement], who: str, now: dt.datetime) -> None:
    convoy = result.convoy
    crate_of = {row.work_id: row.crate_id for row in rows}
    items = list(ConvoyItem.objects.filter(convoy=convoy))
    for item in items:
        item.crate_id = crate_of.get(item.work_id)
    body = _packing_body(result, rows)
    facts_append([fact_draft(convoy.institution, facts.PACKING_PLANNED.name, body, who)], now=now)
    ConvoyItem.objects.bulk_update(items, ["crate"], batch_size=500)
    PackingPlacement.objects.filter(convoy=convoy).delete()
    PackingPlacement.objects.bulk_create(rows, batch_size=500)


def _packing_body(result: PackingResult, rows: list[PackingPlacement]) -> dict[str, Any]:
    inventory = {pk: work.inventory for pk, work in result.works.items()}
    barcode = {pk: crate.barcode for pk, crate in result.crates.items()}
    crates: dict[str, list[dict[str, Any]]] = {}
    alone = []
    for row in rows:
        if row.crate_id is not None:
            at = {"work": inventory[row.work_id], "at": [row.x_mm, row.y_mm, row.z_mm]}
            crates.setdefault(barcode[row.crate_id], []).append(
                at | {"size": [row.dx_mm, row.dy_mm, row.dz_mm]}
            )
        if row.alone:
            crate = barcode.get(row.crate_id) if row.crate_id is not None else None
            alone.append({"work": inventory[row.work_id], "reason": row.alone, "crate": crate})
    return {
        "convoy": result.convoy.uri,
        "crates": [{"crate": code, "works": works} for code, works in sorted(crates.items())],
        "alone": alone,
    }
