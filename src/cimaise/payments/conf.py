"""Which payment providers exist and are enabled, and their options.

Defaults are here; ``settings.CIMAISE_PAYMENTS`` overrides them per provider, e.g.::

    CIMAISE_PAYMENTS = {
        "sandbox": {"enabled": False},
        "alipay": {"class": "cimaise.payments.providers.alipay.AlipayProvider", "enabled": True, ...},
    }

A provider is one class (``class``, a dotted path) plus its options; the class receives the merged
options. The sandbox card provider accepts fake cards, so by default it is enabled only where no
real money moves: with ``DEBUG``, in the test suite, or in a demo database (``cimaise demo``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, dict[str, Any]] = {
    "desk": {
        "class": "cimaise.payments.providers.desk.DeskProvider",
        "enabled": True,
    },
    "sandbox": {
        "class": "cimaise.payments.providers.sandbox.SandboxProvider",
        "enabled": None,  # None: only in development, tests and demo databases (see above)
        # Prefixed to the sandbox page's path in redirect URLs ("" keeps them relative).
        "base_url": "",
    },
}


def providers_config() -> dict[str, dict[str, Any]]:
    """Every known provider's options: the defaults, updated by ``settings.CIMAISE_PAYMENTS``."""
    overrides: dict[str, dict[str, Any]] = getattr(settings, "CIMAISE_PAYMENTS", {})
    names = DEFAULTS.keys() | overrides.keys()
    return {name: {**DEFAULTS.get(name, {}), **overrides.get(name, {})} for name in sorted(names)}


def provider_config(name: str) -> dict[str, Any] | None:
    """One provider's options, or None if no provider has that name."""
    return providers_config().get(name)


def enabled(options: dict[str, Any]) -> bool:
    flag = options.get("enabled")
    return _not_production() if flag is None else bool(flag)


def _not_production() -> bool:
    if settings.DEBUG or getattr(settings, "TESTING", False):
        return True
    from cimaise.core.models import Installation

    return Installation.objects.filter(is_demo=True).exists()
