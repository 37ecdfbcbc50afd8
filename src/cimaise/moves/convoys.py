"""A convoy's life: planned → loading → sealed → in transit → arrived → unloaded → closed.

Each transition is one command: it locks the convoy, checks what must hold, records the custody
event that says it happened (through the capture service, in the same transaction) and a
``moves.convoy.moved`` fact. A refused transition changes nothing and says every reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from cimaise.core.access import require_permission
from cimaise.core.actors import Actor
from cimaise.core.errors import Conflict, InvalidInput
from cimaise.core.models import Place
from cimaise.ledger.services import FactDraft, facts_append
from cimaise.moves import facts
from cimaise.moves.epcis import ParsedEvent, parse_payload
from cimaise.moves.models import (
    ConditionReport,
    Convoy,
    ConvoyState,
    CustodyEvent,
    DiscrepancyResolution,
    Incident,
    ObjectState,
    Status,
)
from cimaise.moves.reconciliation import convoy_reconciliation
from cimaise.moves.services import custody_record
from cimaise.moves.vocab import CONVOY_CLOSING, OWN_CONTEXT, SEALING, UNSEALING

S = ConvoyState
FROM: dict[str, str] = {
    S.LOADING: S.PLANNED,
    S.SEALED: S.LOADING,
    S.IN_TRANSIT: S.SEALED,
    S.ARRIVED: S.IN_TRANSIT,
    S.UNLOADED: S.ARRIVED,
    S.CLOSED: S.UNLOADED,
}


class ConvoyRefused(Conflict):
    """The transition cannot happen now; ``details["reasons"]`` lists why."""

    code = "convoy_refused"


def _refuse(to: str, reasons: list[dict[str, Any]]) -> None:
    if reasons:
        said = "; ".join(r["reason"] for r in reasons[:5])
        raise ConvoyRefused(f"the convoy cannot become {to}: {said}", details={"to": to, "reasons": reasons})


def convoy_move(
    *, actor: Actor, convoy: Convoy, to: str, seals: list[str] | None = None, now: dt.datetime | None = None
) -> Convoy:
    """Move the convoy to state ``to`` (the next one), with the seal numbers when sealing/opening."""
    require_permission(actor, "moves.change_convoy")
    if to == S.CLOSED:
        require_permission(actor, "moves.add_discrepancyresolution")
    if to not in FROM:
        raise InvalidInput(f"unknown convoy state {to!r}", field="to")
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        locked = (
            Convoy.objects.select_for_update(of=("self",))
            .select_related("vehicle__institution", "institution")
            .get(pk=convoy.pk)
        )
        if locked.state != FROM[to]:
            _refuse(to, [{"reason": f"it is {locked.state}, not {FROM[to]}", "state": locked.state}])
        if locked.vehicle is None:
            _refuse(to, [{"reason": "no vehicle is assigned"}])
        _CHECKS.get(to, _no_check)(locked, seals or [])
        events = _EVENTS[to](locked, seals or [], now)
        recorded = custody_record(institution=locked.institution, events=events, who=actor.label, now=now)
        _apply(locked, to, seals or [], now, actor.label, recorded.event_ids)
    return locked


def _no_check(convoy: Convoy, seals: list[str]) -> None:
    return None


def _check_seals(convoy: Convoy, seals: list[str]) -> None:
    if not seals or any(not isinstance(s, str) or not s.strip() for s in seals):
        raise InvalidInput("give the seal numbers, each a non-empty text", field="seals")


def _cargo(convoy: Convoy) -> tuple[list[ObjectState], list[ObjectState]]:
    """The crates on the convoy's truck now, and the works inside them."""
    assert convoy.vehicle is not None  # noqa: S101  (checked by the caller)
    crates = list(ObjectState.objects.filter(institution=convoy.institution, container=convoy.vehicle.uri))
    works = list(
        ObjectState.objects.filter(
            institution=convoy.institution, container__in=[c.uri for c in crates], kind="work"
        ).select_related("work")
    )
    return crates, works


def _check_departure(convoy: Convoy, seals: list[str]) -> None:
    crates, works = _cargo(convoy)
    reasons: list[dict[str, Any]] = []
    if not crates:
        reasons.append({"reason": "no crate is loaded"})
    checked = set(
        ConditionReport.objects.filter(
            work_id__in=[w.work_id for w in works], phase=ConditionReport.Phase.BEFORE
        ).values_list("work_id", flat=True)
    )
    for state in works:
        if state.inspected_at is None and state.work_id not in checked:
            reasons.append({"reason": "a work has no condition check", "uri": state.uri})
        if state.work is None or state.work.insurance_value is None:
            reasons.append({"reason": "a work has no insurance value", "uri": state.uri})
    reasons += _capacity(convoy, crates, works)
    _refuse(S.IN_TRANSIT, reasons)


