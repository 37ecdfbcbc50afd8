"""Staff pages of custody: works and their chain of custody, what is on a place (now or at a
moment), the anomalies inbox with its resolve form. Thin: authorize, read, shape, render."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.formats import localize
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cimaise.collection.access import access_work
from cimaise.collection.models import Work
from cimaise.collection.selectors import work_search
from cimaise.core.access import access_place, own_institution, require_actor, require_permission
from cimaise.core.actors import Actor, actor_for
from cimaise.core.errors import Conflict, InvalidInput, NotFound
from cimaise.core.models import Institution, Place
from cimaise.core.selectors import place_ancestors, place_children
from cimaise.moves import selectors, services
from cimaise.moves.access import access_anomaly
from cimaise.moves.forms import AnomalyFilterForm, PlaceAtForm, ResolveForm, WorkSearchForm
from cimaise.moves.models import Anomaly, CustodyEvent, ObjectState, Presence, Status
from cimaise.moves.uris import IdentifierError, parse_identifier
from cimaise.moves.vocab import ACCLIMATISING

PAGE_SIZE = 50
VIEW_CUSTODY = "moves.view_custodyevent"

# Labels of the CBV values custody uses (DESIGN.md §7); any other value is shown as written.
BIZ_STEPS: dict[str, Promise] = {
    "inspecting": gettext_lazy("Condition check"),
    "packing": gettext_lazy("Packed into a crate"),
    "loading": gettext_lazy("Loaded onto a truck"),
    "departing": gettext_lazy("Departure"),
    "transporting": gettext_lazy("Transport"),
    "shipping": gettext_lazy("Shipping"),
    "arriving": gettext_lazy("Arrival"),
    "unloading": gettext_lazy("Unloaded from a truck"),
    "receiving": gettext_lazy("Reception"),
    "holding": gettext_lazy("Holding"),
    ACCLIMATISING: gettext_lazy("Acclimatisation"),
    "unpacking": gettext_lazy("Unpacked from a crate"),
    "storing": gettext_lazy("Shelving"),
    "stocking": gettext_lazy("Shelving"),
    "cycle_counting": gettext_lazy("Stock-take"),
    "stock_taking": gettext_lazy("Stock-take"),
}
DISPOSITIONS: dict[str, Promise] = {
    "in_transit": gettext_lazy("In transit"),
    "in_progress": gettext_lazy("In progress"),
    "container_closed": gettext_lazy("Container closed"),
    "container_open": gettext_lazy("Container open"),
    "conformant": gettext_lazy("Conformant"),
    "non_conformant": gettext_lazy("Not conformant"),
    "damaged": gettext_lazy("Damaged"),
    "active": gettext_lazy("Active"),
    "unknown": gettext_lazy("Unknown"),
}
KINDS: dict[str, Promise] = {
    "work": gettext_lazy("Work"),
    "crate": gettext_lazy("Crate"),
    "vehicle": gettext_lazy("Truck"),
    "place": gettext_lazy("Place"),
    "convoy": gettext_lazy("Convoy"),
    "external": gettext_lazy("Other identifier"),
}
SENSORS: dict[str, Promise] = {
    "Temperature": gettext_lazy("Temperature"),
    "RelativeHumidity": gettext_lazy("Relative humidity"),
    "AbsoluteHumidity": gettext_lazy("Absolute humidity"),
    "Acceleration": gettext_lazy("Shock (acceleration)"),
    "Speed": gettext_lazy("Speed"),
    "Illuminance": gettext_lazy("Light"),
}
UNITS = {
    "CEL": "°C",
    "FAH": "°F",
    "KEL": "K",
    "P1": "%",
    "A93": "g/m³",
    "MSK": "m/s²",
    "K40": "g",
    "KMH": "km/h",
    "LUX": "lx",
}
_SENSOR_PREFIXES = ("gs1:", "https://gs1.org/voc/", "http://gs1.org/voc/")
EVIDENCE: dict[str, Promise] = {
    "bizStep": gettext_lazy("Step"),
    "container": gettext_lazy("Container"),
    "from_place": gettext_lazy("First seen at"),
    "since": gettext_lazy("First seen on"),
    "to_place": gettext_lazy("Then seen at"),
    "km": gettext_lazy("Distance (km)"),
    "hours": gettext_lazy("Hours between"),
    "status": gettext_lazy("Status then"),
    "uri": gettext_lazy("Identifier"),
    "place": gettext_lazy("Place"),
    "load_kg": gettext_lazy("Load (kg)"),
    "load_limit_kg": gettext_lazy("Load limit (kg)"),
    "volume_litres": gettext_lazy("Volume (litres)"),
    "volume_limit_litres": gettext_lazy("Volume limit (litres)"),
}


def _actor(request: HttpRequest) -> Actor:
    return require_actor(getattr(request, "actor", None) or actor_for(request.user))


def _page(
    items: QuerySet[Any], request: HttpRequest, param: str = "page", size: int = PAGE_SIZE
) -> Page[Any]:
    return Paginator(items, size).get_page(request.GET.get(param))


# --- presentation: identifiers, places, steps, sensor readings, evidence ---------------------


@dataclass(frozen=True)
class Ref:
    """An identifier as people read it: its kind, its key (inventory, barcode, code, plate), and
    a link when it is a work or a place of the viewer's institution."""

    uri: str
    kind: str
    key: str
    url: str = ""

    @property
    def kind_label(self) -> str:
        return str(KINDS.get(self.kind, self.kind))


