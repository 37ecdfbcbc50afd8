"""Payments' navigation link; ``register()`` is called by ``PaymentsConfig.ready`` and may run
twice (the registry is keyed)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cimaise.core.ui import NavItem, register_nav


def register() -> None:
    """The reconciliation pages, for holders of ``payments.view_reconciliationrun``."""
    register_nav(
        NavItem(
            _("Reconciliation"),
            "payments:reconciliation",
            order=45,
            permission="payments.view_reconciliationrun",
        )
    )
