from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "cimaise.payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from cimaise.payments import facts, roles  # noqa: F401  (registries)
