"""Reading a tracker's batch: each reading is checked on its own, and an impossible one (a humidity
of 140 %, a jump of 500 km in a minute, a time far in the future) is rejected with its index and a
reason while the others are kept. Pure: no database.

A reading is a JSON object with a client-made ``id`` (unique per device), an ISO 8601 ``time``
with its offset, and a ``type``:

- ``position``: ``lat``, ``lon`` (degrees, WGS 84), optional ``speed`` (km/h);
- ``temperature`` (°C), ``humidity`` (% RH), ``shock`` (peak acceleration in g): ``value``;
- ``door``: ``value`` ``"open"`` or ``"closed"``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cimaise.moves.epcis import parse_time
from cimaise.moves.telemetry.geo import distance_km

KINDS = ("position", "temperature", "humidity", "shock", "door")
MAX_ID_LENGTH = 100
#: A GPS fix may wander this far between two readings taken at the same moment.
JITTER_KM = 0.2


@dataclass(frozen=True, slots=True)
class Reading:
    """One accepted reading; ``value`` is °C, % RH or g depending on ``kind``."""

    id: str
    kind: str
    time: dt.datetime
    value: float | None = None
    lat: float | None = None
    lon: float | None = None
    speed: float | None = None
    door_open: bool | None = None

    @property
    def point(self) -> tuple[float, float]:
        assert self.lat is not None and self.lon is not None  # noqa: S101  (positions only)
        return (self.lat, self.lon)


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why the reading at ``index`` of the batch was not kept; ``reason`` is a stable code."""

    index: int
    id: str | None
    reason: str
    field: str
    message: str


@dataclass(frozen=True)
class Bounds:
    """What a tracker can physically report; beyond, the reading is impossible."""

    temperature: tuple[float, float] = (-40.0, 60.0)
    humidity: tuple[float, float] = (0.0, 100.0)
    max_speed_kmh: float = 200.0
    latest: dt.datetime | None = None  # now plus the allowed clock skew


class Bad(Exception):
    def __init__(self, reason: str, field: str, message: str) -> None:
        super().__init__(message)
        self.reason, self.field, self.message = reason, field, message


def reading_id(raw: Any) -> str | None:
    """The client id of a raw reading, when it has a usable one."""
    value = raw.get("id") if isinstance(raw, Mapping) else None
    if isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH:
        return value
    return None


def parse_reading(raw: Any, index: int, bounds: Bounds) -> Reading | Rejection:
    """The reading, or why it is rejected (everything but the jump between positions)."""
    rid = reading_id(raw)
    try:
        if not isinstance(raw, Mapping):
            raise Bad("not_an_object", "reading", "a reading is a JSON object")
        if rid is None:
            raise Bad("bad_id", "id", f"a reading needs an id, a text of 1 to {MAX_ID_LENGTH} characters")
        kind = raw.get("type")
        if kind not in KINDS:
            raise Bad("bad_type", "type", f"type must be one of {', '.join(KINDS)}")
        time = _time(raw.get("time"), bounds)
        return _READERS[str(kind)](rid, time, raw, bounds)
    except Bad as bad:
        return Rejection(index=index, id=rid, reason=bad.reason, field=bad.field, message=bad.message)


def _time(value: Any, bounds: Bounds) -> dt.datetime:
    moment = parse_time(value)
    if moment is None:
        raise Bad("bad_time", "time", "time must be an ISO 8601 date-time with a time zone")
    if bounds.latest is not None and moment > bounds.latest:
        raise Bad("future_time", "time", f"{value} is in the future beyond the clock-skew tolerance")
    return moment


def _number(raw: Mapping[str, Any], name: str, *, required: bool = True) -> float | None:
    value = raw.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Bad("bad_value", name, f"{name} must be a number")
    return float(value)


def _within(value: float, limits: tuple[float, float], reason: str, what: str, unit: str) -> float:
    low, high = limits
    if not low <= value <= high:
        raise Bad(
            reason, "value", f"{what} of {value:g} {unit} is impossible (not {low:g} to {high:g} {unit})"
        )
    return value


