"""Fact types recorded by custody."""

from cimaise.ledger.types import register

CUSTODY_CAPTURED = register(
    "moves.custody.captured",
    "An EPCIS event was captured (the event as stored, with its eventID, and who sent it).",
)
ERROR_DECLARED = register(
    "moves.custody.error_declared",
    "An EPCIS error declaration retracted an earlier event (the declaration event and who sent it).",
)
ANOMALY_DETECTED = register(
    "moves.anomaly.detected",
    "A custody event showed something that should not happen (kind, object, event, evidence).",
)
ANOMALY_RESOLVED = register(
    "moves.anomaly.resolved",
    "A registrar resolved an anomaly (kind, object, event) with a comment.",
)
CONVOY_MOVED = register(
    "moves.convoy.moved",
    "A convoy changed state (from, to, seals, the custody event that recorded it).",
)
DISCREPANCY_RESOLVED = register(
    "moves.discrepancy.resolved",
    "A registrar explained a reconciliation discrepancy of a convoy (kind, step, object, comment).",
)
CONDITION_REPORTED = register(
    "moves.condition.reported",
    "A condition report of a work (phase, overall state, alterations, photos' SHA-256, examiner).",
)
INCIDENT_OPENED = register(
    "moves.incident.opened",
    "An incident was opened (kind, convoy, work, evidence).",
)
