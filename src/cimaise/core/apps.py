from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "cimaise.core"
    verbose_name = "Core"

    def ready(self) -> None:
        from cimaise.core import demo_data, facts, panels  # noqa: F401  (registries)
        from cimaise.core.services import roles_sync_after_migrate

        panels.register()
        post_migrate.connect(roles_sync_after_migrate, dispatch_uid="cimaise.core.roles_sync")
