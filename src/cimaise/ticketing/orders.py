"""After the sale: an order paid (by a verified payment notification, at the desk, or free),
expired unpaid, or cancelled in part or whole with its refund. Places move only under the
quota locks, so each one goes back exactly once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from cimaise.core import housekeeping
from cimaise.core.errors import Conflict, InvalidInput, PermissionDenied
from cimaise.ledger.services import FactDraft, facts_append
from cimaise.payments import selectors as payment_selectors
from cimaise.payments import services as payments
from cimaise.payments.models import Payment
from cimaise.payments.settle import payment_locked
from cimaise.ticketing import emails, facts, holds, tickets
from cimaise.ticketing.locking import lock_quotas
from cimaise.ticketing.models import Cart, Order, Quota, Ticket


def _stream(order: Order) -> str:
    return facts.stream(order.institution)


def _draft(order: Order, kind: str, body: Mapping[str, object], who: str) -> FactDraft:
    return facts.draft(order.institution, kind, body, who)


def order_settle(*, order: Order, payment_id: str, who: str, now: dt.datetime) -> Order:
    """Mark an order paid and issue its tickets, inside the caller's transaction (a payment
    notification's, the desk sale's, or a free order's). Paying twice changes nothing.

    Usually the order's places are still held: their allocations are locked and made permanent,
    without locking the quotas (a busy slot's sales go on meanwhile). If the places went back
    (the order expired, or was cancelled), the quotas are locked first and the places taken again
    when still free; if they are not, the payment is refunded in full and the order stays as it
    was."""
    current = Order.objects.filter(pk=order.pk).values_list("state", "expires_at").get()
    if current[0] == Order.State.PAID:
        return order
    if current[0] == Order.State.AWAITING_PAYMENT and (current[1] is None or current[1] > now):
        order = _locked(order)
        if order.state == Order.State.PAID:
            return order
        if order.state == Order.State.AWAITING_PAYMENT and holds.held(order.cart):
            holds.keep(order.cart, None)
            return _paid(order, payment_id, who, now, [])
        raise Conflict(
            "the order changed while its payment arrived; send the notification again", code="retry"
        )
    return _settle_late(order, payment_id, who, now)


def _locked(order: Order) -> Order:
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("institution", "slot__product", "cart")
        .get(pk=order.pk)
    )


def _settle_late(order: Order, payment_id: str, who: str, now: dt.datetime) -> Order:
    quotas = lock_quotas(holds.slot_quota_ids(order.slot))
    order = _locked(order)
    if order.state == Order.State.PAID:
        return order
    reclaimed = holds.reclaim(quotas, now, stream=_stream(order), who=who)
    if order.state == Order.State.AWAITING_PAYMENT and holds.held(order.cart):
        holds.keep(order.cart, None)
        return _paid(order, payment_id, who, now, reclaimed)
    if order.state == Order.State.CANCELLED or not _take_again(quotas, order):
        _refund_late(order, payment_id, who, now, reclaimed)
        return order
    return _paid(order, payment_id, who, now, reclaimed)


def _paid(order: Order, payment_id: str, who: str, now: dt.datetime, reclaimed: list[FactDraft]) -> Order:
    order.state, order.paid_at, order.expires_at = Order.State.PAID, now, None
    order.payment_id = payment_id or order.payment_id
    order.save(update_fields=["state", "paid_at", "expires_at", "payment_id"])
    issued = tickets.tickets_issue(order=order, actor=who, now=now)
    body = {
        "order": order.code,
        "payment": order.payment_id,
        "total": str(order.total),
        "tickets": len(issued),
    }
    facts_append([*reclaimed, _draft(order, facts.ORDER_PAID.name, body, who)], now=now)
    if order.email:
        emails.order_confirmation_enqueue(order.pk)
    return order


def _take_again(quotas: Sequence[Quota], order: Order) -> bool:
    try:
        holds.take(quotas, order.cart, order.cart.quantity, None)
    except Conflict:
        return False
    return True


def _refund_late(
    order: Order, payment_id: str, who: str, now: dt.datetime, reclaimed: list[FactDraft]
) -> None:
    body = {"order": order.code, "payment": payment_id, "state": order.state, "refund": str(order.total)}
    facts_append([*reclaimed, _draft(order, facts.ORDER_PAID_LATE.name, body, who)], now=now)
    if payment_id and order.total > 0:
        payment = payment_selectors.payment_get(payment_id=payment_id)
        payments.payment_refund(
            payment=payment,
            amount=order.total,
            refund_id=f"{order.code}-late",
            reason="places gone",
            actor=who,
            now=now,
        )


def on_paid(payment: Payment, now: dt.datetime) -> None:
    """The payments hook: a verified notification said this order's payment is paid."""
    order = Order.objects.filter(institution=payment.institution_id, code=payment.reference).first()
    if order is None:  # a payment for an order we do not know: refunded by finance, not here
        return
    if payment.amount != order.total or payment.currency != order.currency:
        # not this order's price (the payments service checked the notification against the
        # payment, so this is a payment made for another amount): give the money back
        payments.payment_refund(
            payment=payment,
            amount=payment.amount,
            refund_id=f"{order.code}-mismatch",
            reason="amount differs from the order",
            actor="system:ticketing",
            now=now,
        )
        return
    order_settle(order=order, payment_id=str(payment.pk), who=f"payment:{payment.provider}", now=now)


def order_status(order: Order, now: dt.datetime | None = None) -> str:
    """The state to show: an unpaid order past its time is expired even before the sweeper (or
    the next sale of its slot) has recorded it."""
    now = now or timezone.now()
    if (
        order.state == Order.State.AWAITING_PAYMENT
        and order.expires_at is not None
        and order.expires_at <= now
    ):
        return str(Order.State.EXPIRED)
    return str(order.state)


def _payment_first(order: Order) -> Payment | None:
    """Lock the order's payment before anything else (the lock order of docs/ticketing.md: a
    payment notification locks its payment, then the order's rows)."""
    return payment_locked(order.payment_id) if order.payment_id else None


def _close_payment(
    payment: Payment | None, who: str, now: dt.datetime, *, expired: bool, reason: str
) -> None:
    """An order given up: its payment page stops taking money (a payment already taken is
    refunded by the caller)."""
    if payment is not None and payment.state == "created":
        payments.payment_cancel(payment=payment, actor=who, expired=expired, reason=reason, now=now)


def order_expire(*, order: Order, who: str = "system:expiry", now: dt.datetime | None = None) -> Order:
    """An unpaid order past its time: its places go back (nothing happens to a paid one)."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        payment = _payment_first(order)
        lock_quotas(holds.slot_quota_ids(order.slot))
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("institution", "cart")
            .get(pk=order.pk)
        )
        if order.state != Order.State.AWAITING_PAYMENT or (order.expires_at and order.expires_at > now):
            return order
        returned = holds.give_back(order.cart, None, now)
        order.state = Order.State.EXPIRED
        order.save(update_fields=["state"])
        _close_payment(payment, who, now, expired=True, reason="order expired")
        facts_append(
            [_draft(order, facts.ORDER_EXPIRED.name, {"order": order.code, "places": returned}, who)], now=now
        )
    return order


def carts_and_orders_expire(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """The sweeper: every cart and unpaid order past its time gives its places back (the sales
    do it too, for the quotas they lock). Returns (carts, orders) expired."""
    from cimaise.ticketing.services import cart_release

    now = now or timezone.now()
    carts = 0
    for cart in Cart.objects.filter(state=Cart.State.OPEN, expires_at__lte=now).select_related(
        "slot", "institution"
    ):
        released = cart_release(cart=cart, who="system:expiry", now=now, why="expired")
        carts += released.state == Cart.State.EXPIRED
    expired = 0
    for order in Order.objects.filter(state=Order.State.AWAITING_PAYMENT, expires_at__lte=now).select_related(
        "slot"
    ):
        expired += order_expire(order=order, now=now).state == Order.State.EXPIRED
    return carts, expired


def order_cancel(
    *,
    order: Order,
    ticket_ids: Sequence[int] | None,
    reason: str,
    who: str,
    allow_paid: bool = True,
    now: dt.datetime | None = None,
) -> Order:
    """Cancel an order awaiting payment, or tickets of a paid one (all when ``ticket_ids`` is
    None; only when ``allow_paid``, i.e. for the ticket office): their codes are revoked, their
    places go back once, and what they cost is refunded through the payment's provider."""
    now = now or timezone.now()
    if not reason.strip():
        raise InvalidInput("say why the tickets are cancelled", field="reason")
    with transaction.atomic(durable=True):
        payment = _payment_first(order)
        lock_quotas(holds.slot_quota_ids(order.slot))
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("institution", "cart")
            .get(pk=order.pk)
        )
        if order.state == Order.State.AWAITING_PAYMENT:
            _close_payment(payment, who, now, expired=False, reason=reason)
            return _cancel_unpaid(order, reason, who, now)
        if order.state == Order.State.PAID and not allow_paid:
            raise PermissionDenied("paid tickets are cancelled and refunded by the ticket office")
        if order.state != Order.State.PAID:
            raise Conflict(
                f"this order is {order.state}; nothing to cancel", code="not_cancellable", field="order"
            )
        chosen = _chosen_tickets(order, ticket_ids)
        tickets.tickets_revoke(tickets=chosen, reason="cancelled", actor=who, now=now)
        holds.give_back(order.cart, sum(t.tariff.party_size for t in chosen), now)  # a group: its party
        amount = sum((t.price for t in chosen), Decimal(0))
        _refund(order, amount, who, now)
        order.refunded += amount
        if not order.tickets.filter(state=Ticket.State.VALID).exists():
            order.state = Order.State.REFUNDED if order.refunded > 0 else Order.State.CANCELLED
        order.save(update_fields=["refunded", "state"])
        body = {
            "order": order.code,
            "tickets": [t.code_id for t in chosen],
            "places": len(chosen),
            "refund": str(amount),
            "reason": reason,
            "state": order.state,
        }
        facts_append([_draft(order, facts.ORDER_CANCELLED.name, body, who)], now=now)
    return order


