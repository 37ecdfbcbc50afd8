"""The dashboards' filters read from a query string; a bad value is a 422 naming its field."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from cimaise.core.errors import InvalidInput
from cimaise.reporting.queries import Filters

DEFAULT_DAYS = 31
MAX_DAYS = 365  # at most a year, so that the year before never overlaps it
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _date(params: Mapping[str, str], name: str) -> dt.date | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidInput(f"{name}: expected a date YYYY-MM-DD, got {raw[:20]!r}", field=name) from exc


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
    start = _date(params, "start") or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise InvalidInput("end: the period ends before it starts", field="end")
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput(f"start: a period is at most {MAX_DAYS} days", field="start")
    chosen = {name: _choice(params, name, list(choices.get(name, []))) for name in names}
    return Filters(institution, start, end, **chosen)


def month_parse(raw: str, field: str = "month") -> tuple[dt.date, dt.date]:
    """``YYYY-MM`` as its first and last day."""
    match = MONTH.match(raw.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        raise InvalidInput(f"{field}: expected YYYY-MM, got {raw[:20]!r}", field=field)
    first = dt.date(int(match.group(1)), int(match.group(2)), 1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)
