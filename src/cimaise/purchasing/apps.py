from django.apps import AppConfig


class PurchasingConfig(AppConfig):
    name = "cimaise.purchasing"
    verbose_name = "Pooled purchasing"

    def ready(self) -> None:
        from cimaise.purchasing import registries  # noqa: F401  (roles, fact types, demo loader, nav)
