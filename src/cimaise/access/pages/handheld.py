"""The handheld check, under /access/scan/, for gate agents: choose the entrance and lane once (kept
in the session), then scan. A keyboard-wedge scanner types the code and Enter into the focused
field; the browser's camera works through ``BarcodeDetector`` where the browser has it
(static/access/handheld.js). Each check is a POST that htmx swaps in place: a big green or red
answer, and the field empty and focused again for the next visitor. After a refusal, an agent
who may override can let the visitor through with a reason.

The scan form stays on the page while answers are swapped in below it, so that a scanner typing
the next code is never cut off; the script empties the field as each code is sent. Each
answer renews the form's nonce, and the script makes one per submission anyway, so that two
codes scanned in quick succession are never taken for one resent request."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from cimaise.access.models import Entrance, Entry, Lane
from cimaise.access.pages import reads
from cimaise.access.pages.forms import LaneForm, OverrideForm, ScanForm, new_nonce
from cimaise.access.roles import OVERRIDE, SCAN
from cimaise.access.services import entry_override, lane_for, scan_validate
from cimaise.core.access import own_institution, require_permission
from cimaise.core.actors import Actor
from cimaise.core.auth import page_actor
from cimaise.core.errors import DomainError, NotFound, PermissionDenied

SESSION_LANE = "access.scan.lane"
View = Callable[..., HttpResponse]


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _to_page(request: HttpRequest) -> HttpResponse:
    """Back to the page (no lane chosen, or it was closed meanwhile): the whole page, not a swap."""
    page = reverse("access:scan")
    return HttpResponseClientRedirect(page) if _htmx(request) else redirect(page)


def signed_in(view: View) -> View:
    """``login_required``, except that htmx is told to load the sign-in page (or the refusal of a
    role that may no longer scan) as a whole page rather than swap it into the answer."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            login = redirect_to_login(reverse("access:scan"))
            return HttpResponseClientRedirect(login.url) if _htmx(request) else login
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied:
            if _htmx(request):
                return HttpResponseClientRedirect(reverse("access:scan"))
            raise

    return wrapper


def _scanner(request: HttpRequest) -> Actor:
    actor = page_actor(request)
    own_institution(actor)
    require_permission(actor, SCAN)
    return actor


def _chosen(request: HttpRequest, actor: Actor) -> tuple[Entrance, Lane] | None:
    """The lane kept in the session, while it is still active."""
    entrance, _sep, lane = str(request.session.get(SESSION_LANE, "")).partition("/")
    if not entrance or not lane:
        return None
    try:
        return lane_for(actor=actor, entrance=entrance, lane=lane)
    except NotFound:
        request.session.pop(SESSION_LANE, None)
        return None


def _context(actor: Actor, where: tuple[Entrance, Lane] | None) -> dict[str, Any]:
    institution = own_institution(actor)
    current = reads.lane_key(where[1]) if where else ""
    direction = reads.scan_direction(where[1]) if where else ""
    return {
        "where": where,
        "direction": direction,
        "lane_form": LaneForm(lanes=reads.lane_choices(institution), initial=current),
        "nonce": new_nonce(),
        "can_override": actor.can(OVERRIDE) and direction == Entry.Direction.IN,  # overrides let people in
    }


def _zone(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """The answer (and the override form after a refusal): the zone alone, with a fresh nonce
    for the scan form, for htmx; else the whole page."""
    partial = _htmx(request)
    template = "access/_scan_zone.html" if partial else "access/scan.html"
    return render(request, template, {**context, "partial": partial}, status=status)


@login_required
@require_GET
def scan_page(request: HttpRequest) -> HttpResponse:
    """The lane chooser, or (a lane chosen) the scan field."""
    actor = _scanner(request)
    return render(request, "access/scan.html", _context(actor, _chosen(request, actor)))


@login_required
@require_POST
def scan_lane(request: HttpRequest) -> HttpResponse:
    """Remember where this handheld is."""
    actor = _scanner(request)
    form = LaneForm(request.POST, lanes=reads.lane_choices(own_institution(actor)))
    if not form.is_valid():
        context = {**_context(actor, _chosen(request, actor)), "lane_form": form}
        return render(request, "access/scan.html", context, status=422)
    request.session[SESSION_LANE] = form.cleaned_data["lane"]
    return redirect("access:scan")


@signed_in
@require_POST
def scan_check(request: HttpRequest) -> HttpResponse:
    """Check one code at the chosen lane (``scan_validate``) and show the answer."""
    actor = _scanner(request)
    where = _chosen(request, actor)
    if where is None:
        return _to_page(request)
    context = _context(actor, where)
    form = ScanForm(request.POST)
    if not form.is_valid():
        return _zone(request, {**context, "scan_errors": form.errors}, status=422)
    code = form.cleaned_data["code"]
    try:
        result = scan_validate(
            actor=actor,
            code=code,
            entrance=where[0].code,
            lane=where[1].code,
            direction=context["direction"],
            nonce=form.cleaned_data["nonce"],
            scanned_at=timezone.now(),
        )
    except DomainError as exc:
        return _zone(request, {**context, "error": exc.message}, status=exc.status)
    return _zone(request, {**context, **_answer_context(reads.answer_for(result, code=code))})


def _answer_context(answer: reads.Answer) -> dict[str, Any]:
    override = OverrideForm(
        initial={"code": answer.code, "nonce": new_nonce(), "people": max(answer.people, 1)}
    )
    return {"answer": answer, "override_form": override}


@signed_in
@require_POST
def scan_override(request: HttpRequest) -> HttpResponse:
    """Let the visitor of a refused code through, with a reason (``entry_override``)."""
    actor = _scanner(request)
    require_permission(actor, OVERRIDE)
    where = _chosen(request, actor)
    if where is None:
        return _to_page(request)
    context = _context(actor, where)
    form = OverrideForm(request.POST)
    if not form.is_valid():
        return _zone(request, {**context, "override_form": form, "override_failed": True}, status=422)
    data = form.cleaned_data
    try:
        result = entry_override(
            actor=actor,
            entrance=where[0].code,
            lane=where[1].code,
            reason=data["reason"],
            people=data["people"],
            nonce=data["nonce"],
            scanned_at=timezone.now(),
            code=data["code"],
        )
    except DomainError as exc:
        failed = {"override_form": form, "override_failed": True, "error": exc.message}
        return _zone(request, {**context, **failed}, status=exc.status)
    return _zone(request, {**context, "answer": reads.answer_for(result, code=data["code"])})
