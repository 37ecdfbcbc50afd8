"""Scans at the lanes (DESIGN §3, §5, §6.5): one durable transaction per scan, which records the
answer as an ``Entry`` row and a fact, and answers the same again for a resent nonce.

Checks, in order: the signature (``forged``), the revocation list (``revoked``), the ticket known
here (``unknown``), its order paid (``unpaid``); then the entrance's rule (:mod:`.decide`, the
same code the entrance agents run offline). The server's clock decides; the device's time is
recorded next to it. A group code admits its party (``people``).

Two lanes scanning the same code at once: the ticket row is locked (``SELECT … FOR UPDATE``)
before earlier entries are read, so one of them waits and then sees the other's entry. The
ledger lock is taken before an entry row is inserted, so entry ids follow commit order and the
agents' feed (``sync``) can follow them by id without skipping one that commits late.

Also here: a visitor let through by staff (``entry_override``: a reason, logged with the
operator) and a turnstile's "not passed" (``entry_not_passed``), which cancels an entry.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import IntegrityError, transaction
from django.utils import timezone

from cimaise.access import decide as d
from cimaise.access.facts import ENTRY_ACCEPTED, ENTRY_CANCELLED, ENTRY_REJECTED, draft
from cimaise.access.models import Entrance, Entry, EntryCancellation, EntryRule, Lane
from cimaise.access.roles import OVERRIDE, SCAN
from cimaise.access.texts import reason_text
from cimaise.core.access import own_institution, require_permission
from cimaise.core.actors import Actor
from cimaise.core.errors import Conflict, InvalidInput, NotFound
from cimaise.core.models import Institution
from cimaise.ledger.services import facts_append, ledger_lock
from cimaise.ticketing.codes import CodePayload, ForgedCode, code_verify
from cimaise.ticketing.models import Order, Revocation, Ticket
from cimaise.ticketing.tickets import public_keys

CODE_MAX_CHARS = 512  # a real code is 162 characters; anything much longer is not one of ours
NONCE_MAX_CHARS = 64
REASON_MIN_CHARS = 3
REASON_MAX_CHARS = 500
MAX_PEOPLE = 255

# kept importable from here: the tests and the API name reasons through this module
OK, REENTRY, EXIT, OVERRIDE_REASON = d.OK, d.REENTRY, d.EXIT, d.OVERRIDE
FORGED, REVOKED, UNKNOWN, UNPAID = d.FORGED, d.REVOKED, d.UNKNOWN, d.UNPAID
TOO_EARLY, TOO_LATE, EXPIRED = d.TOO_EARLY, d.TOO_LATE, d.EXPIRED
WRONG_ENTRANCE, ALREADY_USED = d.WRONG_ENTRANCE, d.ALREADY_USED
REASONS = d.REASONS


@dataclass(frozen=True)
class ScanResult:
    result: str
    reason: str
    entry_id: int
    replayed: bool = False
    ticket: dict[str, Any] | None = field(default=None)
    people: int = 1

    @property
    def text(self) -> str:
        return reason_text(self.reason)

    @property
    def accepted(self) -> bool:
        return self.result == Entry.Result.ACCEPTED


@dataclass(frozen=True)
class Decision:
    reason: str
    payload: CodePayload | None = None
    ticket: Ticket | None = None

    @property
    def result(self) -> str:
        return Entry.Result.ACCEPTED if d.is_accepted(self.reason) else Entry.Result.REJECTED

    @property
    def people(self) -> int:
        return self.payload.party_size if self.payload else 1


@dataclass(frozen=True)
class Scan:
    """What a lane sent: the code as read, the direction, the device's nonce and clock."""

    code: str
    direction: str
    nonce: str
    scanned_at: dt.datetime


# --- reads -------------------------------------------------------------------------------------


def lane_for(*, actor: Actor, entrance: str, lane: str) -> tuple[Entrance, Lane]:
    """The actor's institution's active entrance and lane by code (one query when both exist);
    ``NotFound`` naming the field."""
    institution = own_institution(actor)
    row = (
        Lane.objects.select_related("entrance__institution")
        .filter(
            entrance__institution=institution,
            entrance__code=entrance,
            entrance__active=True,
            code=lane,
            active=True,
        )
        .first()
    )
    if row is None:
        entrance_for(actor=actor, entrance=entrance)  # names the entrance when it is the one missing
        raise NotFound(f"lane: no lane {lane!r} at entrance {entrance!r}", field="lane")
    return row.entrance, row


def entrance_for(*, actor: Actor, entrance: str) -> Entrance:
    institution = own_institution(actor)
    found = (
        Entrance.objects.select_related("institution")
        .filter(institution=institution, code=entrance, active=True)
        .first()
    )
    if found is None:
        raise NotFound(f"entrance: no entrance {entrance!r}", field="entrance")
    return found


