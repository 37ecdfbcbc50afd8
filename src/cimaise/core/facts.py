"""Fact types recorded by core."""

from cimaise.ledger.types import register

TOKEN_CREATED = register(
    "core.token.created", "An API token was issued to a user (label, prefix; never the secret)."
)
TOKEN_REVOKED = register("core.token.revoked", "An API token was revoked (prefix, by whom).")
PLACE_CREATED = register(
    "core.place.created", "A place was added to the place tree (code, kind, parent, dimensions)."
)
PLACE_CHANGED = register("core.place.changed", "A place's fields changed (old and new values).")
PERSON_ENROLLED = register("core.person.enrolled", "A person was given a login and roles at an institution.")
