"""The sales services' errors as the visitor reads them: a sentence in their language, and the
field of the form it belongs next to. The services speak English to developers; their stable
``code`` and ``field`` are what the shop translates."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cimaise.core.errors import DomainError

_ITEM = re.compile(r"^items\[(\d+)\]\.(tariff|quantity)$")


def error_field(error: DomainError) -> str | None:
    """The field the service named (``email``, ``items``, ``items[0].quantity`` …), if any."""
    if error.field:
        return error.field
    details: Any = error.details
    field = details.get("field") if isinstance(details, dict) else None
    return field if isinstance(field, str) else None


def item_index(field: str | None) -> tuple[int, str] | None:
    """``items[2].quantity`` → ``(2, "quantity")``."""
    match = _ITEM.match(field or "")
    return (int(match.group(1)), match.group(2)) if match else None


def _sold_out(error: DomainError) -> str:
    details: Any = error.details
    left = details.get("left", 0) if isinstance(details, dict) else 0
    if not isinstance(left, int) or left <= 0:
        return _("This time slot is sold out. Please choose another one.")
    return ngettext(
        "Only %(left)d place is left in this time slot.",
        "Only %(left)d places are left in this time slot.",
        left,
    ) % {"left": left}


def _by_code(error: DomainError, max_per_order: int) -> str | None:
    messages = {
        "slot_closed": _("This time slot is closed to sale. Please choose another one."),
        "slot_past": _("This time slot is over. Please choose a later one."),
        "unknown_slot": _("This time slot does not exist."),
        "too_many": ngettext(
            "At most %(max)d ticket per order.", "At most %(max)d tickets per order.", max_per_order
        )
        % {"max": max_per_order},
        "expired": _("Your places were released because the hold ran out. Please choose again."),
        "cart_ordered": _("This booking was already ordered."),
        "cart_released": _("You gave up these places. Please choose again."),
        "cart_expired": _("Your places were released because the hold ran out. Please choose again."),
        "admission_required": _("The shop is busy: please wait for your turn in the queue."),
        "busy": _("The shop is very busy right now. Please try again in a moment."),
    }
    if error.code == "sold_out":
        return _sold_out(error)
    return messages.get(error.code)


def _by_field(field: str | None) -> str | None:
    index = item_index(field)
    if index is not None:
        return _("This ticket type is not sold online.") if index[1] == "tariff" else _("Choose a quantity.")
    messages = {
        "items": _("Choose at least one ticket."),
        "email": _("Enter a valid e-mail address: we send your tickets there."),
        "name": _("A name is at most 120 characters."),
        "provider": _("This payment method is not available. Please choose another one."),
        "return_url": _("The payment could not be started. Please try again."),
        "cart": _("This booking can no longer be used. Please choose again."),
        "slot": _("This time slot cannot be booked. Please choose another one."),
    }
    return messages.get(field or "")


def error_message(error: DomainError, *, max_per_order: int = 10) -> str:
    """A sentence for the visitor, in the active language (never the service's English)."""
    return (
        _by_code(error, max_per_order)
        or _by_field(error_field(error))
        or _("Sorry, this could not be done. Please check your choices and try again.")
    )
