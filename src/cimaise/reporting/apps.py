from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "cimaise.reporting"
    verbose_name = "Reporting"

    def ready(self) -> None:
        from cimaise.reporting import registries  # noqa: F401  (roles, fact types, demo loader, nav)