def rules_of(entrance: Entrance) -> dict[int | None, d.Rule]:
    """The entrance's rules by product id (``None``: every product), as plain values."""
    return {
        r.product_id: d.Rule(
            tolerance_before_minutes=r.tolerance_before_minutes,
            entries_per_day=r.entries_per_day,
            reentry_after_exit=r.reentry_after_exit,
            reentry_after_minutes=r.reentry_after_minutes,
            admits_other_entrances=r.admits_other_entrances,
        )
        for r in EntryRule.objects.filter(entrance=entrance)
    }


def rule_for(entrance: Entrance, product_id: int) -> d.Rule:
    return d.rule_pick(rules_of(entrance), product_id)


def previous_seen(code_id: str, institution_id: int, now: dt.datetime) -> list[d.Seen]:
    """The code's accepted, not cancelled scans (in and out) of ``now``'s day, oldest first."""
    start, end = d.day_bounds(now)
    rows = Entry.objects.filter(
        institution_id=institution_id,
        code_id=code_id,
        result=Entry.Result.ACCEPTED,
        cancelled_at__isnull=True,
        recorded_at__gte=start,
        recorded_at__lt=end,
    ).order_by("recorded_at", "id")
    return [d.Seen(direction=e.direction, at=e.recorded_at) for e in rows.only("direction", "recorded_at")]


def ticket_info(ticket: Ticket | None) -> dict[str, Any] | None:
    if ticket is None:
        return None
    return {
        "code_id": ticket.code_id,
        "order": ticket.order.code,
        "product": ticket.slot.product.code,
        "tariff": ticket.tariff.code,
        "slot_start": ticket.slot.starts_at,
        "proof_required": ticket.tariff.free_category_id is not None,
        "party_size": ticket.tariff.party_size,
    }


# --- the decision ------------------------------------------------------------------------------


_KEYS: dict[int, tuple[float, dict[str, Ed25519PublicKey]]] = {}
KEYS_CACHE_SECONDS = 60.0


def _keys(institution: Institution, *, fresh: bool = False) -> dict[str, Ed25519PublicKey]:
    """The institution's tickets public keys, kept a minute in this process (a new key is
    picked up at once: a code whose key tag is unknown reloads them)."""
    cached = _KEYS.get(institution.pk)
    if fresh or cached is None or time.monotonic() - cached[0] > KEYS_CACHE_SECONDS:
        cached = (time.monotonic(), public_keys(institution=institution))
        _KEYS[institution.pk] = cached
    return cached[1]


def verify(institution: Institution, code: str) -> CodePayload | None:
    """The payload of a genuine code of the institution, or None for anything else."""
    if not isinstance(code, str) or len(code) > CODE_MAX_CHARS:
        return None
    try:
        return code_verify(code, _keys(institution))
    except ForgedCode:
        pass
    try:  # perhaps signed by a key made since the cache was filled
        return code_verify(code, _keys(institution, fresh=True))
    except ForgedCode:
        return None


def central_decide(*, entrance: Entrance, code: str, direction: str, now: dt.datetime) -> Decision:
    """Decide a scan with everything the central service knows; locks the ticket row."""
    payload = verify(entrance.institution, code)
    if payload is None:
        return Decision(d.FORGED)
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("order", "slot__product", "tariff")
        .filter(code_id=payload.code_id, order__institution_id=entrance.institution_id)
        .first()
    )
    # a revoked ticket is no longer valid (both change in one transaction): the revocation list
    # is read only for a code whose ticket is not here, as an agent would
    if ticket is None:
        revoked = Revocation.objects.filter(institution_id=entrance.institution_id, code_id=payload.code_id)
        return Decision(d.REVOKED if revoked.exists() else d.UNKNOWN, payload)
    if ticket.state != Ticket.State.VALID:
        return Decision(d.REVOKED, payload, ticket)
    if ticket.order.state != Order.State.PAID:
        return Decision(d.UNPAID, payload, ticket)
    reason = d.code_decide(
        payload,
        entrance_id=entrance.pk,
        direction=direction,
        rule=rule_for(entrance, payload.product_id),
        previous=previous_seen(payload.code_id, entrance.institution_id, now),
        now=now,
    )
    return Decision(reason, payload, ticket)


# --- recording ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """An entry to record, with the decision behind it."""

    entrance: Entrance
    lane: Lane
    scan: Scan
    decision: Decision
    operator: str
    recorded_at: dt.datetime
    source: str = Entry.Source.ONLINE
    people: int | None = None
    override_reason: str = ""
    central_reason: str = ""
    uploaded_at: dt.datetime | None = None


