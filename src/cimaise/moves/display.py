"""How custody looks to people: labels of the CBV values, sensor readings with units, timeline
entries, readable anomaly evidence. Shared by the staff pages and their templates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.formats import localize
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cimaise.core.access import own_institution
from cimaise.core.actors import Actor
from cimaise.core.models import Institution, Place
from cimaise.moves import selectors
from cimaise.moves.forms import ResolveForm
from cimaise.moves.models import Anomaly, CustodyEvent, Status
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


def auto_id(anomaly: Anomaly) -> str:
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
        form = form or ResolveForm(initial={"next": next_url}, auto_id=auto_id(anomaly))
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
