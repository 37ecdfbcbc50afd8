"""The dashboards' filters read from a query string; a bad value is a 422 naming its field."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping

from cimaise.core.errors import InvalidInput
from cimaise.reporting.queries import Filters, shift_year

DEFAULT_DAYS = 31
MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")
# the facts hold nothing older, and the year before any day must still be a date
EARLIEST = dt.date(1900, 1, 1)


def _date(params: Mapping[str, str], name: str) -> dt.date | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidInput(f"{name}: expected a date YYYY-MM-DD, got {raw[:20]!r}", field=name) from exc
    if day < EARLIEST:
        raise InvalidInput(f"{name}: a date is from {EARLIEST.isoformat()} on", field=name)
    return day


def _choice(params: Mapping[str, str], name: str, allowed: list[str]) -> str | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    if raw not in allowed:
        raise InvalidInput(
            f"{name}: unknown value {raw[:40]!r}", field=name, details={"field": name, "allowed": allowed}
        )
    return raw


def filters_parse(
    params: Mapping[str, str], *, institution: str, choices: Mapping[str, list[str]],
    latest: dt.date, names: tuple[str, ...],
) -> Filters:  # fmt: skip
    """The period (``start``, ``end``; by default the 31 days up to ``latest``) and the filters
    in ``names`` among entrance, product and channel, each one of ``choices``."""
    end = _date(params, "end") or latest
    start = _date(params, "start") or max(end - dt.timedelta(days=DEFAULT_DAYS - 1), EARLIEST)
    if start > end:
        raise InvalidInput("end: the period ends before it starts", field="end")
    if shift_year(end, -1) >= start:  # 366 days are a calendar year when it is a leap year
        raise InvalidInput("start: a period is at most a year", field="start")
    chosen = {name: _choice(params, name, list(choices.get(name, []))) for name in names}
    return Filters(institution, start, end, **chosen)


def month_parse(raw: str, field: str = "month") -> tuple[dt.date, dt.date]:
    """``YYYY-MM`` as its first and last day."""
    match = MONTH.fullmatch(raw.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < EARLIEST.year:
        raise InvalidInput(f"{field}: expected YYYY-MM, got {raw[:20]!r}", field=field)
    year, month = int(match.group(1)), int(match.group(2))
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