def _capacity(convoy: Convoy, crates: list[ObjectState], works: list[ObjectState]) -> list[dict[str, Any]]:
    from cimaise.moves.models import Crate

    vehicle = convoy.vehicle
    assert vehicle is not None  # noqa: S101
    rows = Crate.objects.filter(institution=convoy.institution).select_related("institution")
    by_uri = {
        crate.uri: crate for crate in rows.filter(barcode__in=[c.uri.rsplit(":", 1)[1] for c in crates])
    }
    load = sum((w.work.weight_kg or Decimal(0) for w in works if w.work), Decimal(0))
    load += sum((c.tare_kg or Decimal(0) for c in by_uri.values()), Decimal(0))
    litres = sum((_litres(c) for c in by_uri.values()), Decimal(0))
    reasons = []
    if vehicle.max_load_kg is not None and load > vehicle.max_load_kg:
        reasons.append(
            {"reason": "over the vehicle's load", "load_kg": str(load), "limit": str(vehicle.max_load_kg)}
        )
    if vehicle.volume_m3 is not None and litres / 1000 > vehicle.volume_m3:
        volume = str((litres / 1000).quantize(Decimal("0.01")))
        reasons.append(
            {"reason": "over the vehicle's volume", "volume_m3": volume, "limit": str(vehicle.volume_m3)}
        )
    return reasons


def _litres(crate: Any) -> Decimal:
    sizes = (crate.inner_length_cm, crate.inner_width_cm, crate.inner_height_cm)
    if any(size is None for size in sizes):
        return Decimal(0)
    return Decimal(sizes[0] * sizes[1] * sizes[2]) / 1000


def _check_closing(convoy: Convoy, seals: list[str]) -> None:
    report = convoy_reconciliation(convoy)
    resolved = set(DiscrepancyResolution.objects.filter(convoy=convoy).values_list("kind", "step", "uri"))
    open_ones = [d for d in report.discrepancies if (d.kind, d.step, d.uri) not in resolved]
    reasons = [
        {
            "reason": f"unexplained discrepancy: {d.kind} at {d.step}",
            "kind": d.kind,
            "step": d.step,
            "uri": d.uri,
        }
        for d in open_ones
    ]
    _refuse(S.CLOSED, reasons)


_CHECKS: dict[str, Callable[[Convoy, list[str]], None]] = {
    S.SEALED: _check_seals,
    S.IN_TRANSIT: _check_departure,
    S.UNLOADED: _check_seals,
    S.CLOSED: _check_closing,
}


def _event(convoy: Convoy, step: str, now: dt.datetime, **fields: Any) -> dict[str, Any]:
    assert convoy.vehicle is not None  # noqa: S101
    event = {
        "type": "ObjectEvent",
        "action": "OBSERVE",
        "epcList": [convoy.vehicle.uri],
        "bizStep": step,
        "eventTime": now.isoformat(),
        "bizTransactionList": [{"type": "bol", "bizTransaction": convoy.uri}],
    }
    return event | fields


def _destination(convoy: Convoy) -> dict[str, dict[str, str]]:
    place = (
        Place.objects.filter(site=convoy.destination, parent__isnull=True)
        .select_related("institution")
        .first()
        if convoy.destination_id
        else None
    )
    return {"bizLocation": {"id": place.uri}, "readPoint": {"id": place.uri}} if place else {}


def _parsed(events: list[dict[str, Any]], now: dt.datetime) -> list[ParsedEvent]:
    document = {"@context": [OWN_CONTEXT], "type": "EPCISDocument", "epcisBody": {"eventList": events}}
    return parse_payload(document, now=now, skew=dt.timedelta(seconds=1))


def _loading(convoy: Convoy, seals: list[str], now: dt.datetime) -> list[ParsedEvent]:
    return _parsed([_event(convoy, "staging_outbound", now, disposition="in_progress")], now)


def _sealing(convoy: Convoy, seals: list[str], now: dt.datetime) -> list[ParsedEvent]:
    event = _event(convoy, SEALING, now, disposition="container_closed", **{"cimaise:seals": seals})
    return _parsed([event], now)


def _departing(convoy: Convoy, seals: list[str], now: dt.datetime) -> list[ParsedEvent]:
    return _parsed([_event(convoy, "departing", now, disposition="in_transit")], now)


def _arriving(convoy: Convoy, seals: list[str], now: dt.datetime) -> list[ParsedEvent]:
    """Nothing when the tracker's geofence already recorded the arrival (one arrival per convoy)."""
    recorded = CustodyEvent.objects.filter(
        institution=convoy.institution, biz_transaction=convoy.uri, biz_step="arriving", retracted=False
    ).exists()
    return [] if recorded else _parsed([_event(convoy, "arriving", now, **_destination(convoy))], now)


