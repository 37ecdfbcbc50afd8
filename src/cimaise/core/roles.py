"""Roles: one Django group per role of DESIGN.md §5, with the permissions each role holds.

Apps add their grants with :func:`grant`; ``roles_sync`` (run after every migrate) makes the
groups match. A permission is ``app_label.codename``.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    REGISTRAR = "registrar", _("Registrar")
    ESCORT = "escort", _("Convoy escort")
    RECEPTION = "reception", _("Reception (conservation centre)")
    APPROVER = "approver", _("Line manager (approver)")
    BUDGET_MANAGER = "budget-manager", _("Budget manager")
    TICKETING_MANAGER = "ticketing-manager", _("Ticketing manager")
    GATE_AGENT = "gate-agent", _("Gate agent")
    GATE_SUPERVISOR = "gate-supervisor", _("Gate supervisor")
    PASS_OPERATOR = "pass-operator", _("Pass operator")
    PARTNER_SITE = "partner-site", _("Partner site")
    ANALYST = "analyst", _("Analyst")
    PURCHASING = "purchasing", _("Purchasing officer")
    ADMIN = "admin", _("Administrator")


_GRANTS: dict[str, set[str]] = defaultdict(set)


def grant(role: Role, *permissions: str) -> None:
    """Give ``role`` these permissions (``app_label.codename``)."""
    _GRANTS[role.value].update(permissions)


def granted(role: Role | str) -> frozenset[str]:
    """The permissions registered for a role."""
    return frozenset(_GRANTS[str(role)])


grant(
    Role.REGISTRAR,
    "core.view_site",
    "core.view_place",
    "core.add_place",
    "core.change_place",
)
for _role in (Role.ESCORT, Role.RECEPTION, Role.GATE_SUPERVISOR, Role.ANALYST):
    grant(_role, "core.view_site", "core.view_place")
grant(
    Role.ADMIN,
    "core.view_institution",
    "core.view_site",
    "core.view_place",
    "core.add_place",
    "core.change_place",
    "core.view_person",
    "core.view_apitoken",
    "ledger.view_fact",
    "ledger.add_anchor",
)
grant(Role.ANALYST, "ledger.view_fact")
