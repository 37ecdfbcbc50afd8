"""Template context for every page: the navigation of the signed-in person's roles."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from cimaise.core.actors import actor_for
from cimaise.core.ui import nav_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "actor": None}
    actor = getattr(request, "actor", None) or actor_for(user)
    request.actor = actor  # type: ignore[attr-defined]
    return {"nav_items": nav_for(actor) if actor else [], "actor": actor}