def _unloading(convoy: Convoy, seals: list[str], now: dt.datetime) -> list[ParsedEvent]:
    assert convoy.vehicle is not None  # noqa: S101
    opened = _event(convoy, UNSEALING, now, disposition="container_open", **{"cimaise:seals": seals})
    crates, _works = _cargo(convoy)
    unload = {
        "type": "AggregationEvent",
        "action": "DELETE",
        "parentID": convoy.vehicle.uri,
        "childEPCs": sorted(c.uri for c in crates),
        "bizStep": "unloading",
        "eventTime": (now + dt.timedelta(milliseconds=1)).isoformat(),
        "bizTransactionList": [{"type": "bol", "bizTransaction": convoy.uri}],
        **_destination(convoy),
    }
    return _parsed([opened, unload], now + dt.timedelta(seconds=1))


def _closing(convoy: Convoy, seals: list[str], now: dt.datetime) -> list[ParsedEvent]:
    return _parsed([_event(convoy, CONVOY_CLOSING, now)], now)


_EVENTS: dict[str, Callable[[Convoy, list[str], dt.datetime], list[ParsedEvent]]] = {
    S.LOADING: _loading,
    S.SEALED: _sealing,
    S.IN_TRANSIT: _departing,
    S.ARRIVED: _arriving,
    S.UNLOADED: _unloading,
    S.CLOSED: _closing,
}


def _apply(
    convoy: Convoy, to: str, seals: list[str], now: dt.datetime, who: str, event_ids: list[str]
) -> None:
    before = convoy.state
    convoy.state = to
    fields = ["state"]
    if to == S.SEALED:
        convoy.seals, fields = list(seals), [*fields, "seals"]
    if to == S.UNLOADED:
        convoy.seals_checked, fields = list(seals), [*fields, "seals_checked"]
    convoy.save(update_fields=fields)
    body = {"convoy": convoy.uri, "from": before, "to": to, "seals": seals, "eventIDs": event_ids}
    facts_append([_draft(convoy, facts.CONVOY_MOVED.name, body, who)], now=now)
    if to == S.UNLOADED and sorted(seals) != sorted(convoy.seals):
        _seal_mismatch(convoy, seals, now, who)


def _seal_mismatch(convoy: Convoy, seals: list[str], now: dt.datetime, who: str) -> None:
    evidence = {"closed_with": convoy.seals, "opened_with": seals}
    body = {"kind": Incident.Kind.SEAL_MISMATCH.value, "convoy": convoy.uri, "evidence": evidence}
    fact = facts_append([_draft(convoy, facts.INCIDENT_OPENED.name, body, who)], now=now)[0]
    Incident.objects.create(
        institution=convoy.institution,
        convoy=convoy,
        kind=Incident.Kind.SEAL_MISMATCH,
        started_at=now,
        ended_at=now,
        evidence=evidence,
        fact_id=fact.id,
    )


def _draft(convoy: Convoy, fact_type: str, body: dict[str, Any], who: str) -> FactDraft:
    return FactDraft(
        type=fact_type,
        stream=f"moves.convoy:{convoy.institution.code}:{convoy.code}",
        body=body,
        actor=who,
        institution_id=convoy.institution_id,
    )


def discrepancy_resolve(
    *,
    actor: Actor,
    convoy: Convoy,
    kind: str,
    step: str,
    uri: str,
    comment: str,
    now: dt.datetime | None = None,
) -> DiscrepancyResolution:
    """A registrar explains one discrepancy of the convoy's reconciliation."""
    require_permission(actor, "moves.add_discrepancyresolution")
    comment = comment.strip()
    if not comment:
        raise InvalidInput("say why the discrepancy is acceptable", field="comment")
    listed = {(d.kind, d.step, d.uri) for d in convoy_reconciliation(convoy).discrepancies}
    if (kind, step, uri) not in listed:
        raise InvalidInput("the reconciliation lists no such discrepancy", field="uri")
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        if DiscrepancyResolution.objects.filter(convoy=convoy, kind=kind, step=step, uri=uri).exists():
            raise Conflict("this discrepancy is already resolved", code="already_resolved")
        body = {"convoy": convoy.uri, "kind": kind, "step": step, "uri": uri, "comment": comment}
        fact = facts_append([_draft(convoy, facts.DISCREPANCY_RESOLVED.name, body, actor.label)], now=now)[0]
        return DiscrepancyResolution.objects.create(
            convoy=convoy, kind=kind, step=step, uri=uri, comment=comment,
            resolved_by=actor.label, resolved_at=now, fact_id=fact.id,
        )  # fmt: skip


def convoy_cargo_status(convoy: Convoy) -> dict[str, int]:
    """How many crates and works are on the truck now (for pages and checks)."""
    if convoy.vehicle is None:
        return {"crates": 0, "works": 0}
    crates, works = _cargo(convoy)
    return {"crates": len(crates), "works": sum(1 for w in works if w.status != Status.STORED)}
