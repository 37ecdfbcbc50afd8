"""The transport climate and route rules (DESIGN §7), as pure functions of a convoy's readings.

:func:`detect` replays readings in reading time (whatever order they arrived in) and returns the
excursions: maximal runs of out-of-bounds readings of one kind. An excursion starts at its first
out-of-bounds reading and ends at the first reading back in bounds (``end`` None: still out), so
many readings out of bounds make one excursion, and one excursion makes one incident.

- temperature outside the set point (18–20 °C) by more than the margin (2 °C);
- relative humidity outside 50–55 % by more than 5 %;
- a shock (peak g over the tracker's sampling interval) above the most fragile crate's threshold;
- a door open away from an expected stop;
- a stop (speed under ``stopped_below_kmh``) longer than ``stop_minutes`` away from expected stops;
- a position farther than ``corridor_km`` from the planned route.

An expected stop is a planned stop (within ``planned_stop_radius_m`` of it, inside its time window
when it has one) or the origin or destination site (within ``geofence_m``), where trucks load and
unload. The first position within ``geofence_m`` of the destination is the arrival.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from cimaise.moves.telemetry.geo import LatLon, Route, distance_km
from cimaise.moves.telemetry.readings import Reading

TEMPERATURE = "temperature"
HUMIDITY = "humidity"
SHOCK = "shock"
DOOR = "door"
UNPLANNED_STOP = "unplanned_stop"
ROUTE_DEVIATION = "route_deviation"
#: The incident kinds these rules raise (values of ``Incident.Kind``).
KINDS = (TEMPERATURE, HUMIDITY, SHOCK, DOOR, UNPLANNED_STOP, ROUTE_DEVIATION)
#: A door reading takes the position of the truck nearest in time, if one is this close.
POSITION_GAP = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Limits:
    """The thresholds of the rules (settings, and the convoy's crates for the shock)."""

    temperature: tuple[float, float] = (18.0, 20.0)
    temperature_margin: float = 2.0
    humidity: tuple[float, float] = (50.0, 55.0)
    humidity_margin: float = 5.0
    shock_g: float = 3.0
    stop_minutes: float = 20.0
    stopped_below_kmh: float = 3.0
    corridor_km: float = 5.0
    geofence_m: float = 500.0
    planned_stop_radius_m: float = 500.0


@dataclass(frozen=True)
class PlannedStop:
    point: LatLon
    start: dt.datetime | None = None
    end: dt.datetime | None = None

    def covers(self, time: dt.datetime) -> bool:
        return (self.start is None or self.start <= time) and (self.end is None or time <= self.end)


@dataclass(frozen=True)
class Plan:
    """What the convoy planned: route, stops, and where it leaves from and goes to."""

    route: Route = field(default_factory=lambda: Route([]))
    stops: tuple[PlannedStop, ...] = ()
    origin: LatLon | None = None
    destination: LatLon | None = None

    def nearest_stop_m(self, point: LatLon) -> float | None:
        """Distance to the nearest planned stop, whatever its time window."""
        return min((distance_km(point, stop.point) * 1000 for stop in self.stops), default=None)

    def expected_stop(self, point: LatLon, time: dt.datetime, limits: Limits) -> bool:
        """At a planned stop during its window, or at the origin or the destination."""
        for stop in self.stops:
            if stop.covers(time) and distance_km(point, stop.point) * 1000 <= limits.planned_stop_radius_m:
                return True
        terminals = [p for p in (self.origin, self.destination) if p is not None]
        return any(distance_km(point, p) * 1000 <= limits.geofence_m for p in terminals)


@dataclass
class Excursion:
    kind: str
    start: dt.datetime
    end: dt.datetime | None
    evidence: dict[str, Any]


@dataclass(frozen=True)
class Arrival:
    """The first position inside the destination's geofence."""

    reading: Reading
    distance_m: float


@dataclass
class Findings:
    excursions: list[Excursion]
    arrival: Arrival | None


def detect(readings: Sequence[Reading], plan: Plan, limits: Limits) -> Findings:
    """Every excursion and the arrival shown by these readings, replayed in reading time."""
    by_kind: dict[str, list[Reading]] = defaultdict(list)
    for reading in sorted(readings, key=lambda r: (r.time, r.id)):
        by_kind[reading.kind].append(reading)
    positions = by_kind["position"]
    excursions = [
        *_climate(TEMPERATURE, by_kind["temperature"], limits.temperature, limits.temperature_margin),
        *_climate(HUMIDITY, by_kind["humidity"], limits.humidity, limits.humidity_margin),
        *_shocks(by_kind["shock"], limits),
        *_doors(by_kind["door"], positions, plan, limits),
        *_stops(positions, plan, limits),
        *_deviations(positions, plan, limits),
    ]
    return Findings(excursions=excursions, arrival=_arrival(positions, plan, limits))


def _runs[T](items: Sequence[T], out: Callable[[T], bool]) -> Iterator[tuple[list[T], T | None]]:
    """Each maximal run of consecutive items out of bounds, with the item that ended it."""
    run: list[T] = []
    for item in items:
        if out(item):
            run.append(item)
        elif run:
            yield run, item
            run = []
    if run:
        yield run, None


def _excursion(kind: str, run: list[Reading], back: Reading | None, **evidence: Any) -> Excursion:
    evidence |= {
        "readings": len(run),
        "first_reading": run[0].id,
        "last_out_at": run[-1].time.isoformat(),
        "back_in_bounds_reading": back.id if back else None,
    }
    return Excursion(kind=kind, start=run[0].time, end=back.time if back else None, evidence=evidence)


def _climate(
    kind: str, readings: list[Reading], set_point: tuple[float, float], margin: float
) -> Iterator[Excursion]:
    low, high = set_point[0] - margin, set_point[1] + margin
    for run, back in _runs(readings, lambda r: not low <= (r.value or 0.0) <= high):
        values = [r.value or 0.0 for r in run]
        yield _excursion(
            kind, run, back, bounds=[low, high], set_point=list(set_point), min=min(values), max=max(values)
        )


def _shocks(readings: list[Reading], limits: Limits) -> Iterator[Excursion]:
    for run, back in _runs(readings, lambda r: (r.value or 0.0) > limits.shock_g):
        peak = max(r.value or 0.0 for r in run)
        yield _excursion(SHOCK, run, back, threshold_g=limits.shock_g, peak_g=peak)


def _nearest_position(
    positions: list[Reading], times: list[dt.datetime], time: dt.datetime
) -> Reading | None:
    at = bisect.bisect_left(times, time)
    near = [positions[i] for i in (at - 1, at) if 0 <= i < len(positions)]
    best = min(near, key=lambda p: abs(p.time - time), default=None)
    return best if best is not None and abs(best.time - time) <= POSITION_GAP else None


def _doors(
    readings: list[Reading], positions: list[Reading], plan: Plan, limits: Limits
) -> Iterator[Excursion]:
    times = [p.time for p in positions]
    where = {r.id: _nearest_position(positions, times, r.time) for r in readings}

    def away(reading: Reading) -> bool:
        position = where[reading.id]
        return position is None or not plan.expected_stop(position.point, reading.time, limits)

    for run, back in _runs(readings, lambda r: bool(r.door_open) and away(r)):
        position = where[run[0].id]
        point = list(position.point) if position else None
        stop_m = plan.nearest_stop_m(position.point) if position else None
        yield _excursion(DOOR, run, back, position=point, nearest_planned_stop_m=_round(stop_m))


def _speeds(positions: list[Reading]) -> list[float | None]:
    """Reported speeds; a missing one is derived from the previous position."""
    speeds: list[float | None] = []
    for i, position in enumerate(positions):
        speed = position.speed
        if speed is None and i > 0:
            hours = (position.time - positions[i - 1].time).total_seconds() / 3600
            km = distance_km(positions[i - 1].point, position.point)
            speed = km / hours if hours > 0 else None
        speeds.append(speed)
    return speeds


def _stops(positions: list[Reading], plan: Plan, limits: Limits) -> Iterator[Excursion]:
    paired = list(zip(positions, _speeds(positions), strict=True))
    for run, back in _runs(paired, lambda p: p[1] is not None and p[1] < limits.stopped_below_kmh):
        first = run[0][0]
        last = back[0] if back else run[-1][0]
        minutes = (last.time - first.time).total_seconds() / 60
        if minutes < limits.stop_minutes or plan.expected_stop(first.point, first.time, limits):
            continue
        yield _excursion(
            UNPLANNED_STOP,
            [p for p, _speed in run],
            back[0] if back else None,
            position=list(first.point),
            minutes=round(minutes, 1),
            threshold_minutes=limits.stop_minutes,
            nearest_planned_stop_m=_round(plan.nearest_stop_m(first.point)),
        )


def _deviations(positions: list[Reading], plan: Plan, limits: Limits) -> Iterator[Excursion]:
    if not plan.route:
        return
    measured = [(p, plan.route.distance_km(p.point)) for p in positions]
    for run, back in _runs(measured, lambda m: m[1] > limits.corridor_km):
        farthest, km = max(run, key=lambda m: m[1])
        yield _excursion(
            ROUTE_DEVIATION,
            [p for p, _km in run],
            back[0] if back else None,
            corridor_km=limits.corridor_km,
            max_km=round(km, 2),
            farthest=list(farthest.point),
        )


def _arrival(positions: list[Reading], plan: Plan, limits: Limits) -> Arrival | None:
    if plan.destination is None:
        return None
    for position in positions:
        metres = distance_km(position.point, plan.destination) * 1000
        if metres <= limits.geofence_m:
            return Arrival(reading=position, distance_m=round(metres, 1))
    return None


def _round(metres: float | None) -> float | None:
    return None if metres is None else round(metres, 1)
