"""The nightly build: the housekeeping loop asks every hour; the build runs once a night, from
``NIGHTLY_HOUR`` (Paris time) on, if it has not run since that hour."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

from cimaise.reporting.build import facts_build, last_built

NIGHTLY_CHECK_SECONDS = 3600
NIGHTLY_HOUR = 2
PARIS = ZoneInfo("Europe/Paris")


def nightly_due(now: dt.datetime, built_at: str | None) -> bool:
    """True once a night: after ``NIGHTLY_HOUR`` and no build since then."""
    local = now.astimezone(PARIS)
    since = local.replace(hour=NIGHTLY_HOUR, minute=0, second=0, microsecond=0)
    if local < since:
        since -= dt.timedelta(days=1)
    return built_at is None or dt.datetime.fromisoformat(built_at) < since


def nightly_build(now: dt.datetime | None = None) -> str:
    """Run the build if due; say what happened."""
    if not nightly_due(now or timezone.now(), last_built()):
        return "not due"
    return facts_build().summary()
