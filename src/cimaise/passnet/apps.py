from django.apps import AppConfig


class PassnetConfig(AppConfig):
    name = "cimaise.passnet"
    verbose_name = "Museum pass network"

    def ready(self) -> None:
        from cimaise.passnet import registries  # noqa: F401  (roles, fact types, demo loader, nav)
