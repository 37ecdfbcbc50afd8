"""Selling: carts hold places, orders wait for their payment, payments make tickets, and
cancellations give places back. Every function that changes state owns its transaction (or,
for payment hooks, runs in the payment's) and records facts in the ledger.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from cimaise.core.errors import Conflict, InvalidInput, NotFound
from cimaise.core.models import Institution
from cimaise.ledger.services import facts_append
from cimaise.payments import services as payments
from cimaise.payments.services import PaymentStart
from cimaise.ticketing import conf, facts, holds, orders, waiting
from cimaise.ticketing.locking import lock_quotas
from cimaise.ticketing.models import Cart, CartLine, Channel, Order, QueueEntry, Slot, Tariff

MAX_QUANTITY = 1000
PURPOSE = "ticketing.order"
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32: no I, L, O, U


def vat_included(amount: Decimal, rate: Decimal) -> Decimal:
    """The VAT inside a price that includes it, to the cent (half up)."""
    return (amount * rate / (1 + rate)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --- carts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    tariff: str
    quantity: int


@dataclass(frozen=True)
class CartRequest:
    slot: int
    items: Sequence[Item]
    channel: str = Channel.WEB
    admission: str | None = None
    idempotency_key: str | None = None


def _slot(institution: Institution, slot_id: int, channel: str, now: dt.datetime) -> Slot:
    slot = (
        Slot.objects.select_related("product", "entrance").filter(institution=institution, pk=slot_id).first()
    )
    if slot is None:
        raise InvalidInput(f"no slot {slot_id}", field="slot", code="unknown_slot")
    if slot.closed or not slot.product.active:
        raise InvalidInput("this slot is closed to sale", field="slot", code="slot_closed")
    if slot.ends_at <= now:
        raise InvalidInput("this slot is over", field="slot", code="slot_past")
    if channel not in slot.product.channels:
        raise InvalidInput(f"{slot.product.code} is not sold on the {channel} channel", field="channel")
    return slot


def places(lines: Sequence[CartLine]) -> int:
    """The places the lines take: a group ticket takes one per person of its party."""
    return sum(line.quantity * line.tariff.party_size for line in lines)


def _lines(slot: Slot, items: Sequence[Item], channel: str) -> list[CartLine]:
    if not items:
        raise InvalidInput("choose at least one ticket", field="items")
    codes = [item.tariff for item in items]
    if len(set(codes)) != len(codes):
        raise InvalidInput("each tariff once per cart", field="items")
    tariffs = {t.code: t for t in Tariff.objects.filter(product=slot.product, code__in=codes, active=True)}
    lines = []
    for index, item in enumerate(items):
        tariff = tariffs.get(item.tariff)
        if tariff is None:
            raise InvalidInput(
                f"no tariff {item.tariff!r} for {slot.product.code}", field=f"items[{index}].tariff"
            )
        if channel not in tariff.channels:
            raise InvalidInput(
                f"tariff {tariff.code} is not sold on the {channel} channel", field=f"items[{index}].tariff"
            )
        if not 1 <= item.quantity <= MAX_QUANTITY:
            raise InvalidInput("a quantity is at least 1", field=f"items[{index}].quantity")
        lines.append(CartLine(tariff=tariff, quantity=item.quantity, unit_price=tariff.price))
    if places(lines) > slot.product.max_per_order:
        raise InvalidInput(
            f"at most {slot.product.max_per_order} places per order for {slot.product.code}",
            field="items",
            code="too_many",
        )
    return lines


def cart_create(
    *,
    institution: Institution,
    request: CartRequest,
    owner: User | None,
    who: str,
    now: dt.datetime | None = None,
) -> Cart:
    """Hold places of a slot for ``CART_HOLD_MINUTES``: all or nothing, ``sold_out`` if a quota
    the slot draws on has fewer places left than asked. With an ``idempotency_key`` a resend (a
    double click, a retried request) answers the cart the first one made, and holds nothing more."""
    now = now or timezone.now()
    key = _idempotency_key(request.idempotency_key)
    if key:
        earlier = _cart_for_key(institution, key, owner)
        if earlier is not None:
            return earlier
        try:
            return _cart_create(institution, request, owner, who, now, key)
        except IntegrityError:  # the same key, sent at the same instant, won: answer its cart
            earlier = _cart_for_key(institution, key, owner)
            if earlier is None:
                raise
            return earlier
    return _cart_create(institution, request, owner, who, now, None)


def _idempotency_key(key: str | None) -> str | None:
    if key is not None and not (0 < len(key) <= 64 and key.isprintable()):
        raise InvalidInput("an idempotency key is 1 to 64 printable characters", field="idempotency_key")
    return key or None


def _cart_for_key(institution: Institution, key: str, owner: User | None) -> Cart | None:
    cart = Cart.objects.filter(institution=institution, idempotency_key=key).first()
    if cart is not None and cart.owner_id != (owner.pk if owner else None):
        raise Conflict(
            "this idempotency key was used by someone else", code="key_reused", field="idempotency_key"
        )
    return cart


def _cart_create(
    institution: Institution,
    request: CartRequest,
    owner: User | None,
    who: str,
    now: dt.datetime,
    key: str | None,
) -> Cart:
    slot = _slot(institution, request.slot, request.channel, now)
    lines = _lines(slot, request.items, request.channel)
    admission = ""
    if request.channel == Channel.WEB:
        admission = waiting.admission_check(institution=institution, token=request.admission, now=now) or ""
    quantity = places(lines)
    total = sum((line.unit_price * line.quantity for line in lines), Decimal(0))
    quota_ids = holds.slot_quota_ids(slot)
    with transaction.atomic(durable=True):
        if admission:
            _admission_room(admission, slot, quantity, now)
        cart = Cart.objects.create(
            institution=institution,
            slot=slot,
            channel=request.channel,
            owner=owner,
            quantity=quantity,
            total=total,
            created_at=now,
            expires_at=now + conf.cart_hold(),
            admission=admission,
            idempotency_key=key,
        )
        for line in lines:
            line.cart = cart
        CartLine.objects.bulk_create(lines)
        quotas = lock_quotas(quota_ids)  # late: the new rows above need no lock
        reclaimed = holds.reclaim(quotas, now, stream=facts.stream(institution), who=who)
        holds.take(quotas, cart, quantity, cart.expires_at)
        body = {
            "cart": str(cart.pk),
            "slot": slot.pk,
            "product": slot.product.code,
            "starts_at": slot.starts_at.isoformat(),
            "lines": [
                {"tariff": ln.tariff.code, "quantity": ln.quantity, "price": str(ln.unit_price)}
                for ln in lines
            ],
            "quotas": [q.key for q in quotas],
            "expires_at": cart.expires_at.isoformat(),
            "channel": request.channel,
        }
        facts_append([*reclaimed, facts.draft(institution, facts.CART_HELD.name, body, who)], now=now)
    return cart


def _admission_room(admission: str, slot: Slot, quantity: int, now: dt.datetime) -> None:
    """One waiting-room admission holds at most one order's worth of places (the product's
    maximum per order) in carts still holding and orders not given up: the queue would mean
    nothing if one admitted visitor could hold a whole slot. The queue entry is locked so two
    carts made at once with the same admission are counted one after the other."""
    list(QueueEntry.objects.select_for_update().filter(pk=admission))
    held = (
        Cart.objects.filter(admission=admission)
        .filter(
            Q(state=Cart.State.OPEN, expires_at__gt=now)
            | Q(state=Cart.State.ORDERED, order__state__in=[Order.State.AWAITING_PAYMENT, Order.State.PAID])
        )
        .aggregate(n=Sum("quantity"))["n"]
        or 0
    )
    if held + quantity > slot.product.max_per_order:
        raise Conflict(
            f"this admission holds {held} places already; at most {slot.product.max_per_order} in all",
            code="admission_used",
            field="admission",
        )


def cart_get(*, institution: Institution, cart_id: uuid.UUID | str, owner: User | None) -> Cart:
    """The cart, if it is this caller's: someone else's cart is answered as unknown."""
    cart = (
        Cart.objects.select_related("slot__product", "slot__entrance")
        .filter(institution=institution, pk=cart_id)
        .first()
    )
    if cart is None or (cart.owner_id is not None and (owner is None or cart.owner_id != owner.pk)):
        raise NotFound("no such cart", field="cart")
    return cart


def cart_release(*, cart: Cart, who: str, now: dt.datetime | None = None, why: str = "abandoned") -> Cart:
    """The visitor gives up, or the hold ran out (``why="expired"``): the places go back at once
    (a cart already ordered or released is left as it is)."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        lock_quotas(holds.slot_quota_ids(cart.slot))
        cart = Cart.objects.select_for_update().get(pk=cart.pk)
        if cart.state != Cart.State.OPEN:
            return cart
        returned = holds.give_back(cart, None, now)
        cart.state = Cart.State.EXPIRED if why == "expired" else Cart.State.RELEASED
        cart.save(update_fields=["state"])
        body = {"cart": str(cart.pk), "slot": cart.slot_id, "places": returned, "why": why}
        facts_append([facts.draft(cart.institution, facts.CART_RELEASED.name, body, who)], now=now)
    return cart


