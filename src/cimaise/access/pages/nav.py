"""The access pages in the top navigation; ``register()`` is called by ``AccessConfig.ready`` and
may run twice (the registry is keyed)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cimaise.access.roles import SCAN, VIEW
from cimaise.core.ui import NavItem, register_nav


def register() -> None:
    """The handheld check for whoever may scan; the monitor and fraud signals for supervisors."""
    register_nav(NavItem(_("Check tickets"), "access:scan", order=50, permission=SCAN))
    register_nav(NavItem(_("Entrances"), "access:monitor", order=51, permission=VIEW))
    register_nav(NavItem(_("Fraud signals"), "access:fraud", order=52, permission=VIEW))
