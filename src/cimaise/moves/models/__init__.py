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
from cimaise.moves.models.planning import AddressingBatch, AddressingFlag, AddressingRun, PackingPlacement
from cimaise.moves.models.telemetry import TelemetryReading, TrackerDevice

__all__ = [
    "AddressingBatch",
    "AddressingFlag",
    "AddressingRun",
    "PackingPlacement",
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
    "TelemetryReading",
    "TrackerDevice",
    "Vehicle",
    "object_uri",
]
