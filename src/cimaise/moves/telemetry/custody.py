"""Telemetry in the convoy's custody record (EPCIS 2.0).

Each batch becomes one ObjectEvent OBSERVE of the truck, bizStep ``sensor_reporting`` (a step that
changes no custody state), with the convoy as business transaction and the new readings in
``sensorElementList``: one element per reading time, one report per measurement, readings beyond
the transport rules' bounds flagged ``exception: ALARM_CONDITION``. The arrival inside the
destination's geofence is the ``arriving`` event of the truck at the destination site.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from cimaise.core.models import Place
from cimaise.moves.epcis import ParsedEvent, parse_payload
from cimaise.moves.models import Convoy
from cimaise.moves.telemetry.readings import Reading
from cimaise.moves.telemetry.rules import Arrival, Limits

#: Our measurement type for a door (the CBV has none); ``booleanValue`` true means open.
DOOR_SENSOR = "urn:cimaise:sensor:door"
WGS84 = "http://www.opengis.net/def/crs/EPSG/0/4326"
_ALARM = {"exception": "ALARM_CONDITION"}


def _angle(component: str, value: float | None) -> dict[str, Any]:
    report = {"type": "Angle", "component": component, "value": value, "uom": "DD"}
    return report | {"coordinateReferenceSystem": WGS84}


def _position(r: Reading, limits: Limits) -> list[dict[str, Any]]:
    reports = [_angle("latitude", r.lat), _angle("longitude", r.lon)]
    if r.speed is not None:
        reports.append({"type": "Speed", "value": r.speed, "uom": "KMH"})
    return reports


def _temperature(r: Reading, limits: Limits) -> list[dict[str, Any]]:
    low, high = (
        limits.temperature[0] - limits.temperature_margin,
        limits.temperature[1] + limits.temperature_margin,
    )
    alarm = _ALARM if not low <= (r.value or 0.0) <= high else {}
    return [{"type": "Temperature", "value": r.value, "uom": "CEL", **alarm}]


def _humidity(r: Reading, limits: Limits) -> list[dict[str, Any]]:
    low, high = limits.humidity[0] - limits.humidity_margin, limits.humidity[1] + limits.humidity_margin
    alarm = _ALARM if not low <= (r.value or 0.0) <= high else {}
    return [{"type": "RelativeHumidity", "value": r.value, "uom": "P1", **alarm}]


def _shock(r: Reading, limits: Limits) -> list[dict[str, Any]]:
    alarm = _ALARM if (r.value or 0.0) > limits.shock_g else {}
    return [{"type": "Acceleration", "value": r.value, "uom": "K40", **alarm}]


def _door(r: Reading, limits: Limits) -> list[dict[str, Any]]:
    return [{"type": DOOR_SENSOR, "booleanValue": bool(r.door_open)}]


_REPORTS: dict[str, Callable[[Reading, Limits], list[dict[str, Any]]]] = {
    "position": _position,
    "temperature": _temperature,
    "humidity": _humidity,
    "shock": _shock,
    "door": _door,
}


def sensor_elements(readings: list[Reading], limits: Limits) -> list[dict[str, Any]]:
    """``sensorElementList``: one element per reading time, in time order."""
    by_time: dict[dt.datetime, list[dict[str, Any]]] = defaultdict(list)
    for reading in sorted(readings, key=lambda r: (r.time, r.id)):
        by_time[reading.time] += _REPORTS[reading.kind](reading, limits)
    return [
        {"sensorMetadata": {"time": time.isoformat()}, "sensorReport": reports}
        for time, reports in by_time.items()
    ]


def _event(convoy: Convoy, step: str, when: dt.datetime, **fields: Any) -> dict[str, Any]:
    assert convoy.vehicle is not None  # noqa: S101  (a tracker's convoy has its vehicle)
    offset = when.strftime("%z")
    return {
        "type": "ObjectEvent",
        "action": "OBSERVE",
        "epcList": [convoy.vehicle.uri],
        "bizStep": step,
        "eventTime": when.isoformat(),
        "eventTimeZoneOffset": f"{offset[:3]}:{offset[3:]}" if offset else "+00:00",
        "bizTransactionList": [{"type": "bol", "bizTransaction": convoy.uri}],
        **fields,
    }


def sensor_event(convoy: Convoy, readings: list[Reading], limits: Limits, *, fact_id: int) -> dict[str, Any]:
    """The batch's readings as one ``sensor_reporting`` event of the truck, at its latest reading;
    its eventID derives from the batch's ``moves.telemetry.received`` fact (hashing a few hundred
    readings by the CBV algorithm would cost more than storing them)."""
    latest = max(r.time for r in readings)
    event_id = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{convoy.uri}#telemetry-{fact_id}')}"
    elements = sensor_elements(readings, limits)
    return _event(convoy, "sensor_reporting", latest, eventID=event_id, sensorElementList=elements)


def arrival_event_id(convoy: Convoy) -> str:
    """One geofence arrival per convoy: a resend or a race finds the same eventID stored."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{convoy.uri}#geofence-arriving')}"


def _destination_place(convoy: Convoy) -> Place | None:
    """The destination site's top place (as a convoy's manual arrival records it)."""
    if convoy.destination_id is None:
        return None
    places = Place.objects.filter(site_id=convoy.destination_id, parent__isnull=True)
    return places.select_related("institution").order_by("path").first()


def arrival_event(convoy: Convoy, arrival: Arrival) -> dict[str, Any]:
    place = _destination_place(convoy)
    where = {"bizLocation": {"id": place.uri}, "readPoint": {"id": place.uri}} if place else {}
    reading = arrival.reading
    position = {
        "sensorMetadata": {"time": reading.time.isoformat()},
        "sensorReport": _position(reading, Limits()),
    }
    return _event(
        convoy,
        "arriving",
        reading.time,
        eventID=arrival_event_id(convoy),
        sensorElementList=[position],
        **where,
    )


def parsed(events: list[dict[str, Any]], *, now: dt.datetime, skew: dt.timedelta) -> list[ParsedEvent]:
    """The events checked as any capture is (readings in the future were rejected already)."""
    return parse_payload(events, now=now, skew=skew)
