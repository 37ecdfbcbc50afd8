"""Fact types recorded by the collection registry."""

from cimaise.ledger.types import register

WORK_REGISTERED = register(
    "collection.work.registered", "A work was entered in the registry (its full record)."
)
WORK_CHANGED = register("collection.work.changed", "A work's record changed (the fields, old and new).")
