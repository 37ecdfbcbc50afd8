"""The pass decision, as a pure function of what is known: the central service and an entrance
agent deciding offline call the same code (as :mod:`cimaise.access.decide` for tickets).

What a caller must have established first: the signature (``forged``), the network
(``unknown``), revocation (``revoked``) and, centrally, that the pass is known (``unknown``).
:func:`pass_decide` then applies the site's rules, in this order: an exit is accepted; a product
the site does not accept, or an excluded area (a temporary exhibition), is ``wrong_entrance``;
outside opening hours ``too_early`` (before opening) or ``too_late`` (after closing, or a closed
day); a pass past its validity ``expired``; the site's entries per pass used up
``already_used``; else ``ok`` (which activates a pass never scanned before).

Validity is counted from the first accepted scan: ``validity_hours`` elapsed hours (across a
change of clocks in Europe/Paris, 48 hours later reads one hour more or less on a Paris clock),
or, for a calendar-days product, until the Paris midnight ending the ``days``-th day, the day of
activation counting as the first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cimaise.access import decide as d

PARIS = d.PARIS
OK, EXIT, FORGED, REVOKED, UNKNOWN = d.OK, d.EXIT, d.FORGED, d.REVOKED, d.UNKNOWN
TOO_EARLY, TOO_LATE, EXPIRED = d.TOO_EARLY, d.TOO_LATE, d.EXPIRED
WRONG_ENTRANCE, ALREADY_USED = d.WRONG_ENTRANCE, d.ALREADY_USED
is_accepted = d.is_accepted
REASONS_ALL = frozenset(d.REASONS)


@dataclass(frozen=True)
class Validity:
    days: int
    calendar_days: bool
    validity_hours: int


@dataclass(frozen=True)
class SiteRule:
    """A partner site's rules, as plain values (a ``PartnerSite`` row, or an agent's copy)."""

    site_id: int
    products: frozenset[int]
    entries_per_pass: int = 1
    excluded_areas: frozenset[str] = frozenset()
    opening_hours: Mapping[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "site_id": self.site_id,
            "products": sorted(self.products),
            "entries_per_pass": self.entries_per_pass,
            "excluded_areas": sorted(self.excluded_areas),
            "opening_hours": dict(self.opening_hours),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SiteRule:
        return cls(
            site_id=int(data["site_id"]),
            products=frozenset(int(p) for p in data["products"]),
            entries_per_pass=int(data["entries_per_pass"]),
            excluded_areas=frozenset(data["excluded_areas"]),
            opening_hours=dict(data["opening_hours"]),
        )


@dataclass(frozen=True)
class PassState:
    """What is known of a pass: when it was activated (None: never), and its accepted entries
    at this site so far."""

    activated_at: dt.datetime | None
    entries_here: int


def expires_at(activated_at: dt.datetime, validity: Validity) -> dt.datetime:
    """The first instant the pass is no longer valid (aware, UTC)."""
    if validity.calendar_days:
        first_day = activated_at.astimezone(PARIS).date()
        end = dt.datetime.combine(first_day + dt.timedelta(days=validity.days), dt.time(0), tzinfo=PARIS)
        return end.astimezone(dt.UTC)
    # in UTC: adding hours to a Paris time would add wall-clock hours across a DST change
    return activated_at.astimezone(dt.UTC) + dt.timedelta(hours=validity.validity_hours)


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def opening_reason(opening_hours: Mapping[str, list[str]], now: dt.datetime) -> str:
    """``ok`` when the site is open at ``now`` (Paris time), else ``too_early``/``too_late``."""
    if not opening_hours:
        return OK
    local = now.astimezone(PARIS)
    hours = opening_hours.get(str(local.weekday()))
    if not hours:
        return TOO_LATE
    minute = local.hour * 60 + local.minute
    if minute < _minutes(hours[0]):
        return TOO_EARLY
    if minute >= _minutes(hours[1]):
        return TOO_LATE
    return OK


def pass_decide(
    *,
    product_id: int,
    validity: Validity,
    rule: SiteRule,
    state: PassState,
    direction: str,
    area: str,
    now: dt.datetime,
) -> str:
    """The reason for a genuine, unrevoked pass of the network scanned at a site."""
    if direction == "out":
        return EXIT
    if product_id not in rule.products or (area and area in rule.excluded_areas):
        return WRONG_ENTRANCE
    opening = opening_reason(rule.opening_hours, now)
    if opening != OK:
        return opening
    if state.activated_at is not None and now >= expires_at(state.activated_at, validity):
        return EXPIRED
    if state.entries_here >= rule.entries_per_pass:
        return ALREADY_USED
    return OK
