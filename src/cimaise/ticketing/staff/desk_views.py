"""The cashier's sale at the desk: a day's slots, then quantities per desk tariff, "Paid (card)",
and the order page with its tickets to print. A sale is a cart on the desk channel turned at once
into an order paid at the desk; a double click does not sell twice (the form carries a token)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cimaise.core.access import own_institution, require_permission
from cimaise.core.actors import Actor
from cimaise.core.auth import page_actor
from cimaise.core.errors import DomainError, NotFound
from cimaise.core.models import Institution
from cimaise.ticketing.models import Cart, Channel, Order
from cimaise.ticketing.selectors import SlotView
from cimaise.ticketing.services import CartRequest, OrderRequest, cart_create, cart_release, order_create
from cimaise.ticketing.staff import reads
from cimaise.ticketing.staff.errors import show_error
from cimaise.ticketing.staff.forms import LANGUAGES, DayForm, DeskSaleForm

ADD_ORDER = "ticketing.add_order"
SALES_KEY = "ticketing.desk_sales"
SALES_KEPT = 20


def _cashier(request: HttpRequest) -> tuple[Actor, Institution]:
    actor = page_actor(request)
    institution = own_institution(actor)
    require_permission(actor, ADD_ORDER)
    return actor, institution


@login_required
def desk(request: HttpRequest) -> HttpResponse:
    """The day's slots on sale at the desk (today by default), with the places left."""
    _actor, institution = _cashier(request)
    form = DayForm(request.GET or None)
    day = form.day(reads.today())
    slots = reads.desk_slots(institution=institution, day=day)
    products: dict[str, list[SlotView]] = {}
    for view in slots:
        products.setdefault(view.slot.product.name, []).append(view)
    context = {"form": form, "day": day, "products": products, "today": reads.today(), "now": timezone.now()}
    return render(request, "ticketing/staff/desk.html", context, status=400 if form.errors else 200)


def _language() -> str:
    active = (translation.get_language() or "en").lower()
    return next((code for code, _name in LANGUAGES if active.startswith(code.split("-")[0])), "en")


def _sale_form(request: HttpRequest, view: SlotView) -> DeskSaleForm:
    initial = {"sale": uuid.uuid4().hex, "language": _language()}
    data = request.POST if request.method == "POST" else None
    return DeskSaleForm(data, tariffs=view.tariffs, most=view.slot.product.max_per_order, initial=initial)


def _item_fields(form: DeskSaleForm) -> dict[str, str]:
    """A service's ``items[i].…`` is the quantity field of the i-th tariff sold."""
    fields = {}
    for i, item in enumerate(form.items()):
        for part in ("quantity", "tariff"):
            fields[f"items[{i}].{part}"] = form.field_for(item.tariff)
    return fields


def _sell(actor: Actor, institution: Institution, view: SlotView, form: DeskSaleForm) -> Order:
    """Hold the places on the desk channel, then order them paid at the desk; if ordering is
    refused the places go back at once rather than when the hold runs out."""
    data = form.cleaned_data
    request = CartRequest(
        slot=view.slot.pk, items=form.items(), channel=Channel.DESK, idempotency_key=f"desk:{data['sale']}"
    )
    cart = cart_create(institution=institution, request=request, owner=actor.user, who=actor.label)
    if cart.state == Cart.State.ORDERED:  # the same sale sent twice at once: the first one sold it
        return Order.objects.get(cart=cart)
    order_request = OrderRequest(
        cart=cart, provider="desk", email=data["email"], name=data["name"], language=data["language"]
    )
    try:
        return order_create(request=order_request, who=actor.label, desk=True).order
    except DomainError:
        cart.refresh_from_db()
        if cart.state == Cart.State.ORDERED:  # sent twice at once: the other request sold it
            return Order.objects.get(cart=cart)
        cart_release(cart=cart, who=actor.label)
        raise


def _sold_already(request: HttpRequest, token: str) -> str | None:
    sales: dict[str, str] = request.session.get(SALES_KEY, {})
    return sales.get(token)


def _remember(request: HttpRequest, token: str, code: str) -> None:
    sales: dict[str, str] = request.session.get(SALES_KEY, {})
    sales[token] = code
    request.session[SALES_KEY] = dict(list(sales.items())[-SALES_KEPT:])


@login_required
def desk_sale(request: HttpRequest, slot_id: int) -> HttpResponse:
    """The sale form of one slot (GET), or the sale itself (POST): the order comes back paid."""
    actor, institution = _cashier(request)
    view = reads.desk_slot(institution=institution, slot_id=slot_id)
    if view is None:
        raise NotFound(f"no slot {slot_id} on sale at the desk", field="slot")
    form = _sale_form(request, view)
    context: dict[str, Any] = {"view": view, "form": form}
    if request.method != "POST":
        return render(request, "ticketing/staff/desk_sale.html", context)
    if not form.is_valid():
        return render(request, "ticketing/staff/desk_sale.html", context, status=422)
    done = _sold_already(request, form.cleaned_data["sale"])
    if done:
        return redirect("ticketing:order", code=done)
    try:
        order = _sell(actor, institution, view, form)
    except DomainError as exc:
        show_error(form, exc, fields=_item_fields(form), labels={"items": _("Tickets"), "slot": _("Slot")})
        return render(request, "ticketing/staff/desk_sale.html", context, status=exc.status)
    _remember(request, form.cleaned_data["sale"], order.code)
    count = order.tickets.count()
    text = ngettext(
        "Paid: %(n)s ticket, %(total)s %(currency)s.", "Paid: %(n)s tickets, %(total)s %(currency)s.", count
    )
    messages.success(request, text % {"n": count, "total": order.total, "currency": order.currency})
    return redirect("ticketing:order", code=order.code)
