"""The register in the top navigation and the renewal-alerts panel of the home page;
``register()`` is called at start-up and may run twice (the registries are keyed)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from cimaise.core.actors import Actor
from cimaise.core.ui import HomePanel, NavItem, register_nav, register_panel
from cimaise.purchasing.roles import VIEW

PANEL_ROWS = 6


def _renewals(actor: Actor) -> dict[str, Any]:
    from cimaise.purchasing import selectors

    if actor.institution is None:
        return {"renewals": [], "gaps": 0}
    rows = selectors.coverage(actor.institution)
    return {
        "renewals": selectors.renewals_ahead(actor.institution)[:PANEL_ROWS],
        "gaps": sum(1 for row in rows if row.status == selectors.GAP),
    }


def register() -> None:
    register_nav(NavItem(_("Purchasing"), "purchasing:register", order=60, permission=VIEW))
    register_panel(
        HomePanel(
            "purchasing.renewals",
            _("Contract renewals"),
            "purchasing/panels/renewals.html",
            _renewals,
            order=45,
            permission=VIEW,
        )
    )
