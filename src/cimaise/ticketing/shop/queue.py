"""The waiting room's page, ``/shop/wait/``: the visitor joins the queue, then sees their place,
the people ahead and the estimated wait, refreshed every ``poll_after_seconds`` (an htmx fragment;
a meta refresh without JavaScript). Once admitted, the admission token goes in the session and
the visitor goes back to the page that sent them here."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from cimaise.core.errors import DomainError, NotFound
from cimaise.ticketing import waiting
from cimaise.ticketing.api import shop_institution
from cimaise.ticketing.models import QueueEntry, WaitingRoom
from cimaise.ticketing.shop import visit
from cimaise.ticketing.shop.errors import error_message


def _after(request: HttpRequest) -> str:
    return visit.after_wait(request) or reverse("shop:home")


def _entry(request: HttpRequest, room: WaitingRoom) -> QueueEntry | None:
    """The visitor's place in this room's queue, if they joined it."""
    entry_id = visit.entry_id(request)
    if entry_id is None:
        return None
    try:
        return waiting.entry_get(room=room, entry_id=uuid.UUID(entry_id))
    except (NotFound, ValueError):
        visit.entry_forget(request)
        return None


def wait_text(seconds: int) -> str:
    """The estimated wait in words."""
    if seconds < 60:
        return _("less than a minute")
    minutes = (seconds + 59) // 60
    return ngettext("about %(n)d minute", "about %(n)d minutes", minutes) % {"n": minutes}


def _join(request: HttpRequest, room: WaitingRoom) -> HttpResponse:
    try:
        entry = waiting.room_join(room=room)
    except DomainError as error:
        messages.error(request, error_message(error))
    else:
        visit.entry_keep(request, entry.pk)
    return redirect("shop:wait")


def _state(request: HttpRequest) -> tuple[WaitingRoom | None, QueueEntry | None, waiting.Status | None]:
    room = waiting.room_active(institution=shop_institution(request))
    entry = _entry(request, room) if room is not None else None
    status = waiting.entry_status(entry=entry) if entry is not None else None
    if status is not None and status.admitted and status.token:
        visit.admission_keep(request, status.token)
    return room, entry, status


def _context(room: WaitingRoom, status: waiting.Status | None) -> dict[str, object]:
    wait = wait_text(status.estimated_wait_seconds) if status is not None else ""
    return {"room": room, "status": status, "wait": wait}


@require_http_methods(["GET", "POST"])
def wait(request: HttpRequest) -> HttpResponse:
    room, entry, status = _state(request)
    if room is None or (status is not None and status.admitted):
        return redirect(_after(request))
    if request.method == "POST":
        return redirect("shop:wait") if entry is not None else _join(request, room)
    return render(request, "ticketing/shop/wait.html", _context(room, status))


@require_GET
def wait_status(request: HttpRequest) -> HttpResponse:
    """The queue's fragment, polled by htmx; a client redirect once admitted."""
    room, _entry_, status = _state(request)
    if room is None or status is None or status.admitted:
        target = _after(request) if room is None or status is not None else reverse("shop:wait")
        return HttpResponseClientRedirect(target)
    return render(request, "ticketing/shop/_wait_status.html", _context(room, status))
