from django.apps import AppConfig


class MovesConfig(AppConfig):
    name = "cimaise.moves"
    verbose_name = "Moves and custody"

    def ready(self) -> None:
        from cimaise.moves import (  # noqa: F401  (registries)
            demo_data,
            facts,
            facts_planning,
            facts_telemetry,
            panels,
            rebuild,
            roles,
            roles_planning,
        )
        from cimaise.moves.telemetry import rebuild as telemetry_rebuild  # noqa: F401

        panels.register()
