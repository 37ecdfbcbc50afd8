"""The sales API (DESIGN.md §5): slots with places left, carts, orders. Visitors need no
account; staff tokens sell at the desk and read any order of their institution."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from cimaise.core.access import own_institution
from cimaise.core.actors import Actor
from cimaise.core.auth import BearerToken, Session
from cimaise.core.errors import NotFound, PermissionDenied
from cimaise.core.models import Institution
from cimaise.ticketing import orders, selectors, services
from cimaise.ticketing.models import Cart, Channel, Order

router = Router(tags=["sales"])


class Visitor:
    """No credentials at all: a visitor of the shop. A request that sends a token must send a
    valid one (the bearer class refuses it first; this one does not let it through)."""

    def __call__(self, request: HttpRequest) -> Any:
        if request.headers.get("Authorization"):
            return None
        return "visitor"


SHOP_AUTH = [BearerToken(), Session(), Visitor()]


def caller(request: HttpRequest) -> Actor | None:
    return getattr(request, "actor", None)


def shop_institution(request: HttpRequest) -> Institution:
    """Staff act for their institution; visitors buy from the one this server sells for."""
    actor = caller(request)
    if actor is not None and actor.institution is not None:
        return own_institution(actor)
    return selectors.visitor_institution()


def who(request: HttpRequest) -> str:
    actor = caller(request)
    return actor.label if actor is not None else "visitor"


class TariffOut(Schema):
    code: str
    name: str
    price: str = Field(description="EUR, two decimals")
    currency: str
    free_category: str | None = None
    proof: str | None = Field(None, description="what a free visitor shows at the gate")


class SlotOut(Schema):
    id: int
    start: dt.datetime
    end: dt.datetime
    product: str
    product_name: str
    entrance: str
    capacity: int
    left: int
    tariffs: list[TariffOut]


class SlotQuery(Schema):
    date: dt.date = Field(description="YYYY-MM-DD (Europe/Paris)")
    product: str | None = None
    entrance: str | None = None
    channel: Literal["web", "desk", "reseller"] = "web"


def tariff_out(tariff: Any) -> dict[str, Any]:
    return {
        "code": tariff.code,
        "name": tariff.name,
        "price": f"{tariff.price:.2f}",
        "currency": tariff.currency,
        "free_category": tariff.free_category.code if tariff.free_category else None,
        "proof": tariff.free_category.proof if tariff.free_category else None,
    }


@router.get("/slots", response=list[SlotOut], auth=SHOP_AUTH, summary="Timed slots of a day with places left")
def slot_list(request: HttpRequest, query: Query[SlotQuery]) -> list[dict[str, Any]]:
    views = selectors.slots_available(
        institution=shop_institution(request),
        day=query.date,
        product=query.product,
        entrance=query.entrance,
        channel=query.channel,
    )
    return [
        {
            "id": v.slot.pk,
            "start": v.slot.starts_at,
            "end": v.slot.ends_at,
            "product": v.slot.product.code,
            "product_name": v.slot.product.name,
            "entrance": v.slot.entrance.code,
            "capacity": v.capacity,
            "left": v.left,
            "tariffs": [tariff_out(t) for t in v.tariffs],
        }
        for v in views
    ]


MAX_ID = 2**31 - 1


class ItemIn(Schema):
    tariff: str = Field(max_length=32)
    quantity: int = Field(description="at least 1; at most the product's maximum per order")


class CartIn(Schema):
    slot: int = Field(ge=1, le=MAX_ID)
    items: list[ItemIn]
    channel: Literal["web", "desk", "reseller"] = "web"
    admission: str | None = Field(None, description="the waiting room's admission token, when it is open")


class LineOut(Schema):
    tariff: str
    name: str
    quantity: int
    unit_price: str
    total: str


class CartOut(Schema):
    id: uuid.UUID
    state: str
    slot: int
    expires_at: dt.datetime
    items: list[LineOut]
    total: str
    currency: str


def cart_out(cart: Cart) -> dict[str, Any]:
    return {
        "id": cart.pk,
        "state": cart.state,
        "slot": cart.slot_id,
        "expires_at": cart.expires_at,
        "items": [
            {
                "tariff": line.tariff.code,
                "name": line.tariff.name,
                "quantity": line.quantity,
                "unit_price": f"{line.unit_price:.2f}",
                "total": f"{line.unit_price * line.quantity:.2f}",
            }
            for line in cart.lines.select_related("tariff")
        ],
        "total": f"{cart.total:.2f}",
        "currency": cart.currency,
    }


def _channel_allowed(request: HttpRequest, channel: str) -> None:
    if channel == Channel.WEB:
        return
    actor = caller(request)
    if actor is None or not actor.can("ticketing.add_order"):
        raise PermissionDenied(f"only ticketing staff sell on the {channel} channel")


@router.post(
    "/carts",
    response={201: CartOut},
    auth=SHOP_AUTH,
    summary="Hold places of a slot",
    description=(
        "Send an `Idempotency-Key` header to make a resend answer the first cart instead of holding more."
    ),
)
def cart_create(request: HttpRequest, payload: CartIn) -> Status[dict[str, Any]]:
    _channel_allowed(request, payload.channel)
    actor = caller(request)
    cart = services.cart_create(
        institution=shop_institution(request),
        request=services.CartRequest(
            slot=payload.slot,
            items=[services.Item(i.tariff, i.quantity) for i in payload.items],
            channel=payload.channel,
            admission=payload.admission,
            idempotency_key=request.headers.get("Idempotency-Key"),
        ),
        owner=actor.user if actor is not None else None,
        who=who(request),
    )
    return Status(201, cart_out(cart))


def _cart(request: HttpRequest, cart_id: uuid.UUID) -> Cart:
    actor = caller(request)
    return services.cart_get(
        institution=shop_institution(request),
        cart_id=cart_id,
        owner=actor.user if actor is not None else None,
    )


@router.get("/carts/{cart_id}", response=CartOut, auth=SHOP_AUTH, summary="A cart")
def cart_detail(request: HttpRequest, cart_id: uuid.UUID) -> dict[str, Any]:
    return cart_out(_cart(request, cart_id))


@router.delete("/carts/{cart_id}", response=CartOut, auth=SHOP_AUTH, summary="Give a cart's places back")
def cart_release(request: HttpRequest, cart_id: uuid.UUID) -> dict[str, Any]:
    return cart_out(services.cart_release(cart=_cart(request, cart_id), who=who(request)))


class OrderIn(Schema):
    cart: uuid.UUID
    email: str = Field("", max_length=254)
    name: str = Field("", max_length=120)
    provider: Literal["sandbox", "alipay", "wechatpay", "desk"] = "sandbox"
    language: Literal["en", "fr", "zh-hans"] = "en"
    return_url: str = Field("", max_length=500, description="where the payment page sends the visitor back")


class PaymentOut(Schema):
    id: str
    redirect_url: str | None = None
    qr: str | None = None


class TicketOut(Schema):
    id: int
    code: str | None = Field(description="the signed code (its QR); present once paid")
    code_id: str
    tariff: str
    slot: int
    state: str
    price: str


class OrderOut(Schema):
    code: str
    status: str
    total: str
    vat: str = Field(description="the VAT included in the total, at the product's rate")
    refunded: str
    currency: str
    slot: int
    start: dt.datetime
    product: str
    entrance: str
    email: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    paid_at: dt.datetime | None
    payment: PaymentOut | None = None
    tickets: list[TicketOut]


def order_out(order: Order, payment: Any = None) -> dict[str, Any]:
    paid = order.state in (Order.State.PAID, Order.State.REFUNDED, Order.State.CANCELLED)
    tickets = list(order.tickets.select_related("tariff")) if paid else []
    return {
        "code": order.code,
        "status": orders.order_status(order),
        "total": f"{order.total:.2f}",
        "vat": f"{services.vat_included(order.total, order.slot.product.vat_rate):.2f}",
        "refunded": f"{order.refunded:.2f}",
        "currency": order.currency,
        "slot": order.slot_id,
        "start": order.slot.starts_at,
        "product": order.slot.product.code,
        "entrance": order.slot.entrance.code,
        "email": order.email,
        "created_at": order.created_at,
        "expires_at": order.expires_at,
        "paid_at": order.paid_at,
        "payment": payment,
        "tickets": [ticket_out(t) for t in tickets],
    }


def ticket_out(ticket: Any) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "code": ticket.code if ticket.state == ticket.State.VALID else None,
        "code_id": ticket.code_id,
        "tariff": ticket.tariff.code,
        "slot": ticket.slot_id,
        "state": ticket.state,
        "price": f"{ticket.price:.2f}",
    }


@router.post("/orders", response={201: OrderOut}, auth=SHOP_AUTH, summary="Turn a cart into an order")
def order_create(request: HttpRequest, payload: OrderIn) -> Status[dict[str, Any]]:
    desk = payload.provider == "desk"
    if desk:
        _channel_allowed(request, Channel.DESK)
    started = services.order_create(
        request=services.OrderRequest(
            cart=_cart(request, payload.cart),
            provider=payload.provider,
            email=payload.email.strip(),
            name=payload.name.strip(),
            language=payload.language,
            return_url=payload.return_url,
        ),
        who=who(request),
        desk=desk,
    )
    payment = None
    if started.payment is not None:
        p = started.payment
        payment = {"id": str(p.payment.pk), "redirect_url": p.redirect_url, "qr": p.qr}
    return Status(201, order_out(started.order, payment))


def _order(request: HttpRequest, code: str) -> Order:
    order = selectors.order_by_code(institution=shop_institution(request), code=code)
    if order is None:
        raise NotFound(f"no order {code!r}", field="code")
    actor = caller(request)
    owner_id = order.cart.owner_id
    if owner_id is not None and not (
        actor and (actor.user.pk == owner_id or actor.can("ticketing.view_order"))
    ):
        raise NotFound(f"no order {code!r}", field="code")
    return order


@router.get("/orders/{code}", response=OrderOut, auth=SHOP_AUTH, summary="An order and its tickets")
def order_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    return order_out(_order(request, code))


class CancelIn(Schema):
    tickets: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(
        None, description="ticket ids; all valid tickets when omitted"
    )
    reason: str = Field(max_length=200)


@router.post(
    "/orders/{code}/cancel", response=OrderOut, auth=SHOP_AUTH, summary="Cancel tickets and refund them"
)
def order_cancel(request: HttpRequest, code: str, payload: CancelIn) -> dict[str, Any]:
    order = _order(request, code)
    actor = caller(request)
    staff = bool(actor and actor.can("ticketing.change_order"))
    cancelled = orders.order_cancel(
        order=order, ticket_ids=payload.tickets, reason=payload.reason, who=who(request), allow_paid=staff
    )
    return order_out(cancelled)


class ReissueIn(Schema):
    reason: str = Field(max_length=200, description="why the ticket gets a new code (lost, shared…)")


@router.post(
    "/orders/{code}/tickets/{ticket_id}/reissue",
    response=TicketOut,
    auth=SHOP_AUTH,
    summary="Give a ticket a new code (the old one is revoked)",
)
def ticket_reissue(request: HttpRequest, code: str, ticket_id: int, payload: ReissueIn) -> dict[str, Any]:
    order = _order(request, code)
    actor = caller(request)
    if not (actor and actor.can("ticketing.change_order")):
        raise PermissionDenied("tickets are reissued by the ticket office")
    ticket = orders.ticket_replace(order=order, ticket_id=ticket_id, reason=payload.reason, who=who(request))
    return ticket_out(ticket)
