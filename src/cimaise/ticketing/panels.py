"""Ticketing's navigation links and home-page panel; ``register()`` is called by
``TicketingConfig.ready`` and may run twice (the registries are keyed)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from cimaise.core.actors import Actor
from cimaise.core.ui import HomePanel, NavItem, register_nav, register_panel


def _today(actor: Actor) -> dict[str, Any]:
    from cimaise.ticketing.staff.reads import today_summary

    if actor.institution is None:
        return {"today": None}
    return {"today": today_summary(institution=actor.institution)}


def register() -> None:
    """Links to the overview, the desk, orders and capacities; the "today" panel."""
    register_nav(NavItem(_("Ticketing"), "ticketing:overview", order=40, permission="ticketing.view_quota"))
    register_nav(NavItem(_("Desk"), "ticketing:desk", order=41, permission="ticketing.add_order"))
    register_nav(NavItem(_("Orders"), "ticketing:orders", order=42, permission="ticketing.view_order"))
    register_nav(
        NavItem(_("Capacities"), "ticketing:capacity", order=43, permission="ticketing.change_quota")
    )
    register_panel(
        HomePanel(
            "ticketing.today",
            _("Ticketing today"),
            "ticketing/staff/_panel_today.html",
            _today,
            order=40,
            permission="ticketing.view_quota",
        )
    )
