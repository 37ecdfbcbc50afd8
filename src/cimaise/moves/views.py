"""Staff pages of custody: works and their chain of custody, what is on a place (now or at a
moment), the anomalies inbox with its resolve form. Thin: authorize, read, shape, render."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from cimaise.collection.access import access_work
from cimaise.collection.models import Work
from cimaise.collection.selectors import work_search
from cimaise.core.access import access_place, own_institution, require_permission
from cimaise.core.actors import Actor
from cimaise.core.auth import page_actor
from cimaise.core.errors import Conflict, InvalidInput, NotFound
from cimaise.core.models import Institution, Place
from cimaise.core.selectors import place_ancestors, place_children
from cimaise.moves import selectors, services
from cimaise.moves.access import access_anomaly
from cimaise.moves.display import AnomalyRow, Ref, anomaly_row, auto_id, ref, timeline_entry
from cimaise.moves.forms import AnomalyFilterForm, PlaceAtForm, ResolveForm, WorkSearchForm
from cimaise.moves.models import Anomaly, CustodyEvent, ObjectState, Presence

PAGE_SIZE = 50
VIEW_CUSTODY = "moves.view_custodyevent"


def _page(
    items: QuerySet[Any], request: HttpRequest, param: str = "page", size: int = PAGE_SIZE
) -> Page[Any]:
    return Paginator(items, size).get_page(request.GET.get(param))


def anomaly_rows(actor: Actor, anomalies: Iterable[Anomaly], *, next_url: str) -> list[AnomalyRow]:
    """Rows for a page of anomalies, each with the event that raised it (one query)."""
    anomalies = list(anomalies)
    events = _events_by_id(own_institution(actor), [a.event_id for a in anomalies])
    return [anomaly_row(actor, a, next_url=next_url, event=events.get(a.event_id)) for a in anomalies]


# --- private reads, candidates for moves.selectors (see the report) ----------------------------


def _open_anomalies_about(institution: Institution, uri: str) -> QuerySet[Anomaly]:
    return selectors.anomalies_list(institution, open_only=True).filter(uri=uri)


def _events_by_id(institution: Institution, event_ids: list[str]) -> dict[str, CustodyEvent]:
    if not event_ids:
        return {}
    events = selectors.events_query(institution, selectors.EventQuery()).filter(
        event_id__in=sorted(set(event_ids)), is_declaration=False
    )
    return {event.event_id: event for event in events}


def _work_titles(institution: Institution, refs: list[Ref]) -> dict[str, str]:
    """Titles of the works among these identifiers (our own works only), by inventory."""
    keys = [r.key for r in refs if r.kind == "work" and r.url]
    if not keys:
        return {}
    return dict(
        work_search(institution=institution).filter(inventory__in=keys).values_list("inventory", "title")
    )


def _works_found(actor: Actor, institution: Institution, form: WorkSearchForm) -> QuerySet[Work]:
    if not form.is_bound:
        return work_search(institution=institution)
    if not form.is_valid():
        return work_search(institution=institution).none()
    data = form.cleaned_data
    works = work_search(institution=institution, q=data["q"], department=data["department"])
    if data["status"]:
        works = works.filter(pk__in=selectors.work_ids_with_status(institution, data["status"]))
    if data["place"]:
        try:
            place = access_place(actor, data["place"])
        except NotFound:
            form.add_error("place", _("No place has this code."))
            return works.none()
        works = works.filter(pk__in=selectors.place_contents_now(institution, place).values("work_id"))
    return works


# --- pages ---------------------------------------------------------------------------------------


@login_required
def works(request: HttpRequest) -> HttpResponse:
    """Works search: inventory, title, department, custody status and current place."""
    actor = page_actor(request)
    institution = own_institution(actor)
    require_permission(actor, VIEW_CUSTODY)
    require_permission(actor, "collection.view_work")
    form = WorkSearchForm(request.GET or None)
    page = _page(_works_found(actor, institution, form), request)
    states = selectors.work_states(institution, [work.pk for work in page])
    rows = [(work, states.get(work.pk)) for work in page]
    context = {"form": form, "page": page, "rows": rows}
    return render(request, "moves/works.html", context, status=400 if form.errors else 200)


@login_required
def work_detail(request: HttpRequest, inventory: str) -> HttpResponse:
    """A work: its record, where it is, and its chain of custody in event time."""
    actor = page_actor(request)
    work = access_work(actor, inventory)
    require_permission(actor, VIEW_CUSTODY)
    institution = work.institution
    state = selectors.object_state(institution, work.uri)
    chain = selectors.custody_chain(institution, work.uri)
    anomalies = _open_anomalies_about(institution, work.uri) if actor.can("moves.view_anomaly") else []
    here = request.get_full_path()
    context = {
        "work": work,
        "state": state,
        "refs": _state_refs(state, institution),
        "timeline": [timeline_entry(entry, institution) for entry in chain],
        "anomaly_rows": anomaly_rows(actor, anomalies, next_url=here),
    }
    return render(request, "moves/work.html", context)


def _state_refs(state: ObjectState | None, institution: Institution) -> dict[str, Ref | None]:
    if state is None:
        return {}
    return {
        name: ref(uri, institution) if uri else None
        for name, uri in (("container", state.container), ("crate", state.crate), ("convoy", state.convoy))
    }


@dataclass(frozen=True)
class ContentRow:
    """An object on a place: now (from its state) or at a moment (from its presence)."""

    ref: Ref
    title: str
    place: Place | None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    state: ObjectState | None = None


def _rows_now(page: Page[ObjectState], institution: Institution) -> list[ContentRow]:
    return [
        ContentRow(ref(s.uri, institution), s.work.title if s.work else "", s.place, state=s) for s in page
    ]


def _rows_then(page: Page[Presence], institution: Institution) -> list[ContentRow]:
    refs = [ref(p.uri, institution) for p in page]
    titles = _work_titles(institution, refs)
    return [
        ContentRow(r, titles.get(r.key, "") if r.kind == "work" else "", p.place, p.since, p.until)
        for r, p in zip(refs, page, strict=True)
    ]


@login_required
def place_detail(request: HttpRequest, code: str) -> HttpResponse:
    """What is on a place and below it now, and what was there at a chosen moment."""
    actor = page_actor(request)
    place = access_place(actor, code)
    require_permission(actor, VIEW_CUSTODY)
    institution = place.institution
    form = PlaceAtForm(request.GET or None)
    at = form.moment()
    now = _page(selectors.place_contents_now(institution, place), request, size=100)
    then = _page(selectors.place_contents_at(institution, place, at), request, "at_page", 100) if at else None
    context = {
        "place": place,
        "ancestors": place_ancestors(place),
        "children": place_children(institution=institution, parent=place),
        "form": form,
        "at": at,
        "now": now,
        "now_rows": _rows_now(now, institution),
        "then": then,
        "then_rows": _rows_then(then, institution) if then is not None else [],
    }
    return render(request, "moves/place.html", context, status=400 if form.errors else 200)


@login_required
def anomaly_list(request: HttpRequest) -> HttpResponse:
    """The anomalies inbox: open ones first of all, filtered by kind; resolve in place."""
    actor = page_actor(request)
    institution = own_institution(actor)
    require_permission(actor, "moves.view_anomaly")
    form = AnomalyFilterForm(request.GET or None)
    open_only, kind = form.filters()
    page = _page(selectors.anomalies_list(institution, open_only=open_only, kind=kind), request)
    rows = anomaly_rows(actor, page, next_url=request.get_full_path())
    context = {"form": form, "page": page, "rows": rows}
    return render(request, "moves/anomalies.html", context, status=400 if form.errors else 200)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _safe_next(request: HttpRequest, next_url: str) -> str:
    allowed = url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return next_url if next_url and allowed else reverse("custody:anomalies")


@login_required
def anomaly_resolve(request: HttpRequest, anomaly_id: int) -> HttpResponse:
    """POST: resolve with a comment. htmx gets the row back; a plain form post is redirected.
    GET (or an error without htmx): the anomaly on its own page, with the form."""
    actor = page_actor(request)
    anomaly = access_anomaly(actor, anomaly_id)
    if request.method != "POST":
        return _resolve_page(request, actor, anomaly, next_url="")
    form = ResolveForm(request.POST, auto_id=auto_id(anomaly))
    next_url = request.POST.get("next", "")[:500]
    if not form.is_valid():
        return _resolve_page(request, actor, anomaly, next_url=next_url, form=form, status=422)
    try:
        resolved = services.anomaly_resolve(
            actor=actor, anomaly_id=anomaly.pk, comment=form.cleaned_data["comment"]
        )
    except (InvalidInput, Conflict) as exc:
        now = access_anomaly(actor, anomaly_id)  # as it is now: resolved by someone else, maybe
        error = _resolve_error(exc)
        return _resolve_page(
            request, actor, now, next_url=next_url, form=form, error=error, status=exc.status
        )
    if _is_htmx(request):
        return _resolve_page(request, actor, resolved, next_url=next_url)
    messages.success(request, _("Anomaly resolved."))
    return redirect(_safe_next(request, next_url))


def _resolve_error(exc: InvalidInput | Conflict) -> str:
    if isinstance(exc, Conflict):
        return _("This anomaly has already been resolved.")
    return _("Say how the anomaly was resolved.")


def _resolve_page(
    request: HttpRequest,
    actor: Actor,
    anomaly: Anomaly,
    *,
    next_url: str,
    form: ResolveForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The anomaly's row: alone for htmx, else on a page of its own (errors next to the form)."""
    event = _events_by_id(own_institution(actor), [anomaly.event_id]).get(anomaly.event_id)
    row = anomaly_row(actor, anomaly, next_url=next_url, form=form, event=event)
    row.errors += [error] if error else []
    template = "moves/_anomaly_row.html" if _is_htmx(request) else "moves/anomaly.html"
    return render(request, template, {"row": row, "rows": [row]}, status=status)