def _cancel_unpaid(order: Order, reason: str, who: str, now: dt.datetime) -> Order:
    returned = holds.give_back(order.cart, None, now)
    order.state = Order.State.CANCELLED
    order.save(update_fields=["state"])
    body = {
        "order": order.code,
        "tickets": [],
        "places": returned,
        "refund": "0",
        "reason": reason,
        "state": order.state,
    }
    facts_append([_draft(order, facts.ORDER_CANCELLED.name, body, who)], now=now)
    return order


def _chosen_tickets(order: Order, ticket_ids: Sequence[int] | None) -> list[Ticket]:
    valid = list(order.tickets.select_for_update().filter(state=Ticket.State.VALID))
    if ticket_ids is None:
        chosen = valid
    else:
        wanted = set(ticket_ids)
        chosen = [t for t in valid if t.pk in wanted]
        if len(chosen) != len(wanted):
            raise InvalidInput(
                "a ticket is not a valid ticket of this order", field="tickets", code="not_valid"
            )
    if not chosen:
        raise Conflict("no valid ticket left to cancel", code="not_cancellable", field="tickets")
    return chosen


def _refund(order: Order, amount: Decimal, who: str, now: dt.datetime) -> None:
    if amount <= 0 or not order.payment_id:
        return
    payment = payment_selectors.payment_get(payment_id=order.payment_id)
    number = order.tickets.filter(state=Ticket.State.CANCELLED).count()
    payments.payment_refund(
        payment=payment,
        amount=amount,
        refund_id=f"{order.code}-r{number}",
        reason="cancelled",
        actor=who,
        now=now,
    )


