"""The models of ``moves``, one module per concern; importing from here keeps working."""

from cimaise.moves.models.convoys import ConditionPhoto, ConditionReport, DiscrepancyResolution
from cimaise.moves.models.custody import (
    Anomaly,
    Assignment,
    Containment,
    Convoy,
    ConvoyItem,
    ConvoyState,
    Crate,
    CustodyEvent,
    EventObject,
    ObjectState,
    Presence,
    Programme,
    Status,
    Vehicle,
    object_uri,
)
from cimaise.moves.models.incidents import Incident

__all__ = [
    "ConditionPhoto",
    "ConditionReport",
    "DiscrepancyResolution",
    "Anomaly",
    "Assignment",
    "Containment",
    "Convoy",
    "ConvoyItem",
    "ConvoyState",
    "Crate",
    "CustodyEvent",
    "EventObject",
    "Incident",
    "ObjectState",
    "Presence",
    "Programme",
    "Status",
    "Vehicle",
    "object_uri",
]
