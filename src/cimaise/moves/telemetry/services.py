"""Telemetry writes: a tracker's batch of readings, checked, stored, turned into incidents and into
the convoy's custody record, in one transaction.

Idempotent per device: readings are unique by their client id, kept even when rejected, so a
resend (whole or partial) stores nothing twice and gets the same accepted and rejected lists.
Readings may arrive out of order within and across batches: the rules replay reading time from
the earliest moment a new reading can change (see :func:`window_start`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from cimaise.core.errors import InvalidInput
from cimaise.ledger.services import FactDraft, facts_append, ledger_lock
from cimaise.moves import facts_telemetry as facts
from cimaise.moves.epcis import parse_time
from cimaise.moves.models import Convoy, ConvoyItem, ConvoyState, Crate, CustodyEvent, Incident, TrackerDevice
from cimaise.moves.models import TelemetryReading as Row
from cimaise.moves.projection import chunks
from cimaise.moves.rows import insert_rows
from cimaise.moves.services import custody_record
from cimaise.moves.telemetry import conf, custody, incidents, rules
from cimaise.moves.telemetry.geo import Route
from cimaise.moves.telemetry.readings import Reading, Rejection, Track, parse_reading, reading_id
from cimaise.moves.telemetry.selectors import positions_around, readings_since, stop_run_start
from cimaise.moves.telemetry.tasks import notify_on_commit

_COLUMNS = ("id", "type", "time", "value", "lat", "lon", "speed", "door")
ATTNAMES = (
    "institution_id", "device_id", "convoy_id", "reading_id", "kind", "time", "value", "lat", "lon", "speed",
    "door_open", "rejection", "rejection_field", "rejection_message", "fact_id",
)  # fmt: skip


@dataclass
class IngestResult:
    """The answer to a batch: a resend has the same ``accepted`` and ``rejected``."""

    convoy: Convoy
    accepted: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    recorded: int = 0
    already_recorded: int = 0
    opened: list[Incident] = field(default_factory=list)


@dataclass
class Batch:
    """A batch sorted out: outcome by reading id (None: accepted), and what is new."""

    outcomes: dict[str, Rejection | None] = field(default_factory=dict)
    known: set[str] = field(default_factory=set)
    fresh: list[Reading] = field(default_factory=list)
    fresh_rejected: list[Rejection] = field(default_factory=list)
    unidentified: dict[int, Rejection] = field(default_factory=dict)


def telemetry_ingest(
    *, device: TrackerDevice, convoy: Convoy, readings: Sequence[Any], now: dt.datetime | None = None
) -> IngestResult:
    """Take a tracker's batch for one of its vehicle's convoys (see ``devices.convoy_for_tracker``)."""
    limit = int(conf.value("TELEMETRY_MAX_READINGS"))
    if len(readings) > limit:
        raise InvalidInput(f"at most {limit} readings per request, got {len(readings)}", field="readings")
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        convoy = _locked(convoy)  # the convoy, then the ledger: the order convoy_move takes them in
        ledger_lock()  # a concurrent resend waits here, then finds its readings stored
        batch = _sort_out(device, convoy, readings, now)
        fact_id = _store(device, convoy, batch, now) if batch.fresh or batch.fresh_rejected else 0
        opened = _apply_rules(device, convoy, batch.fresh, fact_id, now) if batch.fresh else []
    return _answer(convoy, readings, batch, opened)


def _locked(convoy: Convoy) -> Convoy:
    rows = Convoy.objects.select_for_update(of=("self",))
    return rows.select_related("institution", "vehicle__institution", "origin", "destination").get(
        pk=convoy.pk
    )


def _sort_out(device: TrackerDevice, convoy: Convoy, readings: Sequence[Any], now: dt.datetime) -> Batch:
    """Each reading's outcome: as stored before, as its first copy in the batch, or checked now."""
    batch = Batch()
    _recall(device, readings, batch)
    bounds = conf.bounds(now)
    checked: list[tuple[int, Reading | Rejection]] = []
    for index, raw in enumerate(readings):
        rid = reading_id(raw)
        if rid is None:
            batch.unidentified[index] = cast(Rejection, parse_reading(raw, index, bounds))
        elif rid not in batch.outcomes:
            batch.outcomes[rid] = None  # taken: a copy later in the batch shares this outcome
            checked.append((index, parse_reading(raw, index, bounds)))
    for outcome in _check_jumps(convoy, checked, bounds.max_speed_kmh):
        if isinstance(outcome, Rejection):
            batch.fresh_rejected.append(outcome)
            batch.outcomes[str(outcome.id)] = outcome
        else:
            batch.fresh.append(outcome)
    return batch


