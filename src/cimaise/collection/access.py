"""The gate through which views and handlers obtain a work."""

from __future__ import annotations

from cimaise.collection.models import Work
from cimaise.core.access import own_institution, require_permission
from cimaise.core.actors import Actor
from cimaise.core.errors import NotFound


def access_work(actor: Actor, inventory: str) -> Work:
    """A work of the actor's institution; another institution's works look absent."""
    institution = own_institution(actor)
    work = (
        Work.objects.select_related("institution", "normal_place")
        .filter(institution=institution, inventory=inventory)
        .first()
    )
    if work is None:
        raise NotFound(f"no work {inventory!r}", field="inventory")
    require_permission(actor, "collection.view_work")
    return work
