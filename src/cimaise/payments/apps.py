from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "cimaise.payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from cimaise.payments import (  # noqa: F401  (registries)
            demo_data,
            facts,
            facts_reconciliation,
            panels,
            roles,
            roles_reconciliation,
        )

        panels.register()
