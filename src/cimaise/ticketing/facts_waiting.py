"""Fact types of the waiting room. Joining, polling and admission are not facts: at an on-sale
peak they number in the hundreds of thousands and say nothing about money or places; the queue
itself (``QueueEntry``) is their operational record."""

from cimaise.ledger.types import register

WAITING_ROOM_CONFIGURED = register(
    "ticketing.waiting_room.configured",
    "A ticketing manager created or changed a waiting room (code, active, opening time, admission "
    "rate per minute, burst, session minutes, which of them changed).",
)
