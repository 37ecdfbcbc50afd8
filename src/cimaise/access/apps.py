from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "cimaise.access"
    verbose_name = "Access control"

    def ready(self) -> None:
        from cimaise.access import demo_data, facts, roles  # noqa: F401  (registries)
        from cimaise.access.pages import nav

        nav.register()