def _recall(device: TrackerDevice, readings: Sequence[Any], batch: Batch) -> None:
    """The outcomes of the readings this device sent before (by reading id)."""
    ids = {rid for raw in readings if (rid := reading_id(raw)) is not None}
    for chunk in chunks(sorted(ids)):
        stored = Row.objects.filter(device=device, reading_id__in=chunk)
        fields = ("reading_id", "rejection", "rejection_field", "rejection_message")
        for rid, reason, field_name, message in stored.values_list(*fields):
            batch.known.add(rid)
            batch.outcomes[rid] = Rejection(-1, rid, reason, field_name, message) if reason else None


def _check_jumps(
    convoy: Convoy, checked: list[tuple[int, Reading | Rejection]], max_speed: float
) -> list[Reading | Rejection]:
    """Refuse the new positions no truck could reach from their neighbours (stored or new),
    taking the new ones in reading time; ``checked`` holds (index in the request, outcome)."""
    outcomes = {index: outcome for index, outcome in checked}
    positions = [(i, r) for i, r in checked if isinstance(r, Reading) and r.kind == "position"]
    if positions:
        times = [r.time for _i, r in positions]
        track = Track(positions_around(convoy, min(times), max(times)), max_speed)
        for index, position in sorted(positions, key=lambda ir: (ir[1].time, ir[1].id)):
            outcomes[index] = track.check(position, index) or position
    return list(outcomes.values())


def _rows(device: TrackerDevice, convoy: Convoy, batch: Batch, fact_id: int) -> list[tuple[Any, ...]]:
    head = (device.institution_id, device.pk, convoy.pk)
    rows: list[tuple[Any, ...]] = [
        (*head, r.id, r.kind, r.time, r.value, r.lat, r.lon, r.speed, r.door_open, "", "", "", fact_id)
        for r in batch.fresh
    ]
    for rejection in batch.fresh_rejected:
        rows.append(
            (*head, rejection.id, "", None, None, None, None, None, None,
             rejection.reason, rejection.field, rejection.message[:300], fact_id)
        )  # fmt: skip
    return rows


def _compact(r: Reading) -> list[Any]:
    door = None if r.door_open is None else ("open" if r.door_open else "closed")
    return [r.id, r.kind, r.time.isoformat(), r.value, r.lat, r.lon, r.speed, door]


def _store(device: TrackerDevice, convoy: Convoy, batch: Batch, now: dt.datetime) -> int:
    """Record the batch's fact and its reading rows; the fact's id."""
    body = {
        "device": device.pk,
        "columns": list(_COLUMNS),
        "readings": [_compact(r) for r in batch.fresh],
        "rejected": [[r.index, r.id, r.reason, r.field, r.message] for r in batch.fresh_rejected],
    }
    draft = _draft(convoy, facts.TELEMETRY_RECEIVED.name, body, device.actor_label)
    fact = facts_append([draft], now=now)[0]
    insert_rows(Row, ATTNAMES, _rows(device, convoy, batch, fact.id))
    return fact.id


def _draft(convoy: Convoy, fact_type: str, body: dict[str, Any], who: str) -> FactDraft:
    return FactDraft(
        type=fact_type,
        stream=f"moves.telemetry:{convoy.institution.code}:{convoy.code}",
        body={"convoy": convoy.uri, **body},
        actor=who,
        institution_id=convoy.institution_id,
    )


def plan_of(convoy: Convoy) -> rules.Plan:
    """The convoy's route, planned stops, origin and destination, as the rules take them
    (malformed points of the route or stops are left out)."""
    route = [(float(p[0]), float(p[1])) for p in convoy.route if _is_point(p)]
    stops = [
        s for s in convoy.planned_stops if isinstance(s, dict) and _is_point([s.get("lat"), s.get("lon")])
    ]
    return rules.Plan(
        route=Route(route),
        stops=tuple(_stop(s) for s in stops),
        origin=_site_point(convoy.origin),
        destination=_site_point(convoy.destination),
    )