def ticket_replace(
    *, order: Order, ticket_id: int, reason: str, who: str, now: dt.datetime | None = None
) -> Ticket:
    """Give a paid ticket a new code (lost, or its QR was shared): the old code is revoked at
    once and the entrance agents learn it from the revocation feed; same slot, tariff and price."""
    now = now or timezone.now()
    if not reason.strip():
        raise InvalidInput("say why the ticket gets a new code", field="reason")
    if not 0 < ticket_id < 2**31:
        raise InvalidInput("not a valid ticket of this order", field="ticket", code="not_valid")
    with transaction.atomic(durable=True):
        order = _locked(order)
        if order.state != Order.State.PAID:
            raise Conflict(f"this order is {order.state}; its tickets cannot be reissued", code="not_paid")
        ticket = order.tickets.filter(pk=ticket_id, state=Ticket.State.VALID).first()
        if ticket is None:
            raise InvalidInput("not a valid ticket of this order", field="ticket", code="not_valid")
        return tickets.ticket_reissue(ticket=ticket, actor=f"{who} ({reason.strip()[:80]})", now=now)


def _sweep() -> str:
    carts, unpaid = carts_and_orders_expire()
    return f"expired {carts} carts and {unpaid} unpaid orders"


housekeeping.register(housekeeping.Job("ticketing.sweep", 60, _sweep))
