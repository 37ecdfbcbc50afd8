"""E-mail to the registrars when a transport rule opens an incident (DESIGN §7): who is told, and
what the message says."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.mail import EmailMessage

from cimaise.core.models import Institution, Person
from cimaise.core.roles import Role
from cimaise.moves.models import Incident


def registrar_addresses(institution: Institution) -> list[str]:
    """The e-mail addresses of the institution's active registrars."""
    people = Person.objects.filter(
        institution=institution, user__is_active=True, user__groups__name=Role.REGISTRAR.value
    ).exclude(user__email="")
    return sorted(set(people.values_list("user__email", flat=True)))


def _message(incident: Incident, recipients: list[str]) -> EmailMessage:
    convoy = incident.convoy
    code = convoy.code if convoy else "?"
    kind = Incident.Kind(incident.kind)
    lines = [
        f"Convoy {code}: {kind.label}.",
        f"Started at {incident.started_at.isoformat()} (reading time).",
        "",
        "Evidence:",
        *(f"  {key}: {value}" for key, value in sorted(incident.evidence.items())),
        "",
        "Open the convoy in Cimaise to follow the incident and resolve it.",
    ]
    return EmailMessage(subject=f"[Cimaise] {code}: {kind.label}", body="\n".join(lines), to=recipients)


def incidents_notify(incident_ids: Sequence[int]) -> int:
    """Send one message per incident to its institution's registrars; how many were sent."""
    sent = 0
    rows = Incident.objects.filter(pk__in=list(incident_ids)).select_related("convoy", "institution")
    for incident in rows.order_by("id"):
        recipients = registrar_addresses(incident.institution)
        if recipients:
            sent += _message(incident, recipients).send()
    return sent
