"""Agents' and managers' pages: my orders and those waiting for me, a new order, an order with
its steps, allowances, bookings and the decision form, my claim, my calendar link."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cimaise.core.access import own_institution
from cimaise.core.auth import page_actor
from cimaise.core.errors import DomainError
from cimaise.missions import calendar, claims, orders
from cimaise.missions.allowances import Allowances, allowances_compute
from cimaise.missions.models import MissionOrder
from cimaise.missions.pages.forms import DecisionForm, ExpenseForm, OrderForm


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """My orders and the orders waiting for my decision."""
    actor = page_actor(request)
    person = orders.actor_person(actor)
    context = {"mine": orders.orders_of(person), "pending": orders.orders_pending_for(actor)}
    return render(request, "missions/home.html", context)


def _form_error(form: OrderForm, exc: DomainError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


@login_required
def order_new(request: HttpRequest) -> HttpResponse:
    """File an order; it is submitted to the line manager at once."""
    actor = page_actor(request)
    institution = own_institution(actor)
    initial = {"travellers": [actor.person.pk] if actor.person else [], "destination": "CCL"}
    form = OrderForm(request.POST or None, institution_id=institution.pk, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            order = orders.order_file(actor=actor, request=form.order_request())
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Order %(code)s sent to your line manager.") % {"code": order.code})
            return redirect("missions:order", code=order.code)
    status = 422 if form.errors else 200
    return render(request, "missions/new.html", {"form": form}, status=status)


def _allowances(order: MissionOrder) -> Allowances | None:
    try:
        return allowances_compute(
            starts_at=order.starts_at, ends_at=order.ends_at, city=order.destination.city
        )
    except DomainError:  # no rate for those dates: the page still shows the order
        return None


def _order_context(actor: Any, order: MissionOrder) -> dict[str, Any]:
    due = _allowances(order)
    pending = {o.pk for o in orders.orders_pending_for(actor)}
    person = actor.person
    return {
        "order": order,
        "steps": order.steps.select_related("by__user"),
        "travellers": order.travellers.select_related("user"),
        "due": due,
        "bookings": order.bookings.select_related("traveller__user", "shuttle"),
        "can_decide": order.pk in pending,
        "decision_form": DecisionForm(),
        "travelling": person is not None and order.travellers.filter(pk=person.pk).exists(),
    }


@login_required
@require_GET
def order_page(request: HttpRequest, code: str) -> HttpResponse:
    actor = page_actor(request)
    order = orders.access_order(actor, code)
    return render(request, "missions/order.html", _order_context(actor, order))


@login_required
@require_POST
def order_decide(request: HttpRequest, code: str) -> HttpResponse:
    """Approve or refuse at the pending level."""
    actor = page_actor(request)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        order = orders.access_order(actor, code)
        context = {**_order_context(actor, order), "decision_form": form}
        return render(request, "missions/order.html", context, status=422)
    comment = form.cleaned_data["comment"]
    if form.cleaned_data["decision"] == "approve":
        order = orders.order_approve(actor=actor, code=code, comment=comment)
        messages.success(request, _("Order %(code)s approved.") % {"code": code})
    else:
        order = orders.order_refuse(actor=actor, code=code, comment=comment)
        messages.success(request, _("Order %(code)s returned to the agent.") % {"code": code})
    return redirect("missions:order", code=order.code)


@login_required
def claim_page(request: HttpRequest, code: str) -> HttpResponse:
    """My claim on a validated order: allowances, expenses and their receipts."""
    actor = page_actor(request)
    claim = claims.claim_open(actor=actor, code=code)
    form = ExpenseForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            claims.expense_add(
                actor=actor,
                claim_id=claim.pk,
                kind=data["kind"],
                label=data["label"],
                amount=str(data["amount"]),
                receipt=data.get("receipt"),
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return redirect("missions:claim", code=code)
    context = {
        "claim": claim,
        "form": form,
        "total": claims.claim_total(claim),
        "missing": claims.receipts_missing(claim),
    }
    return render(request, "missions/claim.html", context, status=422 if form.errors else 200)


@require_GET
def calendar_ics(request: HttpRequest, token: str) -> HttpResponse:
    """The feed (no session: the token in the URL is the credential)."""
    response = HttpResponse(calendar.calendar_feed(token=token), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
@require_POST
def calendar_new(request: HttpRequest) -> HttpResponse:
    """Issue a new feed URL and show it once."""
    token = calendar.calendar_token_issue(actor=page_actor(request))
    url = request.build_absolute_uri(reverse("missions:calendar", args=[token]))
    return render(request, "missions/calendar.html", {"url": url})
