from django.apps import AppConfig


class MissionsConfig(AppConfig):
    name = "cimaise.missions"
    verbose_name = "Missions and reception"

    def ready(self) -> None:
        from cimaise.missions import registries  # noqa: F401  (roles, fact types, demo loader, nav)