def ref(uri: str, institution: Institution) -> Ref:
    try:
        identifier = parse_identifier(uri)
    except IdentifierError:
        return Ref(uri, "external", uri)
    if identifier.kind == "external":
        return Ref(uri, "external", uri)
    url = ""
    if identifier.institution == institution.code and identifier.kind in ("work", "place"):
        url = _url("custody:work" if identifier.kind == "work" else "custody:place", identifier.key)
    return Ref(uri, identifier.kind, identifier.key, url)


def _url(name: str, key: str) -> str:
    """The page of a work or place, or "" for a key no page can have (an unknown identifier)."""
    try:
        return reverse(name, args=[key])
    except NoReverseMatch:
        return ""


def step_label(step: str) -> str:
    return str(BIZ_STEPS.get(step, step))


def disposition_label(disposition: str) -> str:
    return str(DISPOSITIONS.get(disposition, disposition.replace("_", " ")))


def _number(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    try:
        return str(localize(Decimal(str(value))))
    except InvalidOperation:
        return str(value)


@dataclass(frozen=True)
class Reading:
    label: str
    value: str
    time: dt.datetime | None = None
    exception: str = ""


def _reading(report: dict[str, Any], default_time: dt.datetime | None) -> Reading:
    kind = str(report.get("type", ""))
    for prefix in _SENSOR_PREFIXES:
        kind = kind.removeprefix(prefix)
    unit = UNITS.get(str(report.get("uom", "")), str(report.get("uom", "")))
    if "value" in report:
        value = _number(report["value"])
    elif "minValue" in report or "maxValue" in report:
        value = f"{_number(report.get('minValue'))} – {_number(report.get('maxValue'))}"
    else:
        value = _number(report.get("meanValue", report.get("stringValue", report.get("booleanValue"))))
    exception = str(report.get("exception", "")).removeprefix("gs1:")
    return Reading(
        label=str(SENSORS.get(kind, kind or _("Reading"))),
        value=f"{value} {unit}".strip(),
        time=_parse_time(report.get("time")) or default_time,
        exception=exception,
    )


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def sensor_readings(body: dict[str, Any]) -> list[Reading]:
    """Temperature, humidity, shock… from an event's sensorElementList, with their units."""
    readings = []
    for element in body.get("sensorElementList", []) or []:
        if not isinstance(element, dict):
            continue
        metadata = element.get("sensorMetadata") or {}
        when = _parse_time(metadata.get("time")) if isinstance(metadata, dict) else None
        readings += [_reading(r, when) for r in element.get("sensorReport", []) if isinstance(r, dict)]
    return readings


@dataclass(frozen=True)
class Where:
    """A readPoint or bizLocation: one of our places, or the identifier as sent."""

    place: Place | None
    ref: Ref | None


def _where(uri: str, candidates: list[Place | None], institution: Institution) -> Where | None:
    if not uri:
        return None
    shown = ref(uri, institution)
    for place in candidates:
        if place is not None and shown.kind == "place" and shown.url and place.code == shown.key:
            return Where(place, shown)
    return Where(None, shown)


@dataclass(frozen=True)
class TimelineEntry:
    event: CustodyEvent
    step: str
    disposition: str
    read_point: Where | None
    location: Where | None
    convoy: Ref | None
    via: Ref | None
    readings: list[Reading]


def timeline_entry(entry: selectors.CustodyEntry, institution: Institution) -> TimelineEntry:
    event = entry.event
    places = [event.place, event.seen_place]
    location = _where(event.biz_location, places, institution)
    read_point = _where(event.read_point, places, institution)
    if read_point is not None and location is not None and read_point.ref == location.ref:
        read_point = None
    return TimelineEntry(
        event=event,
        step=step_label(event.biz_step),
        disposition=disposition_label(event.disposition) if event.disposition else "",
        read_point=read_point,
        location=location,
        convoy=ref(event.biz_transaction, institution) if event.biz_transaction else None,
        via=ref(entry.via, institution) if entry.via else None,
        readings=sensor_readings(event.body),
    )


@dataclass(frozen=True)
class EvidenceItem:
    label: str
    text: str = ""
    ref: Ref | None = None
    time: dt.datetime | None = None


def _evidence_item(key: str, value: Any, institution: Institution) -> EvidenceItem:
    label = str(EVIDENCE.get(key, key))
    if value is None or value == "":
        return EvidenceItem(label, "—")
    if key in ("container", "uri") and isinstance(value, str):
        return EvidenceItem(label, ref=ref(value, institution))
    if key in ("from_place", "to_place", "place") and isinstance(value, str):
        return EvidenceItem(label, ref=Ref(value, "place", value, _url("custody:place", value)))
    if key == "since":
        return EvidenceItem(label, str(value), time=_parse_time(value))
    if key == "bizStep":
        return EvidenceItem(label, step_label(str(value)))
    if key == "status":
        return EvidenceItem(label, str(Status(value).label) if value in Status.values else str(value))
    if isinstance(value, int | float | Decimal) or key in EVIDENCE:
        return EvidenceItem(label, _number(value))
    return EvidenceItem(label, str(value))


@dataclass
class AnomalyRow:
    """An anomaly as the inbox shows it; ``form`` is there when the viewer may resolve it."""

    anomaly: Anomaly
    subject: Ref
    step: str
    evidence: list[EvidenceItem]
    form: ResolveForm | None = None
    event: CustodyEvent | None = None
    errors: list[str] = field(default_factory=list)


def _auto_id(anomaly: Anomaly) -> str:
    return f"resolve-{anomaly.pk}-%s"


def _evidence_order(key: str) -> int:
    return list(EVIDENCE).index(key) if key in EVIDENCE else len(EVIDENCE)


def anomaly_row(
    actor: Actor,
    anomaly: Anomaly,
    *,
    next_url: str,
    form: ResolveForm | None = None,
    event: CustodyEvent | None = None,
) -> AnomalyRow:
    institution = own_institution(actor)
    evidence = anomaly.evidence if isinstance(anomaly.evidence, dict) else {}
    items = [
        _evidence_item(key, evidence[key], institution)
        for key in sorted(evidence, key=_evidence_order)
        if key not in ("eventID", "bizStep") and not (key == "uri" and evidence[key] == anomaly.uri)
    ]
    if anomaly.open and actor.can("moves.change_anomaly"):
        form = form or ResolveForm(initial={"next": next_url}, auto_id=_auto_id(anomaly))
    else:
        form = None
    return AnomalyRow(
        anomaly=anomaly,
        subject=ref(anomaly.uri, institution),
        step=step_label(str(evidence.get("bizStep", ""))),
        evidence=items,
        form=form,
        event=event,
    )


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
    actor = _actor(request)
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
    actor = _actor(request)
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
    actor = _actor(request)
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
    actor = _actor(request)
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
    actor = _actor(request)
    anomaly = access_anomaly(actor, anomaly_id)
    if request.method != "POST":
        return _resolve_page(request, actor, anomaly, next_url="")
    form = ResolveForm(request.POST, auto_id=_auto_id(anomaly))
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