def entry_record(record: Record) -> Entry:
    """Insert the entry and its fact, inside the caller's transaction (ledger lock first)."""
    ledger_lock()  # entry ids follow commit order: see the module docstring
    decision, payload = record.decision, record.decision.payload
    entry = Entry.objects.create(
        institution_id=record.entrance.institution_id,
        entrance=record.entrance,
        lane=record.lane,
        code_id=payload.code_id if payload else "",
        ticket=decision.ticket,
        direction=record.scan.direction,
        nonce=record.scan.nonce,
        scanned_at=record.scan.scanned_at,
        recorded_at=record.recorded_at,
        operator=record.operator,
        result=decision.result,
        reason=decision.reason,
        people=record.people or decision.people,
        source=record.source,
        override_reason=record.override_reason,
        central_reason=record.central_reason,
        uploaded_at=record.uploaded_at,
    )
    kind = ENTRY_ACCEPTED if entry.result == Entry.Result.ACCEPTED else ENTRY_REJECTED
    when = record.uploaded_at or record.recorded_at
    facts_append(
        [draft(record.entrance, kind.name, _entry_body(entry, record), record.operator, when)], now=when
    )
    return entry


def _entry_body(entry: Entry, record: Record) -> dict[str, Any]:
    body: dict[str, Any] = {
        "entry": entry.pk,
        "code_id": entry.code_id or None,
        "entrance": record.entrance.code,
        "lane": record.lane.code,
        "direction": entry.direction,
        "nonce": entry.nonce,
        "scanned_at": entry.scanned_at.isoformat(),
        "recorded_at": entry.recorded_at.isoformat(),
        "reason": entry.reason,
        "people": entry.people,
        "source": entry.source,
    }
    if entry.override_reason:
        body["override_reason"] = entry.override_reason
    if entry.source == Entry.Source.OFFLINE:
        body["central_reason"] = entry.central_reason or entry.reason
        body["uploaded_at"] = entry.uploaded_at.isoformat() if entry.uploaded_at else None
    return body


def _replay(entry: Entry) -> ScanResult:
    ticket = (
        Ticket.objects.select_related("order", "slot__product", "tariff").filter(pk=entry.ticket_id).first()
        if entry.ticket_id
        else None
    )
    return ScanResult(
        result=entry.result,
        reason=entry.reason,
        entry_id=entry.pk,
        replayed=True,
        ticket=ticket_info(ticket),
        people=entry.people,
    )


def _check_scan(row: Lane, scan: Scan) -> None:
    if scan.direction not in Entry.Direction.values:
        raise InvalidInput("direction: in or out", field="direction")
    if row.direction not in (Lane.Direction.BOTH, scan.direction):
        raise InvalidInput(f"direction: lane {row.code} only scans {row.direction}", field="direction")
    if not scan.nonce or len(scan.nonce) > NONCE_MAX_CHARS:
        raise InvalidInput(f"nonce: 1 to {NONCE_MAX_CHARS} characters", field="nonce")
    if timezone.is_naive(scan.scanned_at):
        raise InvalidInput("scanned_at: a time with its offset", field="scanned_at")


def existing_entry(institution_id: int, nonce: str) -> Entry | None:
    return Entry.objects.filter(institution_id=institution_id, nonce=nonce).first()


def _once(institution_id: int, nonce: str, record: Any) -> ScanResult:
    """Run ``record()`` unless the nonce was answered before; a resend gets the first answer."""
    existing = existing_entry(institution_id, nonce)
    if existing is not None:
        return _replay(existing)
    try:
        result: ScanResult = record()
    except IntegrityError:
        # the same nonce, sent twice at once: the other request recorded it first
        existing = existing_entry(institution_id, nonce)
        if existing is None:
            raise
        return _replay(existing)
    return result


# --- the commands ------------------------------------------------------------------------------


def scan_validate(
    *,
    actor: Actor,
    code: str,
    entrance: str,
    lane: str,
    direction: str,
    nonce: str,
    scanned_at: dt.datetime,
    now: dt.datetime | None = None,
) -> ScanResult:
    """Decide a scan and record it (an ``Entry`` and a fact); a resent ``nonce`` gets the first
    answer back and writes nothing. ``NotFound``/``InvalidInput`` name a bad field."""
    require_permission(actor, SCAN)
    found, row = lane_for(actor=actor, entrance=entrance, lane=lane)
    scan = Scan(code=code, direction=direction, nonce=nonce, scanned_at=scanned_at)
    _check_scan(row, scan)
    return _once(found.institution_id, nonce, lambda: _validate(actor, found, row, scan, now))


