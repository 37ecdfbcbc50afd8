"""Domain errors: a stable machine ``code``, a message for people, optional details.

Services raise them; the API layer turns them into ``{"error": {...}}`` with the status below,
and pages show the message. Never let bad input become a 500.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status = 400
    code = "invalid"

    def __init__(
        self, message: str, *, code: str | None = None, details: Any = None, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field
        self.details = details if details is not None else ({"field": field} if field else None)

    def as_dict(self) -> dict[str, Any]:
        """The JSON error body."""
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidInput(DomainError):
    """The request is well-formed but a value is wrong; ``field`` names it."""

    status = 422
    code = "invalid"


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    """Also raised for objects of another institution, so their existence does not leak."""

    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


def invalid_from_validation(exc: Any) -> InvalidInput:
    """A Django ``ValidationError`` as an ``InvalidInput`` naming the first bad field."""
    errors: dict[str, list[str]] = getattr(
        exc, "message_dict", {"__all__": list(getattr(exc, "messages", []))}
    )
    field, messages = next(iter(errors.items()))
    field_name = None if field == "__all__" else field
    text = f"{field_name}: {messages[0]}" if field_name else messages[0]
    return InvalidInput(text, field=field_name, details={"fields": errors})
