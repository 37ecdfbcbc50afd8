"""The pure parts of telemetry: checking readings one by one, and the transport rules."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cimaise.moves.models import Incident
from cimaise.moves.telemetry import rules
from cimaise.moves.telemetry.geo import Route, distance_km
from cimaise.moves.telemetry.readings import Bounds, Reading, Rejection, Track, parse_reading

T0 = dt.datetime(2020, 1, 6, 8, 0, tzinfo=dt.UTC)
PARIS, LIEVIN = (48.860611, 2.337644), (50.4186, 2.7817)
ROUTE = Route([PARIS, (49.3, 2.45), (49.9, 2.6), LIEVIN])
STOP = rules.PlannedStop(
    point=(49.6, 2.525), start=T0 + dt.timedelta(minutes=60), end=T0 + dt.timedelta(minutes=90)
)
PLAN = rules.Plan(route=ROUTE, stops=(STOP,), origin=PARIS, destination=LIEVIN)
LIMITS = rules.Limits()


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def scalar(kind: str, minutes: float, value: float, rid: str | None = None) -> Reading:
    return Reading(id=rid or f"{kind}-{minutes}", kind=kind, time=at(minutes), value=value)


def position(minutes: float, point: tuple[float, float], speed: float | None = 80.0) -> Reading:
    return Reading(
        id=f"p-{minutes}", kind="position", time=at(minutes), lat=point[0], lon=point[1], speed=speed
    )


def door(minutes: float, is_open: bool) -> Reading:
    return Reading(id=f"d-{minutes}", kind="door", time=at(minutes), door_open=is_open)


def along(fraction: float) -> tuple[float, float]:
    """A point on the straight line from Paris to Liévin (within a few km of the route)."""
    return (PARIS[0] + (LIEVIN[0] - PARIS[0]) * fraction, PARIS[1] + (LIEVIN[1] - PARIS[1]) * fraction)


def kinds(readings: list[Reading], plan: rules.Plan = PLAN, limits: rules.Limits = LIMITS) -> list[Any]:
    return [(e.kind, e.start, e.end) for e in rules.detect(readings, plan, limits).excursions]


def test_every_rule_kind_is_an_incident_kind() -> None:
    assert set(rules.KINDS) <= set(Incident.Kind.values)


def test_the_distance_from_paris_to_lievin_is_about_175_km() -> None:
    assert 170 < distance_km(PARIS, LIEVIN) < 180
    assert ROUTE.distance_km(PARIS) < 0.01
    assert 13 < ROUTE.distance_km((49.3, 2.65)) < 16  # about 0.2° of longitude east of a vertex


# Checking readings one by one


def _parse(raw: dict[str, Any]) -> Reading | Rejection:
    return parse_reading(raw, 3, Bounds(latest=at(60)))


def test_an_impossible_humidity_is_rejected_with_its_index_and_reason() -> None:
    rejected = _parse({"id": "h1", "time": at(0).isoformat(), "type": "humidity", "value": 140})
    assert isinstance(rejected, Rejection)
    assert (rejected.index, rejected.id, rejected.reason, rejected.field) == (
        3,
        "h1",
        "humidity_out_of_range",
        "value",
    )
    assert "140" in rejected.message


def test_each_impossible_reading_has_its_reason() -> None:
    t = at(0).isoformat()
    cases = {
        "temperature_out_of_range": {"id": "a", "time": t, "type": "temperature", "value": 75},
        "humidity_out_of_range": {"id": "a", "time": t, "type": "humidity", "value": -1},
        "shock_out_of_range": {"id": "a", "time": t, "type": "shock", "value": -0.5},
        "future_time": {"id": "a", "time": at(70).isoformat(), "type": "shock", "value": 1},
        "bad_time": {"id": "a", "time": "2020-01-06T08:00:00", "type": "shock", "value": 1},
        "bad_id": {"time": t, "type": "shock", "value": 1},
        "bad_type": {"id": "a", "time": t, "type": "smell", "value": 1},
        "bad_value": {"id": "a", "time": t, "type": "temperature", "value": "warm"},
        "bad_position": {"id": "a", "time": t, "type": "position", "lat": 95, "lon": 2},
        "bad_speed": {"id": "a", "time": t, "type": "position", "lat": 49, "lon": 2, "speed": 450},
        "not_an_object": ["a"],
    }
    for reason, raw in cases.items():
        outcome = parse_reading(raw, 0, Bounds(latest=at(5)))
        assert isinstance(outcome, Rejection) and outcome.reason == reason, (reason, outcome)


def test_plausible_readings_are_kept_as_given() -> None:
    t = at(0).isoformat()
    assert _parse({"id": "a", "time": t, "type": "position", "lat": 49.1, "lon": 2.4}) == Reading(
        id="a", kind="position", time=at(0), lat=49.1, lon=2.4
    )
    assert _parse({"id": "b", "time": t, "type": "door", "value": "open"}) == Reading(
        id="b", kind="door", time=at(0), door_open=True
    )
    edge = _parse({"id": "c", "time": t, "type": "temperature", "value": -40})
    assert isinstance(edge, Reading) and edge.value == -40.0


def test_a_jump_no_truck_can_make_is_rejected_against_both_neighbours() -> None:
    track = Track([position(0, along(0.1)), position(10, along(0.15))], max_speed_kmh=200)
    far = position(5, (45.0, 5.0))  # 500 km away, in a gap of ten minutes
    rejection = track.check(far, 7)
    assert rejection is not None and rejection.reason == "impossible_jump" and rejection.index == 7
    assert track.check(position(5, along(0.125)), 8) is None  # between both: fine, and kept
    assert track.check(Reading("x", "position", at(11), lat=45.0, lon=5.0), 9) is not None


# The rules


def test_many_readings_out_of_bounds_make_one_excursion_that_ends_back_in_bounds() -> None:
    readings = [
        scalar("temperature", m, v) for m, v in [(0, 19), (1, 23), (2, 24.5), (3, 25), (4, 19.5), (5, 19)]
    ]
    found = rules.detect(readings, PLAN, LIMITS).excursions
    assert [(e.kind, e.start, e.end) for e in found] == [("temperature", at(1), at(4))]
    assert found[0].evidence["max"] == 25 and found[0].evidence["readings"] == 3


def test_a_second_excursion_is_a_second_one() -> None:
    values = [(0, 23), (1, 19), (2, 15.5), (3, 15)]
    assert kinds([scalar("temperature", m, v) for m, v in values]) == [
        ("temperature", at(0), at(1)),
        ("temperature", at(2), None),
    ]


def test_within_the_margin_is_not_an_excursion() -> None:
    readings = [scalar("temperature", 0, 21.9), scalar("temperature", 1, 16.0), scalar("humidity", 2, 60.0)]
    assert kinds(readings) == []


def test_humidity_beyond_five_points_is_an_excursion() -> None:
    assert kinds([scalar("humidity", 0, 61), scalar("humidity", 1, 44.5)]) == [("humidity", at(0), None)]


def test_a_shock_above_the_threshold_is_an_excursion() -> None:
    limits = rules.Limits(shock_g=1.5)
    readings = [scalar("shock", 0, 1.2), scalar("shock", 1, 2.4), scalar("shock", 2, 0.3)]
    found = rules.detect(readings, PLAN, limits).excursions
    assert [(e.kind, e.start, e.end) for e in found] == [("shock", at(1), at(2))]
    assert found[0].evidence["peak_g"] == 2.4 and found[0].evidence["threshold_g"] == 1.5


def test_a_door_opened_away_from_a_planned_stop_is_an_excursion() -> None:
    readings = [position(20, along(0.3)), door(21, True), door(23, True), door(25, False)]
    found = rules.detect(readings, PLAN, LIMITS).excursions
    assert [(e.kind, e.start, e.end) for e in found] == [("door", at(21), at(25))]
    assert found[0].evidence["position"] == list(along(0.3))


def test_a_door_opened_at_a_planned_stop_in_its_window_or_at_the_destination_is_fine() -> None:
    at_stop = [position(70, STOP.point, 0), door(71, True), door(80, False)]
    at_home = [position(200, LIEVIN, 0), door(201, True)]
    assert kinds(at_stop + at_home) == []
    too_early = [position(10, STOP.point, 0), door(11, True)]
    assert kinds(too_early) == [("door", at(11), None)]


def test_a_door_with_no_position_near_in_time_counts_as_away() -> None:
    assert kinds([position(0, LIEVIN, 0), door(30, True)]) == [("door", at(30), None)]


def test_a_long_stop_away_from_planned_stops_is_an_excursion_and_a_short_one_is_not() -> None:
    spot = along(0.3)
    readings = (
        [position(0, along(0.28))]
        + [position(m, spot, 0) for m in range(1, 31)]
        + [position(31, along(0.32))]
    )
    found = rules.detect(readings, PLAN, LIMITS).excursions
    assert [(e.kind, e.start, e.end) for e in found] == [("unplanned_stop", at(1), at(31))]
    assert found[0].evidence["minutes"] == 30
    short = (
        [position(0, along(0.28))]
        + [position(m, spot, 0) for m in range(1, 10)]
        + [position(10, along(0.32))]
    )
    assert kinds(short) == []


def test_a_stop_still_going_on_opens_once_it_lasts_long_enough() -> None:
    spot = along(0.3)
    assert kinds([position(m, spot, 0) for m in range(0, 19)]) == []
    assert kinds([position(m, spot, 0) for m in range(0, 21)]) == [("unplanned_stop", at(0), None)]


def test_stops_at_planned_stops_and_at_both_ends_are_planned() -> None:
    at_stop = [position(m, STOP.point, 0) for m in range(60, 90)]
    at_origin = [position(m, PARIS, 0) for m in range(-60, 0)]
    at_destination = [position(m, LIEVIN, 0) for m in range(200, 300)]
    assert kinds(at_stop + at_origin + at_destination) == []


def test_a_stop_without_reported_speed_is_found_from_the_positions() -> None:
    spot = along(0.3)
    readings = [position(m, spot, None) for m in range(0, 25)]
    assert kinds(readings) == [("unplanned_stop", at(1), None)]  # the first one has no previous position


def test_leaving_the_corridor_is_one_deviation_until_back() -> None:
    off = (49.3, 2.65)  # 14 km east of the route
    readings = [
        position(0, (49.3, 2.46)),
        position(5, off),
        position(6, (49.31, 2.66)),
        position(10, (49.32, 2.46)),
    ]
    found = rules.detect(readings, PLAN, LIMITS).excursions
    assert [(e.kind, e.start, e.end) for e in found] == [("route_deviation", at(5), at(10))]
    assert found[0].evidence["max_km"] > 13


def test_no_route_no_deviation() -> None:
    plan = rules.Plan(destination=LIEVIN)
    assert kinds([position(0, (45.0, 5.0))], plan=plan) == []


def test_the_first_position_inside_the_destination_geofence_is_the_arrival() -> None:
    near = (LIEVIN[0] + 0.002, LIEVIN[1])  # about 220 m north
    readings = [
        position(0, along(0.99)),
        position(3, (LIEVIN[0] + 0.003, LIEVIN[1]), 10),
        position(2, near, 20),
    ]
    arrival = rules.detect(readings, PLAN, LIMITS).arrival
    assert arrival is not None and arrival.reading.time == at(2) and 200 < arrival.distance_m < 250
    assert rules.detect(readings[:1], PLAN, LIMITS).arrival is None


def _journey() -> list[Reading]:
    spot = along(0.3)
    temps = [scalar("temperature", m, 23 if 10 <= m < 20 or 40 <= m < 45 else 19) for m in range(0, 60)]
    stops = [position(m, along(m / 200)) for m in range(0, 30)] + [
        position(m, spot, 0) for m in range(30, 55)
    ]
    doors = [door(31, True), door(33, False), door(50, True)]
    shocks = [scalar("shock", m, 4.0 if m in (12, 13, 40) else 0.5) for m in range(0, 60, 1)]
    return temps + stops + doors + shocks


@settings(max_examples=30, deadline=None)
@given(st.randoms(use_true_random=False))
def test_the_order_readings_come_in_does_not_change_the_excursions(rng: random.Random) -> None:
    readings = _journey()
    expected = kinds(readings)
    assert len(expected) == 7
    shuffled = readings[:]
    rng.shuffle(shuffled)
    assert kinds(shuffled) == expected
