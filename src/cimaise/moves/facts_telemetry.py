"""Fact types recorded by convoy telemetry: trackers, their readings, and the incidents the
transport rules raise from them (see ``moves.telemetry``)."""

from cimaise.ledger.types import register

TRACKER_REGISTERED = register(
    "moves.tracker.registered",
    "A tracker device was registered for a vehicle (device id, vehicle, label, token prefix).",
)
TRACKER_ROTATED = register(
    "moves.tracker.rotated",
    "A tracker device got a new token and its old one stopped working (device id, both prefixes).",
)
TRACKER_REVOKED = register(
    "moves.tracker.revoked",
    "A tracker device was revoked: its token no longer works (device id, prefix).",
)
TELEMETRY_RECEIVED = register(
    "moves.telemetry.received",
    "A tracker posted readings for a convoy: the new ones (compact rows) and those rejected, with "
    "their index and reason.",
)
# Opening a telemetry incident is the shared ``moves.incident.opened`` fact (``moves.facts``); what
# happens to an excursion afterwards is recorded by the three types below.
INCIDENT_ENDED = register(
    "moves.incident.ended",
    "The readings came back in bounds: the incident's excursion ended (incident's opening fact, "
    "kind, start, end, evidence).",
)
INCIDENT_REVISED = register(
    "moves.incident.revised",
    "Readings that arrived late moved an incident's start or end (incident's opening fact, kind, "
    "start, end, evidence).",
)
INCIDENT_WITHDRAWN = register(
    "moves.incident.withdrawn",
    "Readings that arrived late show an incident's excursion did not happen as first seen "
    "(incident's opening fact, kind); it stays on record, ended.",
)
GEOFENCE_ARRIVED = register(
    "moves.telemetry.arrived",
    "A convoy's tracker entered the destination's geofence: the arriving event recorded, and the "
    "convoy's state before and after (arrived only if it was in transit).",
)
