"""The telemetry settings: ``settings.CIMAISE`` keys, with the defaults DESIGN §7 gives."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from cimaise.core.conf import setting
from cimaise.moves.telemetry.readings import Bounds
from cimaise.moves.telemetry.rules import Limits

DEFAULTS: dict[str, float] = {
    # An unplanned stop longer than this raises an incident.
    "TELEMETRY_STOP_MINUTES": 20,
    # Farther than this from the planned route is a route deviation.
    "TELEMETRY_CORRIDOR_KM": 5,
    # Within this distance of the destination site the convoy has arrived; trucks may stop and open
    # their doors this close to their origin and destination.
    "TELEMETRY_GEOFENCE_METRES": 500,
    # Within this distance of a planned stop (during its time window) a stop is planned.
    "TELEMETRY_PLANNED_STOP_RADIUS_METRES": 500,
    # The shock threshold when no crate of the manifest has one.
    "TELEMETRY_SHOCK_DEFAULT_G": 3.0,
    # Faster than this between two positions, one of them is impossible.
    "TELEMETRY_MAX_SPEED_KMH": 200,
    # Readings per request.
    "TELEMETRY_MAX_READINGS": 5000,
}


def value(name: str) -> float:
    """The setting, else its default (an unknown name is a bug and raises KeyError)."""
    configured: dict[str, float] = getattr(settings, "CIMAISE", {})  # noqa: B009
    return float(configured.get(name, DEFAULTS[name]))


def limits(*, shock_g: float | None) -> Limits:
    """The rules' thresholds; ``shock_g`` is the most fragile crate's (None: the default)."""
    return Limits(
        shock_g=value("TELEMETRY_SHOCK_DEFAULT_G") if shock_g is None else shock_g,
        stop_minutes=value("TELEMETRY_STOP_MINUTES"),
        corridor_km=value("TELEMETRY_CORRIDOR_KM"),
        geofence_m=value("TELEMETRY_GEOFENCE_METRES"),
        planned_stop_radius_m=value("TELEMETRY_PLANNED_STOP_RADIUS_METRES"),
    )


def skew() -> dt.timedelta:
    """How far in the future a reading's time may be (the EPCIS clock-skew setting)."""
    return dt.timedelta(seconds=int(setting("EPCIS_CLOCK_SKEW_SECONDS")))


def bounds(now: dt.datetime) -> Bounds:
    return Bounds(max_speed_kmh=value("TELEMETRY_MAX_SPEED_KMH"), latest=now + skew())