def _position(rid: str, time: dt.datetime, raw: Mapping[str, Any], bounds: Bounds) -> Reading:
    lat, lon = _number(raw, "lat"), _number(raw, "lon")
    assert lat is not None and lon is not None  # noqa: S101  (required numbers)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise Bad("bad_position", "lat" if abs(lat) > 90 else "lon", f"({lat:g}, {lon:g}) is not on Earth")
    speed = _number(raw, "speed", required=False)
    if speed is not None and not 0 <= speed <= bounds.max_speed_kmh:
        raise Bad("bad_speed", "speed", f"a speed of {speed:g} km/h is impossible for a truck")
    return Reading(id=rid, kind="position", time=time, lat=lat, lon=lon, speed=speed)


def _temperature(rid: str, time: dt.datetime, raw: Mapping[str, Any], bounds: Bounds) -> Reading:
    value = _within(_value(raw), bounds.temperature, "temperature_out_of_range", "a temperature", "°C")
    return Reading(id=rid, kind="temperature", time=time, value=value)


def _humidity(rid: str, time: dt.datetime, raw: Mapping[str, Any], bounds: Bounds) -> Reading:
    value = _within(_value(raw), bounds.humidity, "humidity_out_of_range", "a relative humidity", "%")
    return Reading(id=rid, kind="humidity", time=time, value=value)


def _shock(rid: str, time: dt.datetime, raw: Mapping[str, Any], bounds: Bounds) -> Reading:
    value = _value(raw)
    if value < 0:
        raise Bad("shock_out_of_range", "value", f"a shock of {value:g} g is impossible (a peak is ≥ 0)")
    return Reading(id=rid, kind="shock", time=time, value=value)


def _door(rid: str, time: dt.datetime, raw: Mapping[str, Any], bounds: Bounds) -> Reading:
    value = raw.get("value")
    if value not in ("open", "closed"):
        raise Bad("bad_value", "value", 'a door reading is "open" or "closed"')
    return Reading(id=rid, kind="door", time=time, door_open=value == "open")


def _value(raw: Mapping[str, Any]) -> float:
    value = _number(raw, "value")
    assert value is not None  # noqa: S101  (required)
    return value


_READERS: dict[str, Callable[[str, dt.datetime, Mapping[str, Any], Bounds], Reading]] = {
    "position": _position,
    "temperature": _temperature,
    "humidity": _humidity,
    "shock": _shock,
    "door": _door,
}


class Track:
    """The accepted positions of a convoy around new ones, in time order, to refuse a position
    that no truck could have reached from its neighbours (before and after it in time)."""

    def __init__(self, known: Sequence[Reading], max_speed_kmh: float) -> None:
        ordered = sorted(known, key=lambda r: r.time)
        self.times = [r.time for r in ordered]
        self.points = [r.point for r in ordered]
        self.max_speed_kmh = max_speed_kmh

    def check(self, reading: Reading, index: int) -> Rejection | None:
        """None if the position fits between its neighbours (and it joins the track), else why not."""
        at = bisect.bisect_right(self.times, reading.time)
        for neighbour in (at - 1, at):
            if 0 <= neighbour < len(self.times):
                rejection = self._jump(reading, neighbour, index)
                if rejection is not None:
                    return rejection
        self.times.insert(at, reading.time)
        self.points.insert(at, reading.point)
        return None

    def _jump(self, reading: Reading, neighbour: int, index: int) -> Rejection | None:
        km = distance_km(reading.point, self.points[neighbour])
        seconds = abs((reading.time - self.times[neighbour]).total_seconds())
        if km <= self.max_speed_kmh * seconds / 3600 + JITTER_KM:
            return None
        message = (
            f"{km:.1f} km in {seconds:g} s from the position at {self.times[neighbour].isoformat()}"
            f" (faster than {self.max_speed_kmh:g} km/h)"
        )
        return Rejection(index=index, id=reading.id, reason="impossible_jump", field="lat", message=message)
