"""The entry decision, as a pure function of what is known: the central service and the entrance
agents (offline) call the same code, so that an agent decides as the central service would for
every case it has the data for.

What a caller must have established first: the signature (``forged``), the revocation list
(``revoked``), and, centrally, that the ticket is known and paid (``unknown``, ``unpaid``).
:func:`code_decide` then applies the entrance's rule: an exit is accepted; the entrance
(``wrong_entrance``); earlier entries of the day (a further entry, a re-entry the rule allows, or
``already_used``); and the validity window (``expired`` once the slot's day is past,
``too_early``, ``too_late``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo

from cimaise.ticketing.codes import CodePayload

PARIS = ZoneInfo("Europe/Paris")

OK = "ok"
REENTRY = "reentry"
EXIT = "exit"
OVERRIDE = "override"
FORGED = "forged"
REVOKED = "revoked"
UNKNOWN = "unknown"
UNPAID = "unpaid"
TOO_EARLY = "too_early"
TOO_LATE = "too_late"
EXPIRED = "expired"
WRONG_ENTRANCE = "wrong_entrance"
ALREADY_USED = "already_used"

ACCEPTING = frozenset({OK, REENTRY, EXIT, OVERRIDE})
REASONS = (OK, REENTRY, EXIT, OVERRIDE, FORGED, REVOKED, UNKNOWN, UNPAID, TOO_EARLY, TOO_LATE,
           EXPIRED, WRONG_ENTRANCE, ALREADY_USED)  # fmt: skip


@dataclass(frozen=True)
class Rule:
    """An entrance's entry rule, as plain values (``EntryRule`` rows, or an agent's copy)."""

    tolerance_before_minutes: int = 0
    entries_per_day: int = 1
    reentry_after_exit: bool = False
    reentry_after_minutes: int | None = None
    admits_other_entrances: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rule:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})


@dataclass(frozen=True)
class Seen:
    """An accepted, not cancelled scan of the code earlier the same day (any entrance)."""

    direction: str  # "in" or "out"
    at: dt.datetime


def rule_pick(rules: Mapping[int | None, Rule], product_id: int) -> Rule:
    """The rule for the product, else the entrance's rule for every product, else the defaults."""
    return rules.get(product_id) or rules.get(None) or Rule()


def day_bounds(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The Paris day holding ``now``, as aware start and end."""
    day = now.astimezone(PARIS).date()
    start = dt.datetime.combine(day, dt.time(0), tzinfo=PARIS)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=PARIS)
    return start, end


def is_accepted(reason: str) -> bool:
    return reason in ACCEPTING


def code_decide(
    payload: CodePayload,
    *,
    entrance_id: int,
    direction: str,
    rule: Rule,
    previous: Sequence[Seen],
    now: dt.datetime,
) -> str:
    """The reason for a genuine, unrevoked, paid code scanned at an entrance (see the module)."""
    if direction == "out":
        return EXIT
    if payload.entrance_id != entrance_id and not rule.admits_other_entrances:
        return WRONG_ENTRANCE
    ordered = sorted(previous, key=lambda seen: seen.at)
    if any(seen.direction == "in" for seen in ordered):
        return _again(ordered, rule, now)
    return _window(payload, rule, now)


def _again(previous: Sequence[Seen], rule: Rule, now: dt.datetime) -> str:
    """A code that already entered today: a further entry, a re-entry, or ``already_used``."""
    entries = [seen for seen in previous if seen.direction == "in"]
    if len(entries) < rule.entries_per_day:
        return OK
    if rule.reentry_after_exit and previous[-1].direction == "out":
        return REENTRY
    after = rule.reentry_after_minutes
    if after is not None and now - entries[-1].at >= dt.timedelta(minutes=after):
        return REENTRY
    return ALREADY_USED


def _window(payload: CodePayload, rule: Rule, now: dt.datetime) -> str:
    local_now = now.astimezone(PARIS)
    slot_day = payload.starts_at.astimezone(PARIS).date()
    if local_now.date() > slot_day:
        return EXPIRED
    if now < payload.starts_at - dt.timedelta(minutes=rule.tolerance_before_minutes):
        return TOO_EARLY
    if now > payload.starts_at + dt.timedelta(minutes=payload.window_minutes):
        return TOO_LATE
    return OK
