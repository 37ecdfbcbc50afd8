"""The provider registry: a name → its class and options (``payments.conf``)."""

from __future__ import annotations

from django.utils.module_loading import import_string

from cimaise.payments import conf
from cimaise.payments.providers.base import Provider


def provider_get(name: str) -> Provider | None:
    """The enabled provider of that name, or None (unknown or disabled)."""
    options = conf.provider_config(name)
    if options is None or not conf.enabled(options):
        return None
    cls = import_string(options["class"])
    if not (isinstance(cls, type) and issubclass(cls, Provider)):
        raise TypeError(f"payments provider {name!r}: {options['class']} is not a Provider")
    return cls(name, options)