@transaction.atomic(durable=True)
def _validate(
    actor: Actor, entrance: Entrance, lane: Lane, scan: Scan, now: dt.datetime | None
) -> ScanResult:
    now = now or timezone.now()
    decision = central_decide(entrance=entrance, code=scan.code, direction=scan.direction, now=now)
    entry = entry_record(Record(entrance, lane, scan, decision, actor.label, now))
    return ScanResult(
        result=entry.result,
        reason=entry.reason,
        entry_id=entry.pk,
        ticket=ticket_info(decision.ticket),
        people=entry.people,
    )


def entry_override(
    *,
    actor: Actor,
    entrance: str,
    lane: str,
    reason: str,
    people: int,
    nonce: str,
    scanned_at: dt.datetime,
    code: str = "",
    now: dt.datetime | None = None,
) -> ScanResult:
    """Let ``people`` in at a lane against the rules, for a stated ``reason``; recorded as an
    accepted entry (``override``) with the operator, and counted per operator as a fraud signal.
    A readable code is recorded with it, so that the code counts as used."""
    require_permission(actor, OVERRIDE)
    found, row = lane_for(actor=actor, entrance=entrance, lane=lane)
    scan = Scan(code=code, direction=Entry.Direction.IN, nonce=nonce, scanned_at=scanned_at)
    _check_scan(row, scan)
    text = (reason or "").strip()
    if not REASON_MIN_CHARS <= len(text) <= REASON_MAX_CHARS:
        raise InvalidInput(f"reason: {REASON_MIN_CHARS} to {REASON_MAX_CHARS} characters", field="reason")
    if not 1 <= people <= MAX_PEOPLE:
        raise InvalidInput(f"people: 1 to {MAX_PEOPLE}", field="people")
    return _once(found.institution_id, nonce, lambda: _override(actor, found, row, scan, text, people, now))


@transaction.atomic(durable=True)
def _override(
    actor: Actor,
    entrance: Entrance,
    lane: Lane,
    scan: Scan,
    reason: str,
    people: int,
    now: dt.datetime | None,
) -> ScanResult:
    now = now or timezone.now()
    payload = verify(entrance.institution, scan.code) if scan.code else None
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("order", "slot__product", "tariff")
        .filter(code_id=payload.code_id, order__institution_id=entrance.institution_id)
        .first()
        if payload
        else None
    )
    decision = Decision(d.OVERRIDE, payload, ticket)
    record = Record(entrance, lane, scan, decision, actor.label, now, Entry.Source.OVERRIDE, people, reason)
    entry = entry_record(record)
    return ScanResult(
        result=entry.result, reason=entry.reason, entry_id=entry.pk, ticket=ticket_info(ticket), people=people
    )


@dataclass(frozen=True)
class Cancelled:
    entry_id: int
    nonce: str
    cancelled_at: dt.datetime
    replayed: bool


def entry_not_passed(
    *, actor: Actor, entrance: str, lane: str, nonce: str, now: dt.datetime | None = None
) -> Cancelled:
    """The lane reports that the visitor of the accepted entry ``nonce`` did not go through: the
    entry is cancelled (the code may be used again) and a fact recorded. Idempotent."""
    require_permission(actor, SCAN)
    found, row = lane_for(actor=actor, entrance=entrance, lane=lane)
    with transaction.atomic(durable=True):
        entry = (
            Entry.objects.select_for_update()
            .filter(institution_id=found.institution_id, entrance=found, nonce=nonce)
            .first()
        )
        if entry is None:
            raise NotFound(f"nonce: no entry {nonce!r} at entrance {found.code}", field="nonce")
        if entry.cancelled_at is not None:
            return Cancelled(entry.pk, nonce, entry.cancelled_at, replayed=True)
        if entry.result != Entry.Result.ACCEPTED:
            raise Conflict(
                "nonce: this scan was refused; nothing to cancel", code="not_accepted", field="nonce"
            )
        if entry.lane_id != row.pk:
            raise InvalidInput(f"lane: entry {nonce!r} was scanned at lane {entry.lane.code}", field="lane")
        now = now or timezone.now()
        ledger_lock()  # cancellation ids follow commit order, as entries do
        entry.cancelled_at = now
        entry.save(update_fields=["cancelled_at"])
        EntryCancellation.objects.create(
            entry=entry, institution_id=found.institution_id, operator=actor.label, cancelled_at=now
        )
        body = {"entry": entry.pk, "nonce": nonce, "code_id": entry.code_id or None, "lane": row.code}
        facts_append([draft(found, ENTRY_CANCELLED.name, body, actor.label, now)], now=now)
    return Cancelled(entry.pk, nonce, now, replayed=False)
