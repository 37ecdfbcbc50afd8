"""E-tickets: issuing one signed code a place of a paid order, revoking codes, reissuing a ticket.

These services run inside the caller's transaction (a sale, a payment, a cancellation): they
never open a durable one themselves. Capacity is the caller's business: changing a ticket's slot
here moves no places between quotas.

Revocations are the entrance agents' feed, read by id (``since=``). So that a row with a smaller
id can never commit after a larger one was read, they are inserted under the ledger's lock (every
fact append takes it and holds it until commit), which serialises them in commit order.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import transaction

from cimaise.core.errors import Conflict, InvalidInput
from cimaise.core.keys import public_key
from cimaise.core.models import Institution, SigningKey
from cimaise.ledger.services import FactDraft, facts_append, ledger_lock
from cimaise.ticketing.codes import KEY_PURPOSE, CodePayload, Signer, new_code_id, ticket_signer
from cimaise.ticketing.conf import entry_tolerance
from cimaise.ticketing.facts_tickets import TICKET_REISSUED, TICKETS_ISSUED, TICKETS_REVOKED
from cimaise.ticketing.models import Order, Revocation, Slot, Tariff, Ticket

REASON_REPLACED = "replaced"
REASON_MAX_LENGTH = 32


# --- reads -------------------------------------------------------------------------------------


def ticket_keys(*, institution: Institution) -> list[SigningKey]:
    """The institution's published tickets keys, retired ones included, in the order they were made."""
    return list(SigningKey.objects.filter(institution=institution, purpose=KEY_PURPOSE).order_by("id"))


def public_keys(*, institution: Institution) -> dict[str, Ed25519PublicKey]:
    """Every published tickets key of the institution (retired ones too), by key id."""
    return {key.kid: public_key(key) for key in ticket_keys(institution=institution)}


def revocations_since(*, institution: Institution, since: int, limit: int) -> list[Revocation]:
    """The institution's revocations after cursor ``since`` (a revocation id), in feed order."""
    rows = Revocation.objects.filter(institution=institution, pk__gt=since).order_by("id")
    return list(rows[:limit])


# --- writes ------------------------------------------------------------------------------------


def tickets_issue(*, order: Order, actor: str, now: dt.datetime) -> list[Ticket]:
    """One ticket with a signed code for each place of a paid order, and one fact for them.

    Idempotent: an order that has tickets already gets its valid tickets back, nothing new.
    """
    _require_transaction()
    locked = (
        Order.objects.select_for_update(of=("self",)).select_related("institution", "slot").get(pk=order.pk)
    )
    if locked.state != Order.State.PAID:
        raise Conflict(f"order {locked.code} is not paid", code="not_paid", field="order")
    if locked.tickets.exists():
        return list(locked.tickets.filter(state=Ticket.State.VALID).select_related("tariff", "slot"))
    signer = ticket_signer(institution=locked.institution)
    tickets = [
        _ticket(signer, order=locked, slot=locked.slot, tariff=line.tariff, price=line.unit_price, now=now)
        for line in locked.cart.lines.select_related("tariff").order_by("id")
        for _ in range(line.quantity)
    ]
    Ticket.objects.bulk_create(tickets)
    body = {
        "order": locked.code,
        "currency": locked.currency,
        "tickets": [_ticket_body(ticket) for ticket in tickets],
    }
    facts_append([_draft(locked, TICKETS_ISSUED.name, body, actor, now)], now=now)
    return tickets


def tickets_revoke(*, tickets: Sequence[Ticket], reason: str, actor: str, now: dt.datetime) -> None:
    """Cancel valid tickets: each code is revoked (a ``Revocation`` row the entrance agents sync)
    and one fact is recorded per order. ``Conflict`` (``already_revoked``) if one is not valid."""
    _require_transaction()
    reason = _reason(reason)
    locked = _lock_valid(tickets)
    if not locked:
        return
    _revoke(locked, state=Ticket.State.CANCELLED, reason=reason, now=now)
    by_order: dict[int, list[Ticket]] = defaultdict(list)
    for ticket in locked:
        by_order[ticket.order_id].append(ticket)
    drafts = [
        _draft(
            group[0].order,
            TICKETS_REVOKED.name,
            {"order": group[0].order.code, "code_ids": [t.code_id for t in group], "reason": reason},
            actor,
            now,
        )
        for group in by_order.values()
    ]
    facts_append(drafts, now=now)


