"""Paging for list routes: ``?limit=&offset=`` in, ``{"count", "limit", "offset", "next", "items"}`` out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema

from cimaise.core.errors import InvalidInput

MAX_LIMIT = 500
MAX_OFFSET = 1_000_000_000  # beyond SQLite's 64-bit LIMIT/OFFSET arithmetic, and any real list


class PageParams(Schema):
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description=f"items per page, at most {MAX_LIMIT}")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="items to skip")


def paginate[T](
    request: HttpRequest,
    items: QuerySet[Any] | Sequence[Any],
    params: PageParams,
    serialize: Callable[[Any], T],
) -> dict[str, Any]:
    """One page of ``items`` (a queryset is counted and sliced in the database)."""
    if not 0 <= params.offset <= MAX_OFFSET or not 1 <= params.limit <= MAX_LIMIT:
        raise InvalidInput("limit or offset out of range", field="limit")
    count = items.count() if isinstance(items, QuerySet) else len(items)
    page = items[params.offset : params.offset + params.limit] if params.offset < count else []
    following = params.offset + params.limit
    next_url = None
    if following < count:
        query = request.GET.copy()
        query["offset"] = str(following)
        query["limit"] = str(params.limit)
        next_url = f"{request.path}?{query.urlencode()}"
    return {
        "count": count,
        "limit": params.limit,
        "offset": params.offset,
        "next": next_url,
        "items": [serialize(item) for item in page],
    }


def page_schema(item: type[Schema]) -> type[Schema]:
    """The response schema of a page of ``item``."""
    return type(
        f"{item.__name__}Page",
        (Schema,),
        {
            "__annotations__": {
                "count": int,
                "limit": int,
                "offset": int,
                "next": str | None,
                "items": list[item],  # type: ignore[valid-type]
            }
        },
    )
