"""Custody's navigation links and home-page panel, registered by ``MovesConfig.ready``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from cimaise.core.actors import Actor
from cimaise.core.ui import HomePanel, NavItem, register_nav, register_panel
from cimaise.moves import selectors


def _open_anomalies(actor: Actor) -> dict[str, Any]:
    if actor.institution is None:
        return {"open": 0}
    return {"open": selectors.anomalies_list(actor.institution, open_only=True).count()}


def register() -> None:
    """Idempotent: the registries are keyed by URL name and panel key."""
    register_nav(NavItem(_("Custody"), "custody:works", order=30, permission="moves.view_custodyevent"))
    register_nav(NavItem(_("Anomalies"), "custody:anomalies", order=31, permission="moves.view_anomaly"))
    register_nav(NavItem(_("Board"), "custody:board", order=33, permission="moves.view_convoy"))
    register_nav(NavItem(_("Scanner"), "custody:scanner:page", order=32, permission="moves.add_custodyevent"))
    register_panel(
        HomePanel(
            "moves.anomalies",
            _("Custody anomalies"),
            "moves/_panel_anomalies.html",
            _open_anomalies,
            order=35,
            permission="moves.view_anomaly",
        )
    )
