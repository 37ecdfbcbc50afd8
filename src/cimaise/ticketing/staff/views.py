"""Ticketing staff pages: the day's capacity overview, order search, an order with its partial
cancellation (confirmed first) and its tickets as PDF. Thin: authorize, read, call one service,
render. The capacity and desk pages are in ``capacity_views`` and ``desk_views``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cimaise.core.access import own_institution, require_permission
from cimaise.core.actors import Actor
from cimaise.core.auth import page_actor
from cimaise.core.errors import DomainError, NotFound
from cimaise.ticketing.models import Order, Ticket
from cimaise.ticketing.orders import order_cancel
from cimaise.ticketing.selectors import order_by_code, orders_search
from cimaise.ticketing.staff import reads
from cimaise.ticketing.staff.errors import error_message, show_error
from cimaise.ticketing.staff.forms import LANGUAGES, CancelForm, DayForm, OrderSearchForm

VIEW_QUOTA = "ticketing.view_quota"
VIEW_ORDER = "ticketing.view_order"
CHANGE_ORDER = "ticketing.change_order"
PDF_LANGUAGES = {code for code, _name in LANGUAGES}


def access_order(actor: Actor, code: str, permission: str = VIEW_ORDER) -> Order:
    """The order with this code in the actor's institution; another institution's is absent.
    The permission is checked first, so a role without it learns nothing about codes."""
    institution = own_institution(actor)
    require_permission(actor, permission)
    order = order_by_code(institution=institution, code=code)
    if order is None:
        raise NotFound(f"no order {code!r}", field="order")
    return order


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """The day's slots per entrance: capacity, taken, left, fill; a fill chart per entrance."""
    actor = page_actor(request)
    institution = own_institution(actor)
    require_permission(actor, VIEW_QUOTA)
    form = DayForm(request.GET or None, products=reads.product_choices(institution))
    day = form.day(reads.today())
    entrances = reads.day_overview(
        institution=institution,
        day=day,
        product=form.product_code(),
        chart_title=_("Places taken per half-hour at"),
    )
    context = {
        "form": form,
        "day": day,
        "entrances": entrances,
        "can_close": actor.can("ticketing.change_slot"),
    }
    return render(request, "ticketing/staff/overview.html", context, status=400 if form.errors else 200)


@login_required
def orders(request: HttpRequest) -> HttpResponse:
    """Orders by code, e-mail or name, newest first (the latest ones without a query)."""
    actor = page_actor(request)
    institution = own_institution(actor)
    require_permission(actor, VIEW_ORDER)
    form = OrderSearchForm(request.GET or None)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    found = list(orders_search(institution=institution, q=q))
    if q and len(found) == 1 and found[0].code == q.strip().upper():
        return redirect("ticketing:order", code=found[0].code)
    return render(request, "ticketing/staff/orders.html", {"form": form, "orders": found, "q": q})


def _order_context(actor: Actor, order: Order, cancel: CancelForm | None = None) -> dict[str, Any]:
    tickets = reads.order_tickets(order)
    return {
        "order": order,
        "tickets": tickets,
        "valid": [t for t in tickets if t.state == Ticket.State.VALID],
        "payments": reads.order_payments(order),
        "cancel": cancel or CancelForm(),
        "can_cancel": actor.can(CHANGE_ORDER)
        and order.state in (Order.State.PAID, Order.State.AWAITING_PAYMENT),
        "print_languages": LANGUAGES,
    }


@login_required
def order_detail(request: HttpRequest, code: str) -> HttpResponse:
    """An order: its state, tickets with their states and prices, payments and refunds."""
    actor = page_actor(request)
    order = access_order(actor, code)
    return render(request, "ticketing/staff/order.html", _order_context(actor, order))


@login_required
@require_POST
def order_cancel_view(request: HttpRequest, code: str) -> HttpResponse:
    """First post: confirm what will be cancelled and refunded. Second (``confirm``): cancel."""
    actor = page_actor(request)
    order = access_order(actor, code, CHANGE_ORDER)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return render(request, "ticketing/staff/order.html", _order_context(actor, order, form), status=422)
    if not form.cleaned_data["confirm"]:
        return render(request, "ticketing/staff/cancel_confirm.html", _confirm_context(order, form))
    try:
        order = order_cancel(
            order=order, ticket_ids=form.ticket_ids(), reason=form.cleaned_data["reason"], who=actor.label
        )
    except DomainError as exc:
        show_error(form, exc, labels={"order": _("Order"), "tickets": _("Tickets")})
        return render(
            request, "ticketing/staff/order.html", _order_context(actor, order, form), status=exc.status
        )
    messages.success(request, _("Cancelled. The places are back on sale and the refund is recorded."))
    return redirect("ticketing:order", code=order.code)


def _confirm_context(order: Order, form: CancelForm) -> dict[str, Any]:
    ids = form.ticket_ids()
    valid = [t for t in reads.order_tickets(order) if t.state == Ticket.State.VALID]
    chosen = valid if ids is None else [t for t in valid if t.pk in set(ids)]
    return {
        "order": order,
        "form": form,
        "chosen": chosen,
        "refund": sum((t.price for t in chosen), Decimal(0)),
        "whole": ids is None or len(chosen) == len(valid),
    }


@login_required
def order_pdf(request: HttpRequest, code: str) -> HttpResponse:
    """The order's valid tickets as a PDF, in the order's language unless another is asked."""
    actor = page_actor(request)
    order = access_order(actor, code)
    asked = request.GET.get("language", "")
    language = asked if asked in PDF_LANGUAGES else order.language
    # WeasyPrint is heavy: loaded on the first print, not with every page.
    from cimaise.ticketing.documents import tickets_pdf

    try:
        pdf = tickets_pdf(order=order, language=language)
    except DomainError as exc:
        messages.error(request, error_message(exc))
        return redirect("ticketing:order", code=order.code)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="tickets-{order.code}.pdf"'
    return response
