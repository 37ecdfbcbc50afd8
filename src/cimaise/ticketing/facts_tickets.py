"""Fact types recorded by e-tickets: issuing, revoking and reissuing codes, rotating their keys."""

from cimaise.ledger.types import register

TICKETS_ISSUED = register(
    "ticketing.tickets.issued",
    "Tickets of a paid order were issued, one a place, each with a signed code "
    "(order, and per ticket: code id, key id, tariff, slot, price; never the code itself).",
)
TICKETS_REVOKED = register(
    "ticketing.tickets.revoked",
    "Tickets were cancelled and their codes revoked, so entrance agents refuse them "
    "(order, code ids, reason).",
)
TICKET_REISSUED = register(
    "ticketing.ticket.reissued",
    "A ticket was changed: its code was revoked (reason 'replaced') and a new ticket issued in its "
    "place (order, old and new code ids, key id, tariff, slot, price).",
)
KEYS_ROTATED = register(
    "ticketing.keys.rotated",
    "The tickets signing key was rotated: the keys retired (still published, so their codes "
    "verify) and the new key's id and public key.",
)
