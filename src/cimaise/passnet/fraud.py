"""Fraud signals of the pass network, read from the recorded entries of a period, each with its
evidence:

- ``impossible_travel``: one pass accepted at two sites closer in time than the trip between them
  takes: great-circle (haversine) distance at ``URBAN_SPEED_KMH`` (20 km/h, a fast door-to-door
  trip across Paris by metro or taxi, walking included);
- ``repeated_use``: one pass refused as ``already_used`` at one site ``REPEATED_AT`` times or more
  in a Paris day (a pass handed back over the barrier);
- ``many_sites``: one pass accepted at ``MANY_SITES_AT`` sites or more within an hour;
- ``withdrawn_batch``: scans of passes of a withdrawn reseller batch, per batch.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from cimaise.core.models import Institution
from cimaise.passnet.decide import ALREADY_USED, PARIS
from cimaise.passnet.models import PartnerSite, Pass, PassEntry

URBAN_SPEED_KMH = 20.0
EARTH_RADIUS_KM = 6371.0
REPEATED_AT = 2
MANY_SITES_AT = 4
WINDOW = dt.timedelta(hours=1)

IMPOSSIBLE_TRAVEL = "impossible_travel"
REPEATED_USE = "repeated_use"
MANY_SITES = "many_sites"
WITHDRAWN_BATCH = "withdrawn_batch"
KINDS = (IMPOSSIBLE_TRAVEL, REPEATED_USE, MANY_SITES, WITHDRAWN_BATCH)


@dataclass(frozen=True)
class Signal:
    kind: str
    when: dt.datetime
    code_id: str
    sites: tuple[str, ...]
    evidence: dict[str, Any] = field(default_factory=dict)


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points, in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def travel_minutes(km: float) -> float:
    return km / URBAN_SPEED_KMH * 60


@dataclass(frozen=True)
class Seen:
    code_id: str
    site: PartnerSite
    at: dt.datetime
    nonce: str


def _accepted(operator: Institution, start: dt.datetime, end: dt.datetime) -> dict[str, list[Seen]]:
    sites = {s.pk: s for s in PartnerSite.objects.filter(operator=operator)}
    rows = (
        PassEntry.objects.filter(
            operator=operator,
            result=PassEntry.Result.ACCEPTED,
            direction="in",
            recorded_at__gte=start,
            recorded_at__lt=end,
        )
        .order_by("code_id", "recorded_at", "id")
        .values_list("code_id", "site_id", "recorded_at", "nonce")
    )
    by_pass: dict[str, list[Seen]] = defaultdict(list)
    for code_id, site_id, at, nonce in rows:
        by_pass[code_id].append(Seen(code_id, sites[site_id], at, nonce))
    return by_pass


def _where(site: PartnerSite) -> tuple[float, float]:
    return float(site.latitude), float(site.longitude)


def impossible_travel(by_pass: dict[str, list[Seen]]) -> list[Signal]:
    signals = []
    for seen in by_pass.values():
        for a, b in zip(seen, seen[1:], strict=False):
            if a.site.pk == b.site.pk:
                continue
            km = haversine_km(_where(a.site), _where(b.site))
            gap = (b.at - a.at).total_seconds() / 60
            needed = travel_minutes(km)
            if gap < needed:
                evidence = {
                    "from": {"site": a.site.code, "at": a.at.isoformat(), "nonce": a.nonce},
                    "to": {"site": b.site.code, "at": b.at.isoformat(), "nonce": b.nonce},
                    "distance_km": round(km, 2),
                    "minutes_between": round(gap, 1),
                    "minutes_needed": round(needed, 1),
                    "speed_kmh": URBAN_SPEED_KMH,
                }
                signals.append(
                    Signal(IMPOSSIBLE_TRAVEL, b.at, a.code_id, (a.site.code, b.site.code), evidence)
                )
    return signals


def many_sites(by_pass: dict[str, list[Seen]]) -> list[Signal]:
    signals = []
    for seen in by_pass.values():
        for i, first in enumerate(seen):
            window = [s for s in seen[i:] if s.at - first.at < WINDOW]
            codes = tuple(dict.fromkeys(s.site.code for s in window))
            if len(codes) >= MANY_SITES_AT:
                evidence = {"scans": [{"site": s.site.code, "at": s.at.isoformat()} for s in window]}
                signals.append(Signal(MANY_SITES, first.at, first.code_id, codes, evidence))
                break  # one signal per pass and period
    return signals


def repeated_use(operator: Institution, start: dt.datetime, end: dt.datetime) -> list[Signal]:
    rows = (
        PassEntry.objects.filter(
            operator=operator, reason=ALREADY_USED, recorded_at__gte=start, recorded_at__lt=end
        )
        .select_related("site")
        .order_by("recorded_at")
    )
    groups: dict[tuple[str, str, dt.date], list[PassEntry]] = defaultdict(list)
    for entry in rows:
        groups[(entry.code_id, entry.site.code, entry.recorded_at.astimezone(PARIS).date())].append(entry)
    return [
        Signal(
            REPEATED_USE,
            entries[-1].recorded_at,
            code_id,
            (site,),
            {
                "refusals": len(entries),
                "times": [e.recorded_at.isoformat() for e in entries],
                "lanes": sorted({e.lane for e in entries}),
            },
        )
        for (code_id, site, _day), entries in groups.items()
        if len(entries) >= REPEATED_AT
    ]


def withdrawn_batch(operator: Institution, start: dt.datetime, end: dt.datetime) -> list[Signal]:
    rows = (
        PassEntry.objects.filter(
            operator=operator,
            pass_ref__revoked_reason=Pass.RevokeReason.BATCH_WITHDRAWN,
            recorded_at__gte=start,
            recorded_at__lt=end,
        )
        .select_related("site", "pass_ref__batch")
        .order_by("recorded_at")
    )
    groups: dict[str, list[PassEntry]] = defaultdict(list)
    for entry in rows:
        if entry.pass_ref is not None and entry.pass_ref.batch is not None:  # always, by the filter
            groups[entry.pass_ref.batch.code].append(entry)
    signals = []
    for batch, entries in groups.items():
        sites = tuple(dict.fromkeys(e.site.code for e in entries))
        evidence = {
            "batch": batch,
            "reseller": entries[0].pass_ref.batch.reseller
            if entries[0].pass_ref and entries[0].pass_ref.batch
            else "",
            "scans": len(entries),
            "passes": len({e.code_id for e in entries}),
            "results": dict(sorted(_count(e.reason for e in entries).items())),
        }
        signals.append(Signal(WITHDRAWN_BATCH, entries[-1].recorded_at, "", sites, evidence))
    return signals


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for value in values:
        counts[value] += 1
    return counts


def signals_read(*, operator: Institution, start: dt.datetime, end: dt.datetime) -> list[Signal]:
    """Every signal of the period, newest first."""
    by_pass = _accepted(operator, start, end)
    signals = impossible_travel(by_pass) + many_sites(by_pass)
    signals += repeated_use(operator, start, end) + withdrawn_batch(operator, start, end)
    return sorted(signals, key=lambda s: s.when, reverse=True)
