"""The capacity page: bulk capacity edit (previewed through htmx, then applied), opening slots
over a range of days, closing or reopening a day's slots. One page, three forms, each posting
to its own URL; a refused form comes back on the page with its errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from cimaise.core.access import own_institution, require_permission
from cimaise.core.actors import Actor
from cimaise.core.auth import page_actor
from cimaise.core.errors import DomainError
from cimaise.core.models import Institution
from cimaise.ticketing.capacity import capacity_set, slots_close, slots_generate
from cimaise.ticketing.staff import reads
from cimaise.ticketing.staff.errors import show_error
from cimaise.ticketing.staff.forms import CapacityEditForm, DayForm, SlotCloseForm, SlotPlanForm

CHANGE_QUOTA = "ticketing.change_quota"
ADD_SLOT = "ticketing.add_slot"
CHANGE_SLOT = "ticketing.change_slot"
PAGE = "ticketing/staff/capacity.html"


def _edit_form(institution: Institution, data: Any = None) -> CapacityEditForm:
    products, entrances = reads.product_choices(institution), reads.entrance_choices(institution)
    return CapacityEditForm(data, products=products, entrances=entrances)


def _plan_form(institution: Institution, data: Any = None) -> SlotPlanForm:
    products, entrances = reads.product_choices(institution), reads.entrance_choices(institution)
    return SlotPlanForm(data, products=products, entrances=entrances)


def _with_day(form: Any, day: dt.date, *names: str) -> Any:
    if not form.is_bound:
        form.initial.update(dict.fromkeys(names, day))
    return form


def _page(institution: Institution, day: dt.date, **given: Any) -> dict[str, Any]:
    """The page's context: the forms given (bound, with their errors) or fresh ones for ``day``."""
    edit = given.get("edit") or _with_day(_edit_form(institution), day, "first_day", "last_day")
    plan = given.get("plan") or _with_day(_plan_form(institution), day, "first_day", "last_day")
    close = given.get("close") or _with_day(SlotCloseForm(), day, "date")
    return {
        "day": day,
        "edit": edit,
        "plan": plan,
        "close": close,
        "chosen": set(getattr(close, "cleaned_data", {}).get("slots", [])),
        "preview": given.get("preview"),
        "slots": reads.day_slot_views(institution=institution, day=day),
    }


def _render(
    request: HttpRequest, institution: Institution, day: dt.date, status: int = 200, **given: Any
) -> HttpResponse:
    return render(request, PAGE, _page(institution, day, **given), status=status)


def _back(day: dt.date, anchor: str = "") -> HttpResponse:
    return redirect(f"{reverse('ticketing:capacity')}?date={day.isoformat()}{anchor}")


def _institution(request: HttpRequest, *permissions: str) -> tuple[Actor, Institution]:
    actor = page_actor(request)
    institution = own_institution(actor)
    for permission in permissions:
        require_permission(actor, permission)
    return actor, institution


@login_required
def capacity(request: HttpRequest) -> HttpResponse:
    """The page (GET; ``?date=`` chooses the day whose slots are listed), or apply an edit (POST)."""
    actor, institution = _institution(request, CHANGE_QUOTA)
    day = DayForm(request.GET or None).day(reads.today())
    if request.method != "POST":
        return _render(request, institution, day)
    form = _edit_form(institution, request.POST)
    if not form.is_valid():
        return _render(request, institution, day, 422, edit=form)
    try:
        changed = capacity_set(actor=actor, edit=form.edit())
    except DomainError as exc:
        show_error(form, exc)
        return _render(request, institution, day, exc.status, edit=form)
    messages.success(
        request, ngettext("%(n)s quota changed.", "%(n)s quotas changed.", changed) % {"n": changed}
    )
    return _back(form.cleaned_data["first_day"])


@login_required
@require_POST
def capacity_preview(request: HttpRequest) -> HttpResponse:
    """How many quotas the edit would change, and which it would refuse; nothing is changed.
    htmx gets the preview alone; without JavaScript the whole page comes back with it."""
    _actor, institution = _institution(request, CHANGE_QUOTA)
    form = _edit_form(institution, request.POST)
    preview = reads.capacity_preview(institution=institution, edit=form.edit()) if form.is_valid() else None
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "ticketing/staff/_preview.html", {"edit": form, "preview": preview})
    day = form.cleaned_data.get("first_day") or reads.today()
    return _render(request, institution, day, 200 if preview else 422, edit=form, preview=preview)


@login_required
@require_POST
def slots_open(request: HttpRequest) -> HttpResponse:
    """Open the slots of a product at entrances over days (existing ones are left as they are)."""
    actor, institution = _institution(request, ADD_SLOT)
    form = _plan_form(institution, request.POST)
    if not form.is_valid():
        return _render(request, institution, reads.today(), 422, plan=form)
    try:
        done = slots_generate(actor=actor, plan=form.plan())
    except DomainError as exc:
        show_error(form, exc)
        return _render(request, institution, form.cleaned_data["first_day"], exc.status, plan=form)
    text = _("%(created)s slots opened; %(existing)s existed already.")
    messages.success(request, text % {"created": done.created, "existing": done.existing})
    return _back(form.cleaned_data["first_day"])


@login_required
@require_POST
def slots_close_view(request: HttpRequest) -> HttpResponse:
    """Close the chosen slots to sale, or reopen them (places sold stay sold)."""
    actor, institution = _institution(request, CHANGE_SLOT)
    form = SlotCloseForm(request.POST)
    if not form.is_valid():
        day = form.cleaned_data.get("date") or reads.today()
        return _render(request, institution, day, 422, close=form)
    day = form.cleaned_data["date"] or reads.today()
    closing = form.cleaned_data["action"] == "close"
    try:
        count = slots_close(
            actor=actor,
            slot_ids=form.cleaned_data["slots"],
            closed=closing,
            reason=form.cleaned_data["reason"],
        )
    except DomainError as exc:
        show_error(form, exc, fields={"slot": "slots"})
        return _render(request, institution, day, exc.status, close=form)
    text = (
        ngettext("%(n)s slot closed.", "%(n)s slots closed.", count)
        if closing
        else ngettext("%(n)s slot reopened.", "%(n)s slots reopened.", count)
    )
    messages.success(request, text % {"n": count})
    return _back(day, "#slots")
