"""Plain ``executemany`` inserts for the custody tables written by the thousand.

``bulk_create`` spends most of its time building model instances and compiling one statement
per batch; these tables take simple values (text, integers, booleans, datetimes), so the rows go
straight to the cursor.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import models, transaction

CHUNK = 5000


def insert_rows(model: type[models.Model], attnames: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert ``rows`` (values in ``attnames`` order) into ``model``'s table; returns the count."""
    connection = transaction.get_connection()
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    fields = [by_attname[name] for name in attnames]
    qn = connection.ops.quote_name
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    moments = [i for i, f in enumerate(fields) if isinstance(f, models.DateTimeField)]
    adapt_one = connection.ops.adapt_datetimefield_value
    adapted: dict[Any, Any] = {}

    def adapt(value: Any) -> Any:  # events share their times: adapt each distinct one once
        if value not in adapted:
            adapted[value] = adapt_one(value)
        return adapted[value]

    count = 0
    batch: list[list[Any]] = []
    with connection.cursor() as cursor:
        for row in rows:
            values = list(row)
            for i in moments:
                values[i] = adapt(values[i])
            batch.append(values)
            if len(batch) == CHUNK:
                cursor.executemany(sql, batch)
                count, batch = count + len(batch), []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count
