"""``cimaise ledger rebuild`` for ticketing: each quota's ``taken`` counter recomputed from the
places its live allocations hold (the allocations are the places' own record; the counter is
what the sales read under their locks)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from cimaise.ledger import projections
from cimaise.ticketing.locking import lock_quotas
from cimaise.ticketing.models import Allocation, Quota


def rebuild_quota_counters() -> int:
    """Set every quota's ``taken`` to what its live allocations hold; returns the quotas changed.
    Runs in the rebuild's transaction, under the quotas' locks, so no sale moves a counter
    meanwhile."""
    held = (
        Allocation.objects.filter(quota=OuterRef("pk"), released_at__isnull=True)
        .values("quota")
        .annotate(n=Sum("quantity"))
        .values("n")
    )
    with transaction.atomic():
        lock_quotas(Quota.objects.values_list("pk", flat=True))
        wrong = Quota.objects.annotate(held=Coalesce(Subquery(held), Value(0))).exclude(taken=F("held"))
        changed = [(q.pk, q.held) for q in wrong]
        for pk, value in changed:
            Quota.objects.filter(pk=pk).update(taken=value)
    return len(changed)


projections.register(
    "ticketing.quota_counters",
    rebuild_quota_counters,
    "Places taken per quota, from the live allocations",
)
