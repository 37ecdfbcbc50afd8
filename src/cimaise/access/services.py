"""Validating a scan at a lane (DESIGN §3, §5, §6.5): one durable transaction per scan, which
records the answer as an ``Entry`` row and a fact, and answers the same again for a resent nonce.

Checks, in order: the signature (``forged``), the revocation list (``revoked``), the ticket known
here (``unknown``), its order paid (``unpaid``), the entrance (``wrong_entrance``), earlier entries
the same day (``already_used``, or a re-entry the rule allows), then the validity window
(``expired`` once the slot's day is past, ``too_early``, ``too_late``). An exit scan of a good
code is accepted and recorded, without window checks. The server's clock decides; the device's
time is recorded next to it.

Two lanes scanning the same code at once: the ticket row is locked (``SELECT … FOR UPDATE``)
before earlier entries are read, so one of them waits and then sees the other's entry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from cimaise.access.facts import ENTRY_ACCEPTED, ENTRY_REJECTED, draft
from cimaise.access.models import Entrance, Entry, EntryRule, Lane
from cimaise.access.roles import SCAN
from cimaise.core.access import own_institution, require_permission
from cimaise.core.actors import Actor
from cimaise.core.errors import InvalidInput, NotFound
from cimaise.core.models import Institution
from cimaise.ledger.services import facts_append
from cimaise.ticketing.codes import CodePayload, ForgedCode, code_verify
from cimaise.ticketing.models import Order, Revocation, Ticket
from cimaise.ticketing.tickets import public_keys

PARIS = ZoneInfo("Europe/Paris")
CODE_MAX_CHARS = 512  # a real code is 162 characters; anything much longer is not one of ours
NONCE_MAX_CHARS = 64

OK = "ok"
REENTRY = "reentry"
EXIT = "exit"
FORGED = "forged"
REVOKED = "revoked"
UNKNOWN = "unknown"
UNPAID = "unpaid"
TOO_EARLY = "too_early"
TOO_LATE = "too_late"
EXPIRED = "expired"
WRONG_ENTRANCE = "wrong_entrance"
ALREADY_USED = "already_used"

REASONS = (OK, REENTRY, EXIT, FORGED, REVOKED, UNKNOWN, UNPAID, TOO_EARLY, TOO_LATE, EXPIRED,
           WRONG_ENTRANCE, ALREADY_USED)  # fmt: skip


def reason_text(reason: str) -> str:
    """The short text an agent reads, in the active language."""
    texts = {
        OK: gettext("Welcome"),
        REENTRY: gettext("Welcome back"),
        EXIT: gettext("Goodbye"),
        FORGED: gettext("Not a valid ticket"),
        REVOKED: gettext("Ticket cancelled"),
        UNKNOWN: gettext("Ticket unknown here"),
        UNPAID: gettext("Ticket not paid"),
        TOO_EARLY: gettext("Too early for this time slot"),
        TOO_LATE: gettext("Too late for this time slot"),
        EXPIRED: gettext("Ticket expired"),
        WRONG_ENTRANCE: gettext("Wrong entrance"),
        ALREADY_USED: gettext("Ticket already used"),
    }
    return texts.get(reason, reason)


@dataclass(frozen=True)
class ScanResult:
    result: str
    reason: str
    entry_id: int
    replayed: bool = False
    ticket: dict[str, Any] | None = field(default=None)

    @property
    def text(self) -> str:
        return reason_text(self.reason)

    @property
    def accepted(self) -> bool:
        return self.result == Entry.Result.ACCEPTED


@dataclass(frozen=True)
class _Decision:
    reason: str
    payload: CodePayload | None = None
    ticket: Ticket | None = None

    @property
    def result(self) -> str:
        accepted = self.reason in (OK, REENTRY, EXIT)
        return Entry.Result.ACCEPTED if accepted else Entry.Result.REJECTED


# --- reads -------------------------------------------------------------------------------------


def lane_for(*, actor: Actor, entrance: str, lane: str) -> tuple[Entrance, Lane]:
    """The actor's institution's active entrance and lane by code; ``NotFound`` naming the field."""
    institution = own_institution(actor)
    found = (
        Entrance.objects.select_related("institution")
        .filter(institution=institution, code=entrance, active=True)
        .first()
    )
    if found is None:
        raise NotFound(f"entrance: no entrance {entrance!r}", field="entrance")
    row = Lane.objects.filter(entrance=found, code=lane, active=True).first()
    if row is None:
        raise NotFound(f"lane: no lane {lane!r} at entrance {entrance!r}", field="lane")
    return found, row


def rule_for(entrance: Entrance, product_id: int) -> EntryRule:
    """The entrance's rule for the product, else its rule for every product, else the defaults."""
    rules = {r.product_id: r for r in EntryRule.objects.filter(entrance=entrance)}
    return rules.get(product_id) or rules.get(None) or EntryRule(entrance=entrance)


def _ticket_info(ticket: Ticket | None) -> dict[str, Any] | None:
    if ticket is None:
        return None
    return {
        "code_id": ticket.code_id,
        "order": ticket.order.code,
        "product": ticket.slot.product.code,
        "tariff": ticket.tariff.code,
        "slot_start": ticket.slot.starts_at,
        "proof_required": ticket.tariff.free_category_id is not None,
    }


# --- the decision ------------------------------------------------------------------------------


def _verify(institution: Institution, code: str) -> CodePayload | None:
    if not isinstance(code, str) or len(code) > CODE_MAX_CHARS:
        return None
    keys = public_keys(institution=institution)
    try:
        return code_verify(code, keys)
    except (ForgedCode, ValueError, OverflowError):
        return None


