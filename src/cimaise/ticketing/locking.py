"""The capacity locks (see docs/locking.md): every quota whose places a transaction changes is
locked once, as late as possible, before its check, in id order, with a timeout.

On PostgreSQL the rows are locked with ``SELECT … FOR UPDATE`` after ``SET LOCAL lock_timeout``;
a sale that waits longer is refused as ``busy`` (the client tries again), never a 5xx. On SQLite
the write transaction is IMMEDIATE, so writers are serialised already and the SELECT just reads.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import OperationalError, connection, transaction

from cimaise.core.errors import DomainError
from cimaise.ticketing.conf import lock_timeout_seconds
from cimaise.ticketing.models import Quota


class Busy(DomainError):
    """Too many buyers for the same places at this instant; the request can be sent again."""

    status = 429
    code = "busy"


def lock_quotas(ids: Iterable[int]) -> list[Quota]:
    """Lock these quotas, in id order, inside the caller's transaction; return them as locked."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_quotas must run inside the caller's transaction")
    ordered = sorted(set(ids))
    if not ordered:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = %s", [f"{lock_timeout_seconds()}s"])
    try:
        return list(Quota.objects.select_for_update().filter(pk__in=ordered).order_by("pk"))
    except OperationalError as exc:
        raise Busy("these places are being sold right now; try again in a moment") from exc
