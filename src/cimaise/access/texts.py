"""The short texts agents read for each machine reason, in the active language."""

from __future__ import annotations

from django.utils.translation import gettext

from cimaise.access import decide as d


def reason_text(reason: str) -> str:
    """The short text for a reason (the reason itself when it has none)."""
    texts = {
        d.OK: gettext("Welcome"),
        d.REENTRY: gettext("Welcome back"),
        d.EXIT: gettext("Goodbye"),
        d.OVERRIDE: gettext("Let through by staff"),
        d.FORGED: gettext("Not a valid ticket"),
        d.REVOKED: gettext("Ticket cancelled"),
        d.UNKNOWN: gettext("Ticket unknown here"),
        d.UNPAID: gettext("Ticket not paid"),
        d.TOO_EARLY: gettext("Too early for this time slot"),
        d.TOO_LATE: gettext("Too late for this time slot"),
        d.EXPIRED: gettext("Ticket expired"),
        d.WRONG_ENTRANCE: gettext("Wrong entrance"),
        d.ALREADY_USED: gettext("Ticket already used"),
    }
    return texts.get(reason, reason)
