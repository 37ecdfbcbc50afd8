"""Core's navigation links and home-page panels (registered in ``CoreConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cimaise.core import selectors
from cimaise.core.actors import Actor
from cimaise.core.models import ApiToken
from cimaise.core.roles import Role
from cimaise.core.ui import HomePanel, NavItem, register_nav, register_panel
from cimaise.ledger.models import Anchor, ChainHead, Fact


def _account(actor: Actor) -> dict[str, Any]:
    return {"person": actor.person, "institution": actor.institution, "roles": sorted(actor.roles)}


def _sites(actor: Actor) -> dict[str, Any]:
    if actor.institution is None:
        return {"summaries": []}
    return {"summaries": selectors.site_summaries(institution=actor.institution)}


def _people(actor: Actor) -> dict[str, Any]:
    if actor.institution is None:
        return {"rows": []}
    return {"rows": selectors.people_by_role(institution=actor.institution)}


def _tokens(actor: Actor) -> dict[str, Any]:
    now = timezone.now()
    stats = ApiToken.objects.filter(user=actor.user).aggregate(
        active=Count(
            "id", filter=Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        ),
        total=Count("id"),
    )
    last = (
        ApiToken.objects.filter(user=actor.user, last_used_at__isnull=False).order_by("-last_used_at").first()
    )
    return {"stats": stats, "last": last}


def _ledger(actor: Actor) -> dict[str, Any]:
    head = ChainHead.objects.filter(pk=1).first()
    recent = Fact.objects.filter(institution=actor.institution).order_by("-id")[:8]
    return {
        "head": head,
        "anchor": Anchor.objects.order_by("-fact_id").first(),
        "recent": recent,
    }


def register() -> None:
    register_nav(NavItem(_("Home"), "home", order=0))
    register_nav(NavItem(_("Places"), "places", order=20, permission="core.view_place"))
    register_nav(NavItem(_("API tokens"), "tokens", order=80))
    register_nav(NavItem(_("API"), "api-v1:openapi-view", order=85))
    register_nav(NavItem(_("Administration"), "admin:index", order=90, staff_only=True))
    register_panel(
        HomePanel("core.account", _("Your account"), "core/panels/account.html", _account, order=90)
    )
    register_panel(HomePanel("core.sites", _("Sites and places"), "core/panels/sites.html", _sites, order=40))
    register_panel(
        HomePanel(
            "core.people",
            _("People by role"),
            "core/panels/people.html",
            _people,
            order=60,
            roles=frozenset({Role.ADMIN.value}),
        )
    )
    register_panel(HomePanel("core.tokens", _("API tokens"), "core/panels/tokens.html", _tokens, order=95))
    register_panel(
        HomePanel(
            "ledger.head",
            _("Ledger"),
            "core/panels/ledger.html",
            _ledger,
            order=70,
            permission="ledger.view_fact",
        )
    )