def _decide(*, entrance: Entrance, code: str, direction: str, now: dt.datetime) -> _Decision:
    payload = _verify(entrance.institution, code)
    if payload is None:
        return _Decision(FORGED)
    if Revocation.objects.filter(institution_id=entrance.institution_id, code_id=payload.code_id).exists():
        return _Decision(REVOKED, payload)
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("order", "slot__product", "tariff")
        .filter(code_id=payload.code_id, order__institution_id=entrance.institution_id)
        .first()
    )
    if ticket is None:
        return _Decision(UNKNOWN, payload)
    if ticket.state != Ticket.State.VALID:
        return _Decision(REVOKED, payload, ticket)
    if ticket.order.state != Order.State.PAID:
        return _Decision(UNPAID, payload, ticket)
    if direction == Entry.Direction.OUT:
        return _Decision(EXIT, payload, ticket)
    rule = rule_for(entrance, payload.product_id)
    if payload.entrance_id != entrance.pk and not rule.admits_other_entrances:
        return _Decision(WRONG_ENTRANCE, payload, ticket)
    previous = _previous(payload.code_id, entrance.institution_id, now)
    if any(e.direction == Entry.Direction.IN for e in previous):
        return _Decision(_again(previous, rule, now), payload, ticket)
    return _Decision(_window(payload, rule, now), payload, ticket)


def _previous(code_id: str, institution_id: int, now: dt.datetime) -> list[Entry]:
    """The code's accepted scans (in and out) of the day, oldest first."""
    day = timezone.localtime(now, PARIS).date()
    start = dt.datetime.combine(day, dt.time(0), tzinfo=PARIS)
    return list(
        Entry.objects.filter(
            institution_id=institution_id,
            code_id=code_id,
            result=Entry.Result.ACCEPTED,
            recorded_at__gte=start,
            recorded_at__lt=start + dt.timedelta(days=1),
        ).order_by("recorded_at", "id")
    )


def _again(previous: list[Entry], rule: EntryRule, now: dt.datetime) -> str:
    """A code that already entered today: a further entry, a re-entry, or ``already_used``."""
    entries = [e for e in previous if e.direction == Entry.Direction.IN]
    if len(entries) < rule.entries_per_day:
        return OK
    last = previous[-1]
    if rule.reentry_after_exit and last.direction == Entry.Direction.OUT:
        return REENTRY
    after = rule.reentry_after_minutes
    if after is not None and now - entries[-1].recorded_at >= dt.timedelta(minutes=after):
        return REENTRY
    return ALREADY_USED


def _window(payload: CodePayload, rule: EntryRule, now: dt.datetime) -> str:
    local_now = timezone.localtime(now, PARIS)
    slot_day = timezone.localtime(payload.starts_at, PARIS).date()
    if local_now.date() > slot_day:
        return EXPIRED
    if now < payload.starts_at - dt.timedelta(minutes=rule.tolerance_before_minutes):
        return TOO_EARLY
    if now > payload.starts_at + dt.timedelta(minutes=payload.window_minutes):
        return TOO_LATE
    return OK


# --- the command -------------------------------------------------------------------------------


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
        ticket=_ticket_info(ticket),
    )


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
    if direction not in Entry.Direction.values:
        raise InvalidInput("direction: in or out", field="direction")
    if row.direction not in (Lane.Direction.BOTH, direction):
        raise InvalidInput(f"direction: lane {row.code} only scans {row.direction}", field="direction")
    if not nonce or len(nonce) > NONCE_MAX_CHARS:
        raise InvalidInput(f"nonce: 1 to {NONCE_MAX_CHARS} characters", field="nonce")
    if timezone.is_naive(scanned_at):
        raise InvalidInput("scanned_at: a time with its offset", field="scanned_at")
    existing = Entry.objects.filter(institution_id=found.institution_id, nonce=nonce).first()
    if existing is not None:
        return _replay(existing)
    try:
        return _record(actor, found, row, code, direction, nonce, scanned_at, now)
    except IntegrityError:
        # the same nonce, sent twice at once: the other request recorded it first
        existing = Entry.objects.filter(institution_id=found.institution_id, nonce=nonce).first()
        if existing is None:
            raise
        return _replay(existing)


@transaction.atomic(durable=True)
def _record(
    actor: Actor,
    entrance: Entrance,
    lane: Lane,
    code: str,
    direction: str,
    nonce: str,
    scanned_at: dt.datetime,
    now: dt.datetime | None,
) -> ScanResult:
    now = now or timezone.now()
    decision = _decide(entrance=entrance, code=code, direction=direction, now=now)
    payload = decision.payload
    entry = Entry.objects.create(
        institution_id=entrance.institution_id,
        entrance=entrance,
        lane=lane,
        code_id=payload.code_id if payload else "",
        ticket=decision.ticket,
        direction=direction,
        nonce=nonce,
        scanned_at=scanned_at,
        recorded_at=now,
        operator=actor.label,
        result=decision.result,
        reason=decision.reason,
    )
    body = {
        "entry": entry.pk,
        "code_id": entry.code_id or None,
        "entrance": entrance.code,
        "lane": lane.code,
        "direction": direction,
        "nonce": nonce,
        "scanned_at": scanned_at.isoformat(),
        "recorded_at": now.isoformat(),
        "reason": decision.reason,
    }
    kind = ENTRY_ACCEPTED if entry.result == Entry.Result.ACCEPTED else ENTRY_REJECTED
    facts_append([draft(entrance, kind.name, body, actor.label, now)], now=now)
    return ScanResult(
        result=entry.result, reason=entry.reason, entry_id=entry.pk, ticket=_ticket_info(decision.ticket)
    )
