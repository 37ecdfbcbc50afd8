"""A service's refusal shown on the page: next to the field it names when the form has that
field, else above the form with the field's name. Known codes get a translated message."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext as _

from cimaise.core.errors import DomainError


def _details(exc: DomainError) -> dict[str, Any]:
    return exc.details if isinstance(exc.details, dict) else {}


def _below_taken(exc: DomainError) -> str:
    d = _details(exc)
    return _("%(quota)s has %(taken)s places taken already: the capacity cannot go below that.") % {
        "quota": d.get("quota", "?"),
        "taken": d.get("taken", "?"),
    }


def _sold_out(exc: DomainError) -> str:
    left = _details(exc).get("left", 0)
    if left:
        return _("Only %(left)s places are left in this slot.") % {"left": left}
    return _("This slot is sold out.")


_MESSAGES: dict[str, Callable[[DomainError], str]] = {
    "below_taken": _below_taken,
    "sold_out": _sold_out,
    "slot_closed": lambda exc: _("This slot is closed to sale."),
    "slot_past": lambda exc: _("This slot is over."),
    "too_many": lambda exc: _("Too many tickets for one order of this product."),
    "expired": lambda exc: _("The places were held too long and went back; sell again."),
    "busy": lambda exc: _("These places are being sold right now; try again in a moment."),
    "not_valid": lambda exc: _("A chosen ticket is no longer valid (cancelled already?)."),
    "not_cancellable": lambda exc: _("Nothing left to cancel in this order."),
    "no_tickets": lambda exc: _("This order has no valid ticket to print."),
}


def error_message(exc: DomainError) -> str:
    """The message people read for this error, translated when the code is known."""
    known = _MESSAGES.get(exc.code)
    return known(exc) if known else exc.message


def error_field(exc: DomainError) -> str | None:
    """The field the error names (in its details or as ``field``)."""
    named = _details(exc).get("field")
    return str(named) if named else exc.field


def show_error(
    form: forms.Form,
    exc: DomainError,
    *,
    fields: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> None:
    """Attach the error to ``form``: to the field it names (``fields`` renames a service's field
    to the form's), or to the whole form, saying which field it was about (``labels`` gives a
    service's field a name people read)."""
    named = error_field(exc)
    field = (fields or {}).get(named or "", named)
    message = error_message(exc)
    if field and field in form.fields:
        form.add_error(field, message)
    elif named:
        form.add_error(None, f"{(labels or {}).get(named, named)}: {message}")
    else:
        form.add_error(None, message)
