"""The missions pages in the top navigation (the registry is keyed, so running twice is fine)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cimaise.core.ui import NavItem, register_nav
from cimaise.missions.roles import RECEIVE


def register() -> None:
    """Everyone's missions; the reception page for the centre's reception team."""
    register_nav(NavItem(_("Missions"), "missions:home", order=60))
    register_nav(NavItem(_("Reception"), "missions:reception", order=61, permission=RECEIVE))