def ticket_reissue(
    *,
    ticket: Ticket,
    actor: str,
    now: dt.datetime,
    slot: Slot | None = None,
    tariff: Tariff | None = None,
) -> Ticket:
    """Replace a valid ticket by a new one (another slot or tariff, or the same ones with a fresh
    code): the old code is revoked (reason ``replaced``), the new ticket ``replaces`` the old.
    Its price is the new tariff's when the tariff changes, else the old price."""
    _require_transaction()
    (old,) = _lock_valid([ticket])
    new_slot = slot or old.slot
    new_tariff = tariff or old.tariff
    _check_change(old, new_slot, new_tariff)
    price = old.price if new_tariff.pk == old.tariff_id else new_tariff.price
    signer = ticket_signer(institution=old.order.institution)
    new = _ticket(signer, order=old.order, slot=new_slot, tariff=new_tariff, price=price, now=now)
    new.replaces = old
    new.save()
    _revoke([old], state=Ticket.State.REPLACED, reason=REASON_REPLACED, now=now)
    body = {
        "order": old.order.code,
        "currency": old.order.currency,
        "replaced": old.code_id,
        **_ticket_body(new),
    }
    facts_append([_draft(old.order, TICKET_REISSUED.name, body, actor, now)], now=now)
    return new


# --- helpers -----------------------------------------------------------------------------------


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ticket services run inside the caller's transaction")


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX_LENGTH:
        raise InvalidInput(f"reason: 1 to {REASON_MAX_LENGTH} characters", field="reason")
    return reason


def _lock_valid(tickets: Sequence[Ticket]) -> list[Ticket]:
    """The tickets again, locked in id order, every one of them still valid."""
    ids = sorted({ticket.pk for ticket in tickets})
    rows = Ticket.objects.select_for_update().filter(pk__in=ids).order_by("id")
    locked = list(rows.select_related("order__institution", "slot", "tariff"))
    for row in locked:
        if row.state != Ticket.State.VALID:
            raise Conflict(f"ticket {row.code_id} is {row.state} already", code="already_revoked")
    return locked


def _check_change(old: Ticket, slot: Slot, tariff: Tariff) -> None:
    if old.order.state != Order.State.PAID:
        raise Conflict(f"order {old.order.code} is not paid", code="not_paid", field="order")
    if slot.institution_id != old.order.institution_id:
        raise InvalidInput("slot: no such slot", field="slot")
    if tariff.product_id != slot.product_id:
        raise InvalidInput("tariff: not a tariff of the slot's product", field="tariff")


def _window_minutes(slot: Slot) -> int:
    """How long after the slot start its visitors may enter: the slot itself or the entry
    tolerance, whichever is longer."""
    window = max(slot.ends_at - slot.starts_at, entry_tolerance())
    return int(window // dt.timedelta(minutes=1))


def _ticket(
    signer: Signer, *, order: Order, slot: Slot, tariff: Tariff, price: Decimal, now: dt.datetime
) -> Ticket:
    payload = CodePayload(
        code_id=new_code_id(),
        product_id=slot.product_id,
        entrance_id=slot.entrance_id,
        starts_at=slot.starts_at.replace(second=0, microsecond=0),
        window_minutes=_window_minutes(slot),
        tariff_id=tariff.pk,
        proof_required=tariff.free_category_id is not None,
        party_size=tariff.party_size,
    )
    signed = signer.sign(payload)
    return Ticket(
        order=order,
        tariff=tariff,
        slot=slot,
        price=price,
        code_id=signed.code_id,
        kid=signed.kid,
        code=signed.code,
        issued_at=now,
    )


def _revoke(tickets: list[Ticket], *, state: str, reason: str, now: dt.datetime) -> None:
    ledger_lock()  # see the module docstring: the feed's ids must follow commit order
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(state=state, revoked_at=now)
    for ticket in tickets:
        ticket.state, ticket.revoked_at = state, now
    Revocation.objects.bulk_create(
        Revocation(institution_id=t.order.institution_id, code_id=t.code_id, reason=reason, revoked_at=now)
        for t in tickets
    )


def _ticket_body(ticket: Ticket) -> dict[str, Any]:
    """A ticket as facts record it: never the code, which only the key holder can make."""
    return {
        "code_id": ticket.code_id,
        "kid": ticket.kid,
        "tariff": ticket.tariff.code,
        "slot": ticket.slot_id,
        "price": ticket.price,
    }


def _draft(order: Order, kind: str, body: dict[str, Any], actor: str, now: dt.datetime) -> FactDraft:
    return FactDraft(
        type=kind,
        stream=f"ticketing.order:{order.institution.code}:{order.code}",
        body=body,
        actor=actor,
        institution_id=order.institution_id,
        occurred_at=now,
    )