def _is_point(value: Any) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) >= 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value[:2])
    )


def _stop(raw: dict[str, Any]) -> rules.PlannedStop:
    point = (float(raw["lat"]), float(raw["lon"]))
    return rules.PlannedStop(point=point, start=parse_time(raw.get("from")), end=parse_time(raw.get("until")))


def _site_point(site: Any) -> tuple[float, float] | None:
    if site is None or site.latitude is None or site.longitude is None:
        return None
    return (float(site.latitude), float(site.longitude))


def shock_threshold(convoy: Convoy) -> float | None:
    """The lowest shock threshold of the crates on the convoy's manifest (None: none has one)."""
    crates = ConvoyItem.objects.filter(convoy=convoy, crate__isnull=False).values("crate_id")
    rated = Crate.objects.filter(pk__in=crates, shock_threshold_g__isnull=False)
    lowest = rated.aggregate(g=Min("shock_threshold_g"))
    return None if lowest["g"] is None else float(lowest["g"])


def window_start(convoy: Convoy, earliest: dt.datetime, limits: rules.Limits) -> dt.datetime:
    """The reading time from which to replay the rules after new readings from ``earliest`` on:
    back to the start of any incident still reaching there, and of the stop the truck was in."""
    since = earliest
    while True:
        candidates = [since, stop_run_start(convoy, since, limits)]
        start = incidents.earliest_start(convoy, since)
        if start is not None:
            candidates.append(start)
        earlier = min(candidates)
        if earlier == since:
            return since
        since = earlier


def _apply_rules(
    device: TrackerDevice, convoy: Convoy, fresh: list[Reading], fact_id: int, now: dt.datetime
) -> list[Incident]:
    limits = conf.limits(shock_g=shock_threshold(convoy))
    since = window_start(convoy, min(r.time for r in fresh), limits)
    findings = rules.detect(readings_since(convoy, since), plan_of(convoy), limits)
    changes = incidents.reconcile(convoy, findings.excursions, since, device.actor_label)
    opened = incidents.apply(convoy, changes, now=now)
    events = [custody.sensor_event(convoy, fresh, limits, fact_id=fact_id)]
    arrival = findings.arrival if findings.arrival and not _has_arrived(convoy) else None
    if arrival is not None:
        events.append(custody.arrival_event(convoy, arrival))
    parsed = custody.parsed(events, now=now, skew=conf.skew())
    recorded = custody_record(institution=convoy.institution, events=parsed, who=device.actor_label, now=now)
    if arrival is not None:
        _arrive(convoy, arrival, recorded.event_ids[-1], device.actor_label, now)
    notify_on_commit([incident.pk for incident in opened])
    return opened


def _has_arrived(convoy: Convoy) -> bool:
    """An ``arriving`` event names the convoy already (from the geofence or from the crew)."""
    return CustodyEvent.objects.filter(
        institution=convoy.institution, biz_step="arriving", biz_transaction=convoy.uri, retracted=False
    ).exists()


def _arrive(convoy: Convoy, arrival: rules.Arrival, event_id: str, who: str, now: dt.datetime) -> None:
    before = convoy.state  # locked since the start of the batch
    if before == ConvoyState.IN_TRANSIT:
        convoy.state = ConvoyState.ARRIVED
        convoy.save(update_fields=["state"])
    body = {
        "eventID": event_id,
        "reading": arrival.reading.id,
        "at": arrival.reading.time.isoformat(),
        "distance_m": arrival.distance_m,
        "from": before,
        "to": convoy.state,
    }
    facts_append([_draft(convoy, facts.GEOFENCE_ARRIVED.name, body, who)], now=now)


def _answer(convoy: Convoy, readings: Sequence[Any], batch: Batch, opened: list[Incident]) -> IngestResult:
    result = IngestResult(convoy=convoy, opened=opened, recorded=len(batch.fresh))
    for index, raw in enumerate(readings):
        rid = reading_id(raw)
        outcome = batch.unidentified.get(index) if rid is None else batch.outcomes[rid]
        if rid in batch.known:
            result.already_recorded += 1
        if outcome is None:
            result.accepted.append(str(rid))
        else:
            result.rejected.append(Rejection(index, rid, outcome.reason, outcome.field, outcome.message))
    return result
