"""The pass network's pages in the top navigation."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cimaise.core.roles import Role
from cimaise.core.ui import NavItem, register_nav


def register() -> None:
    register_nav(
        NavItem(_("Pass network"), "passnet:dashboard", order=60, roles=frozenset({Role.PASS_OPERATOR.value}))
    )
    register_nav(
        NavItem(_("Pass portal"), "passnet:portal", order=61, roles=frozenset({Role.PARTNER_SITE.value}))
    )
