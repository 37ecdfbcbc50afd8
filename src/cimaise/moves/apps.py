from django.apps import AppConfig


class MovesConfig(AppConfig):
    name = "cimaise.moves"
    verbose_name = "Moves and custody"

    def ready(self) -> None:
        from cimaise.moves import demo_data, facts, panels, rebuild, roles  # noqa: F401  (registries)

        panels.register()
