"""Distances on the Earth for the telemetry rules: between two points (haversine) and from a point
to a planned route (a polyline), precise to a few metres over the few hundred kilometres of a
transfer."""

from __future__ import annotations

import math
from collections.abc import Sequence

EARTH_RADIUS_KM = 6371.0088
_KM_PER_DEGREE = math.pi / 180 * EARTH_RADIUS_KM

LatLon = tuple[float, float]


def distance_km(a: LatLon, b: LatLon) -> float:
    """Great-circle distance between two (latitude, longitude) points, in kilometres."""
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


class Route:
    """A planned route, ``[(lat, lon), …]``; :meth:`distance_km` is the distance from a point to
    its nearest segment (or to its only point)."""

    def __init__(self, points: Sequence[LatLon]) -> None:
        self.points = [(float(lat), float(lon)) for lat, lon in points]

    def __bool__(self) -> bool:
        return bool(self.points)

    def distance_km(self, point: LatLon) -> float:
        if len(self.points) == 1:
            return distance_km(point, self.points[0])
        # A local flat projection centred on the point: x east and y north, in km.
        lat0, lon0 = point
        kx = _KM_PER_DEGREE * math.cos(math.radians(lat0))
        xy = [((lon - lon0) * kx, (lat - lat0) * _KM_PER_DEGREE) for lat, lon in self.points]
        return min(_to_segment(a, b) for a, b in zip(xy, xy[1:], strict=False))


def _to_segment(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance from the origin to the segment ab."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, -(a[0] * dx + a[1] * dy) / length2))
    return math.hypot(a[0] + t * dx, a[1] + t * dy)