# --- orders --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderRequest:
    cart: Cart
    provider: str
    email: str = ""
    name: str = ""
    language: str = "en"
    return_url: str = ""


@dataclass(frozen=True)
class OrderStart:
    order: Order
    payment: PaymentStart | None


def new_order_code() -> str:
    """12 random characters of Crockford's base 32 (60 bits), grouped by four."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _check_order(request: OrderRequest, now: dt.datetime) -> None:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    if request.provider != "desk" and not request.email:
        raise InvalidInput("an e-mail address is needed to send the tickets", field="email")
    if len(request.email) > 254:
        raise InvalidInput("an e-mail address is at most 254 characters", field="email")
    if request.email:
        try:
            validate_email(request.email)
        except ValidationError as exc:
            raise InvalidInput("this e-mail address is not valid", field="email") from exc
    if len(request.name) > 120:
        raise InvalidInput("a name is at most 120 characters", field="name")
    if request.cart.state != Cart.State.OPEN:
        raise Conflict(f"this cart is {request.cart.state}", code="cart_" + request.cart.state, field="cart")
    if request.cart.expires_at <= now:
        raise Conflict("this cart's hold has expired; choose again", code="expired", field="cart")


def order_create(
    *, request: OrderRequest, who: str, desk: bool = False, now: dt.datetime | None = None
) -> OrderStart:
    """Turn an open cart into an order awaiting payment and start its payment; at the desk the
    payment is taken on the spot and the order is paid when this returns."""
    now = now or timezone.now()
    _check_order(request, now)
    cart = request.cart
    institution = cart.institution
    with transaction.atomic(durable=True):
        cart = Cart.objects.select_for_update(of=("self",)).select_related("slot").get(pk=cart.pk)
        if cart.state != Cart.State.OPEN or cart.expires_at <= now or not holds.held(cart):
            raise Conflict("this cart's hold has expired; choose again", code="expired", field="cart")
        order = Order.objects.create(
            code=new_order_code(),
            institution=institution,
            cart=cart,
            slot=cart.slot,
            channel=cart.channel,
            provider=request.provider,
            email=request.email,
            name=request.name,
            language=request.language,
            total=cart.total,
            currency=cart.currency,
            access_key=secrets.token_urlsafe(24),
            created_by=who,
            created_at=now,
            expires_at=now + conf.payment_window(),
        )
        holds.keep(cart, order.expires_at)
        cart.state = Cart.State.ORDERED
        cart.save(update_fields=["state"])
        body = {
            "order": order.code,
            "cart": str(cart.pk),
            "total": str(order.total),
            "provider": order.provider,
        }
        facts_append([facts.draft(institution, facts.ORDER_CREATED.name, body, who)], now=now)
        start = _pay(order, request, who, desk, now)
    order = Order.objects.select_related("slot__product", "slot__entrance", "institution", "cart").get(
        pk=order.pk
    )
    if start is not None and start.redirect_url is None and start.qr is None:
        # a wallet (Alipay, WeChat Pay): its QR comes from the gateway, asked once the order is
        # committed, outside any transaction (a network call must not hold locks)
        start = payments.payment_open(payment_id=str(start.payment.pk))
    return OrderStart(order=order, payment=start)


def _pay(order: Order, request: OrderRequest, who: str, desk: bool, now: dt.datetime) -> PaymentStart | None:
    if order.total == 0 and not desk:
        orders.order_settle(order=order, payment_id="", who=who, now=now)
        return None
    if desk:
        payment = payments.payment_record_desk(
            institution=order.institution,
            purpose=PURPOSE,
            reference=order.code,
            amount=order.total,
            currency=order.currency,
            method="card",
            actor=who,
            now=now,
        )
        Order.objects.filter(pk=order.pk).update(payment_id=str(payment.pk))
        return None
    start = payments.payment_create(
        institution=order.institution,
        purpose=PURPOSE,
        reference=order.code,
        amount=order.total,
        currency=order.currency,
        provider=request.provider,
        return_url=request.return_url,
        description=f"{order.slot.product.name} {order.code}",
        language=order.language,
        expires_at=order.expires_at,
        actor=who,
        now=now,
    )
    Order.objects.filter(pk=order.pk).update(payment_id=str(start.payment.pk))
    return start
