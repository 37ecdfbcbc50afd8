"""A comparable picture of the custody projections, for order-independence and rebuild tests."""

from __future__ import annotations

from typing import Any

from cimaise.moves.models import Anomaly, Containment, ObjectState, Presence


def _sorted(rows: Any) -> list[tuple[Any, ...]]:
    return sorted(rows, key=repr)


def custody_snapshot(uris: set[str] | None = None, *, institution: Any = None) -> dict[str, Any]:
    scope = {} if institution is None else {"institution": institution}
    states = ObjectState.objects.filter(**scope)
    containment = Containment.objects.filter(**scope)
    presence = Presence.objects.filter(**scope)
    if uris is not None:
        states, containment, presence = (
            states.filter(uri__in=uris),
            containment.filter(child__in=uris),
            presence.filter(uri__in=uris),
        )
    return {
        "states": _sorted(
            states.values_list(
                "uri",
                "kind",
                "work_id",
                "status",
                "place_id",
                "container",
                "crate",
                "convoy",
                "inspected_at",
                "last_event_time",
                "last_event__event_id",
                "last_seen_at",
                "last_seen_place_id",
                "last_seen_by",
            )
        ),  # fmt: skip
        "containment": _sorted(containment.values_list("child", "parent", "since", "until")),
        "presence": _sorted(presence.values_list("uri", "place_id", "since", "until")),
    }


def anomaly_snapshot() -> list[tuple[Any, ...]]:
    return _sorted(
        Anomaly.objects.values_list(
            "kind", "uri", "event_id", "evidence", "fact_id", "resolved_at", "comment"
        )
    )
