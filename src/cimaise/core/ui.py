"""Registries through which apps add to the staff UI: navigation links and home-page panels."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils.functional import Promise

from cimaise.core.actors import Actor


@dataclass(frozen=True)
class NavItem:
    """A link in the top navigation, shown when ``visible(actor)`` is true."""

    label: str | Promise
    url_name: str
    order: int = 50
    permission: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    staff_only: bool = False

    def visible(self, actor: Actor) -> bool:
        if self.staff_only and not actor.user.is_staff:
            return False
        if self.permission and not actor.can(self.permission):
            return False
        return not self.roles or bool(self.roles & actor.roles)

    @property
    def url(self) -> str:
        return reverse(self.url_name)


@dataclass(frozen=True)
class HomePanel:
    """A panel of the home page: a template fed by ``context(actor)``; shown to ``roles``
    (every signed-in person when empty) or to holders of ``permission``."""

    key: str
    title: str | Promise
    template: str
    context: Callable[[Actor], dict[str, Any]]
    order: int = 50
    roles: frozenset[str] = field(default_factory=frozenset)
    permission: str | None = None

    def visible(self, actor: Actor) -> bool:
        if self.permission and not actor.can(self.permission):
            return False
        return not self.roles or bool(self.roles & actor.roles)


_NAV: dict[str, NavItem] = {}
_PANELS: dict[str, HomePanel] = {}


def register_nav(item: NavItem) -> None:
    _NAV[item.url_name] = item


def register_panel(panel: HomePanel) -> None:
    _PANELS[panel.key] = panel


def nav_for(actor: Actor) -> list[NavItem]:
    return sorted((i for i in _NAV.values() if i.visible(actor)), key=lambda i: (i.order, str(i.label)))


def panels_for(actor: Actor) -> list[HomePanel]:
    return sorted((p for p in _PANELS.values() if p.visible(actor)), key=lambda p: (p.order, p.key))
